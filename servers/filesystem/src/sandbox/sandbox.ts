import { lstatSync } from "node:fs";
import { lstat, readdir, readlink, realpath, stat } from "node:fs/promises";
import { homedir } from "node:os";
import { posix } from "node:path";
import type { DenyList } from "./deny.js";
import { denied, errnoOf, FsError } from "./errors.js";
import { checkPathText, isWithin, relativeTo, toAbsolute } from "./policy.js";
import { intersectRoots, outermost } from "./roots.js";

/** Linux gives up after 40 links in one lookup; so does the sandbox. */
const MAX_SYMLINK_HOPS = 40;

export interface SandboxRoot {
  /** The directory's real path (no symbolic links in it). */
  real: string;
  /** Other absolute spellings that lead to it (the path as the operator or client gave it). */
  aliases: readonly string[];
}

export interface ResolvedPath {
  /** The path text the caller sent. */
  requested: string;
  /** Absolute real path: symbolic links resolved (all of them, or all but the last one). */
  real: string;
  /** The allowed directory that holds `real`. */
  root: string;
  /** `real` relative to `root` ('' for the root itself). */
  rel: string;
  exists: boolean;
  /** The deepest existing directory on the way to `real`… */
  existing: string;
  /** …and the names below it that do not exist yet (empty when `real` exists). */
  missing: string[];
}

export interface ResolveOptions {
  /** The tool argument the path came from, for error messages. */
  argument: string;
  /**
   * Resolve a symbolic link in the last component too (read, write through it). When false, the
   * result names the entry itself (move, delete it), and an allowed directory itself is refused.
   */
  followFinal?: boolean;
}

interface RealPath {
  real: string;
  exists: boolean;
  existing: string;
  missing: string[];
}

/**
 * The allowed directories and the rules for reaching into them. `resolve` turns any path text into
 * a real path inside an allowed directory or refuses it with `permission_denied` naming the rule.
 * The result is checked again when the file is opened (see pinned.ts), so a link swapped in between
 * cannot redirect the operation.
 */
export class Sandbox {
  readonly roots: readonly SandboxRoot[];
  readonly deny: DenyList;
  private readonly home: string;
  /** Set when the effective sandbox is empty because the client's roots missed every directory. */
  private readonly emptyReason: string | undefined;

  constructor(roots: readonly SandboxRoot[], deny: DenyList, options: { home?: string; emptyReason?: string } = {}) {
    this.roots = roots;
    this.deny = deny;
    this.home = options.home ?? homedir();
    this.emptyReason = options.emptyReason;
  }

  /**
   * Builds the sandbox from the operator's directories. Directories that do not exist or are not
   * directories are skipped and reported; the caller decides whether an empty result is fatal.
   */
  static async fromDirectories(
    dirs: readonly string[],
    deny: DenyList,
    options: { home?: string; cwd?: string } = {},
  ): Promise<{ sandbox: Sandbox; skipped: Array<{ dir: string; reason: string }> }> {
    const home = options.home ?? homedir();
    const cwd = options.cwd ?? process.cwd();
    const skipped: Array<{ dir: string; reason: string }> = [];
    const found: SandboxRoot[] = [];
    for (const dir of dirs) {
      const root = await realRoot(dir, home, cwd).catch((error: unknown) => {
        skipped.push({ dir, reason: error instanceof Error ? error.message : String(error) });
        return undefined;
      });
      if (root) found.push(root);
    }
    return { sandbox: new Sandbox(mergeRoots(found), deny, { home }), skipped };
  }

  /** The real paths of the allowed directories. */
  get directories(): string[] {
    return this.roots.map((r) => r.real);
  }

  /**
   * The sandbox narrowed to the client's roots (local paths, as the client sent them). Roots that
   * do not exist are ignored. The result never reaches outside this sandbox.
   */
  async narrow(clientPaths: readonly string[]): Promise<Sandbox> {
    const given: SandboxRoot[] = [];
    for (const path of clientPaths) {
      const root = await realRoot(path, this.home, "/").catch(() => undefined);
      if (root) given.push(root);
    }
    const kept = intersectRoots(
      this.directories,
      given.map((r) => r.real),
    );
    const roots = kept.map((real) => ({
      real,
      aliases: [
        ...(this.roots.find((r) => r.real === real)?.aliases ?? []),
        ...(given.find((r) => r.real === real)?.aliases ?? []),
      ],
    }));
    const emptyReason =
      roots.length === 0
        ? `The client's roots (${clientPaths.join(", ") || "none"}) do not overlap the allowed directories (${this.directories.join(", ")}).`
        : undefined;
    return new Sandbox(roots, this.deny, { home: this.home, ...(emptyReason ? { emptyReason } : {}) });
  }

