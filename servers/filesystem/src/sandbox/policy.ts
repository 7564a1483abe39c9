/**
 * Pure checks on path text, before anything touches the disk. A path that fails here is refused
 * with the rule it broke; one that passes is still checked against the allowed directories and
 * resolved through symbolic links by the sandbox.
 */
import { posix } from "node:path";
import { fileURLToPath } from "node:url";
import { denied, FsError } from "./errors.js";

/** Longest path text accepted (Linux PATH_MAX). */
export const MAX_PATH_LENGTH = 4096;

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const CONTROL = /[\u0001-\u001f\u007f-\u009f]/;
/** Zero-width, bidirectional-control and tag characters: they make a path read differently than it is. */
const INVISIBLE = /[\u00ad\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff\u{e0000}-\u{e007f}]/u;
/**
 * Characters that look like a slash or backslash. The kernel treats them as ordinary letters, but a
 * layer that folds them (a sync tool, a Windows share, a later NFKC pass) would not.
 */
const SEPARATOR_LOOKALIKE = /[\u2044\u2215\u2571\u2572\u29f5\u29f8\u29f9\u2216\ufe68\uff0f\uff3c]/;
const WINDOWS_DRIVE = /^[A-Za-z]:(?:$|[\\/])/;

/**
 * Refuses path text that could mean something other than what it shows: NUL bytes, control and
 * invisible characters, malformed Unicode, backslashes, Windows drive paths and look-alike
 * separators or dot segments.
 */
export function checkPathText(raw: string, argument: string): void {
  if (raw.length === 0) {
    throw new FsError("invalid_argument", `\`${argument}\` is empty.`, {
      argument,
      hint: "Pass a path inside one of the allowed directories (see list_allowed_directories).",
    });
  }
  if (raw.length > MAX_PATH_LENGTH) {
    throw new FsError("invalid_argument", `\`${argument}\` is longer than ${MAX_PATH_LENGTH} characters.`, {
      argument,
      hint: "Use a shorter path.",
    });
  }
  if (raw.includes("\0")) throw denied("nul_byte", argument, `\`${argument}\` contains a NUL byte.`);
  if (LONE_SURROGATE.test(raw)) {
    throw denied("invalid_unicode", argument, `\`${argument}\` contains malformed Unicode (a lone surrogate).`);
  }
  if (CONTROL.test(raw)) throw denied("control_character", argument, `\`${argument}\` contains a control character.`);
  if (INVISIBLE.test(raw)) {
    throw denied("invisible_character", argument, `\`${argument}\` contains an invisible or bidi-control character.`);
  }
  if (raw.includes("\\")) throw denied("backslash", argument, `\`${argument}\` contains a backslash.`);
  if (WINDOWS_DRIVE.test(raw)) throw denied("windows_path", argument, `\`${argument}\` is a Windows drive path.`);
  for (const component of raw.split("/")) {
    if (isLookalikeComponent(component)) {
      throw denied(
        "unicode_lookalike",
        argument,
        `\`${argument}\` has a component (${JSON.stringify(component)}) that imitates a separator or a '.'/'..' segment.`,
      );
    }
  }
}

function isLookalikeComponent(component: string): boolean {
  if (SEPARATOR_LOOKALIKE.test(component)) return true;
  // Pure ASCII needs no folding; skip the normalisation cost on the common path.
  if (/^[\x20-\x7e]*$/.test(component)) return false;
  const folded = component.normalize("NFKC");
  return folded === "." || folded === ".." || folded.includes("/") || folded.includes("\\");
}

/**
 * Turns the path text into an absolute, normalised path: `file://` URLs are decoded, `~` and `~/…`
 * expand to `home`, relative paths are joined to `base`. `..` segments are resolved lexically; the
 * caller then checks the result against the allowed directories.
 */
export function toAbsolute(raw: string, argument: string, home: string, base: () => string): string {
  let text = raw;
  if (text.startsWith("file://")) {
    try {
      text = fileURLToPath(text);
    } catch {
      throw new FsError("invalid_argument", `\`${argument}\` is not a valid file:// URL.`, {
        argument,
        hint: "Pass a plain absolute path, or a file:// URL of a local file.",
      });
    }
    checkPathText(text, argument);
  }
  if (text === "~" || text.startsWith("~/")) text = posix.join(home, text.slice(1));
  return posix.isAbsolute(text) ? posix.resolve(text) : posix.resolve(base(), text);
}

/** True when `path` is `root` or lies below it. Both must be absolute and normalised. */
export function isWithin(path: string, root: string): boolean {
  if (root === "/") return path.startsWith("/");
  return path === root || (path.startsWith(root) && path.charCodeAt(root.length) === 47) /* '/' */;
}

/** `path` relative to `root` (which contains it), '' for the root itself. */
export function relativeTo(path: string, root: string): string {
  if (path === root) return "";
  return root === "/" ? path.slice(1) : path.slice(root.length + 1);
}

/** A single directory entry name: no separator, not empty, not '.' or '..'. */
export function isPlainName(name: string): boolean {
  return name.length > 0 && name !== "." && name !== ".." && !name.includes("/") && !name.includes("\0");
}

const CLIMBING_GLOB = /(^|[/{,])\.\.($|[/},])/;
const ROOTED_GLOB = /(^|[{,])\//;

/**
 * Refuses a glob that tries to reach above the directory it is matched in. Walks never leave that
 * directory anyway; this says so clearly instead of silently matching nothing.
 */
export function checkGlob(pattern: string, argument: string): void {
  // A glob is matched against paths, which are never longer than this; a longer one is hostile or a
  // mistake, and the matcher would refuse it later with an error that names nothing.
  if (pattern.length > MAX_PATH_LENGTH) {
    throw new FsError("invalid_argument", `\`${argument}\` is longer than ${MAX_PATH_LENGTH} characters.`, {
      argument,
      hint: "Use a shorter glob, or several shorter ones.",
    });
  }
  if (pattern.includes("\0")) throw denied("nul_byte", argument, `\`${argument}\` contains a NUL byte.`);
  if (CONTROL.test(pattern))
    throw denied("control_character", argument, `\`${argument}\` contains a control character.`);
  if (CLIMBING_GLOB.test(pattern)) {
    throw denied("glob_escape", argument, `\`${argument}\` (${JSON.stringify(pattern)}) has a '..' segment.`);
  }
  if (ROOTED_GLOB.test(pattern) || pattern.startsWith("~")) {
    throw denied("glob_escape", argument, `\`${argument}\` (${JSON.stringify(pattern)}) is absolute.`);
  }
}