  /** The allowed directory holding this real path, if any. */
  rootOf(real: string): string | undefined {
    let best: string | undefined;
    for (const root of this.roots) {
      if (isWithin(real, root.real) && (best === undefined || root.real.length > best.length)) best = root.real;
    }
    return best;
  }

  containsReal(real: string): boolean {
    return this.rootOf(real) !== undefined;
  }

  /** Whether a real path inside the sandbox is denied by the operator's patterns. */
  isDenied(real: string): boolean {
    const root = this.rootOf(real);
    return root === undefined || this.deny.denies(real, root);
  }

  /** Refuses every path when the sandbox is empty; otherwise does nothing. */
  assertNotEmpty(argument: string): void {
    if (this.roots.length === 0) {
      throw denied("no_allowed_directories", argument, this.emptyReason ?? "No directories are allowed.");
    }
  }

  /**
   * Turns path text into a real path inside the sandbox, or refuses it. Symbolic links are followed
   * only while they stay inside; a missing tail (a file about to be created) is allowed, but a
   * dangling link that points outside is refused.
   */
  async resolve(raw: string, options: ResolveOptions): Promise<ResolvedPath> {
    const { argument } = options;
    this.assertNotEmpty(argument);
    checkPathText(raw, argument);
    const absolute = toAbsolute(raw, argument, this.home, () => this.relativeBase(raw));
    const lexical = this.lexicalReal(absolute);
    if (lexical === undefined) {
      throw denied(
        "outside_allowed_directories",
        argument,
        `\`${argument}\` (${JSON.stringify(raw)}) is outside the allowed directories.`,
      );
    }
    const lexicalRoot = this.rootOf(lexical) as string;
    if (this.deny.denies(lexical, lexicalRoot)) throw deniedByPattern(argument, raw);

    let found: RealPath;
    if (options.followFinal === false) {
      if (lexical === lexicalRoot) {
        throw denied(
          "allowed_directory_itself",
          argument,
          `\`${argument}\` (${JSON.stringify(raw)}) is an allowed directory itself.`,
        );
      }
      const parent = await this.realOf(posix.dirname(lexical), 0, argument, raw);
      const name = posix.basename(lexical);
      const real = posix.join(parent.real, name);
      const exists = parent.exists && (await lstat(real).then(() => true, missingIsFalse));
      found = exists
        ? { real, exists, existing: real, missing: [] }
        : { real, exists, existing: parent.existing, missing: [...parent.missing, name] };
    } else {
      found = await this.realOf(lexical, 0, argument, raw);
    }
    const root = this.rootOf(found.real);
    if (root === undefined) throw symlinkEscape(argument, raw);
    if (options.followFinal === false && found.real === root) {
      throw denied(
        "allowed_directory_itself",
        argument,
        `\`${argument}\` (${JSON.stringify(raw)}) is an allowed directory itself.`,
      );
    }
    if (this.deny.denies(found.real, root)) throw deniedByPattern(argument, raw);
    return { requested: raw, root, rel: relativeTo(found.real, root), ...found };
  }

  /** Maps an absolute path (possibly spelled through a root's alias) onto a root's real path. */
  private lexicalReal(absolute: string): string | undefined {
    let best: { from: string; to: string } | undefined;
    for (const root of this.roots) {
      for (const spelling of [root.real, ...root.aliases]) {
        if (isWithin(absolute, spelling) && (best === undefined || spelling.length > best.from.length)) {
          best = { from: spelling, to: root.real };
        }
      }
    }
    if (!best) return undefined;
    const rest = relativeTo(absolute, best.from);
    return rest === "" ? best.to : posix.join(best.to, rest);
  }

  /** Relative paths are taken from the first allowed directory in which they exist, else the first. */
  private relativeBase(raw: string): string {
    const first = this.roots[0] as SandboxRoot;
    if (this.roots.length === 1) return first.real;
    // Only existence is asked here; the chosen path is resolved and checked like any other.
    for (const root of this.roots) {
      if (existsQuietly(posix.resolve(root.real, raw))) return root.real;
    }
    return first.real;
  }

  /** The real path of a lexical path inside the sandbox, following links only while they stay in. */
  private async realOf(path: string, hops: number, argument: string, raw: string): Promise<RealPath> {
    try {
      const real = await realpath(path);
      return { real, exists: true, existing: real, missing: [] };
    } catch (error) {
      if (errnoOf(error) !== "ENOENT") throw error;
    }
    const parentPath = posix.dirname(path);
    if (parentPath === path) throw error404(path);
    const parent = await this.realOf(parentPath, hops, argument, raw);
    const name = posix.basename(path);
    const candidate = posix.join(parent.real, name);
    if (!this.containsReal(candidate)) throw symlinkEscape(argument, raw);
    if (!parent.exists) {
      return { real: candidate, exists: false, existing: parent.existing, missing: [...parent.missing, name] };
    }
    const info = await lstat(candidate).catch((error: unknown) => {
      if (errnoOf(error) === "ENOENT") return undefined;
      throw error;
    });
    if (info === undefined) {
      // The same name in another Unicode normalisation (macOS writes NFD, models send NFC)?
      const equivalent = await unicodeEquivalent(parent.real, name, argument);
      if (equivalent !== undefined) return this.realOf(posix.join(parent.real, equivalent), hops + 1, argument, raw);
      return { real: candidate, exists: false, existing: parent.real, missing: [name] };
    }
    if (!info.isSymbolicLink()) {
      // It appeared after realpath looked; resolve it afresh.
      const real = await realpath(candidate);
      return { real, exists: true, existing: real, missing: [] };
    }
    // A dangling link: follow it by hand, but only while every step stays inside.
    if (hops >= MAX_SYMLINK_HOPS) {
      throw new FsError("invalid_argument", `\`${argument}\` has too many levels of symbolic links.`, {
        argument,
        hint: "The path goes through a loop or a long chain of symbolic links; use a direct path.",
      });
    }
    const target = posix.resolve(parent.real, await readlink(candidate));
    if (this.lexicalReal(target) === undefined) throw symlinkEscape(argument, raw);
    return this.realOf(this.lexicalReal(target) as string, hops + 1, argument, raw);
  }
}

async function realRoot(dir: string, home: string, cwd: string): Promise<SandboxRoot> {
  const expanded = dir === "~" || dir.startsWith("~/") ? posix.join(home, dir.slice(1)) : dir;
  const given = posix.resolve(cwd, expanded);
  const real = await realpath(given).catch((error: unknown) => {
    throw new Error(errnoOf(error) === "ENOENT" ? "does not exist" : `cannot be opened (${errnoOf(error) ?? error})`);
  });
  const info = await stat(real);
  if (!info.isDirectory()) throw new Error("is not a directory");
  return { real, aliases: given === real ? [] : [given] };
}

function mergeRoots(roots: readonly SandboxRoot[]): SandboxRoot[] {
  const kept = outermost(roots.map((r) => r.real));
  return kept.map((real) => ({
    real,
    aliases: [...new Set(roots.filter((r) => r.real === real).flatMap((r) => r.aliases))],
  }));
}

function missingIsFalse(error: unknown): false {
  if (errnoOf(error) === "ENOENT" || errnoOf(error) === "ENOTDIR") return false;
  throw error;
}

/**
 * The one entry of `dir` whose name equals `name` after NFC normalisation, when `name` itself does
 * not exist. Only non-ASCII names can differ this way, so ASCII names cost nothing.
 */
async function unicodeEquivalent(dir: string, name: string, argument: string): Promise<string | undefined> {
  if (/^[\x00-\x7f]*$/.test(name)) return undefined;
  const wanted = name.normalize("NFC");
  const names = await readdir(dir).catch(() => [] as string[]);
  const matches = names.filter((entry) => entry !== name && entry.normalize("NFC") === wanted);
  if (matches.length > 1) {
    throw new FsError(
      "invalid_argument",
      `\`${argument}\`: ${JSON.stringify(name)} matches several entries that differ only in Unicode normalisation.`,
      {
        argument,
        hint: "List the directory and pass the exact name of the entry you mean.",
      },
    );
  }
  return matches[0];
}

/** A synchronous lstat is one cheap syscall; it only decides which root a relative path is taken from. */
function existsQuietly(path: string): boolean {
  try {
    return lstatSync(path, { throwIfNoEntry: false }) !== undefined;
  } catch {
    return false;
  }
}

function error404(path: string): Error {
  return Object.assign(new Error(`ENOENT: no such file or directory, '${path}'`), { code: "ENOENT" });
}

function symlinkEscape(argument: string, raw: string): FsError {
  return denied(
    "symlink_escape",
    argument,
    `\`${argument}\` (${JSON.stringify(raw)}) leads through a symbolic link to a place outside the allowed directories.`,
  );
}

function deniedByPattern(argument: string, raw: string): FsError {
  return denied(
    "denied_by_pattern",
    argument,
    `\`${argument}\` (${JSON.stringify(raw)}) matches a path the operator denied.`,
  );
}
