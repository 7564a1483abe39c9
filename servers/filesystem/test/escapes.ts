/** Every way out of the sandbox a hostile model could try, shared by the unit and integration suites. */
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import type { SandboxRule } from "../src/sandbox/errors.js";
import type { Layout } from "./helpers.js";

export type Escape = [description: string, path: (l: Layout) => string, rule: SandboxRule];

/** Paths that must not reach a file outside, whatever tool they are given to. */
export const FILE_ESCAPES: Escape[] = [
  [".. traversal", () => "../outside/secret.txt", "outside_allowed_directories"],
  ["absolute path outside", (l) => join(l.outside, "secret.txt"), "outside_allowed_directories"],
  ["absolute path climbing with ..", (l) => `${l.allowed}/sub/../../outside/secret.txt`, "outside_allowed_directories"],
  ["prefix look-alike", (l) => join(l.evil, "secret.txt"), "outside_allowed_directories"],
  ["file:// URL outside", (l) => pathToFileURL(join(l.outside, "secret.txt")).href, "outside_allowed_directories"],
  ["~", () => "~/.bashrc", "outside_allowed_directories"],
  ["/etc/passwd", () => "/etc/passwd", "outside_allowed_directories"],
  ["link to a file outside", () => "link-out", "symlink_escape"],
  ["through a link to a directory outside", () => "dirlink-out/secret.txt", "symlink_escape"],
  ["symlinked parent", () => "sub/parent-out/secret.txt", "symlink_escape"],
  ["link chain ending outside", () => "chain-1", "symlink_escape"],
  ["dangling link pointing outside", () => "dangling-out", "symlink_escape"],
  ["NUL byte", () => "file.txt\u0000/../../outside/secret.txt", "nul_byte"],
  ["control character", () => "file.txt\n../outside/secret.txt", "control_character"],
  ["bidi override", () => "\u202e../outside/secret.txt", "invisible_character"],
  ["backslashes", () => "..\\outside\\secret.txt", "backslash"],
  ["fullwidth dots", () => "\uff0e\uff0e/outside/secret.txt", "unicode_lookalike"],
  ["division slash", () => "..\u2215outside\u2215secret.txt", "unicode_lookalike"],
  ["denied name", () => ".env", "denied_by_pattern"],
  ["link to a denied name", () => "link-env", "denied_by_pattern"],
];

/** Paths that must not reach a directory outside. */
export const DIRECTORY_ESCAPES: Escape[] = [
  ["..", () => "..", "outside_allowed_directories"],
  ["the outside directory", (l) => l.outside, "outside_allowed_directories"],
  ["prefix look-alike", (l) => l.evil, "outside_allowed_directories"],
  ["the filesystem root", () => "/", "outside_allowed_directories"],
  ["home", () => "~", "outside_allowed_directories"],
  ["link to a directory outside", () => "dirlink-out", "symlink_escape"],
  ["symlinked parent", () => "sub/parent-out", "symlink_escape"],
  ["below a symlinked parent", () => "sub/parent-out/nested", "symlink_escape"],
  ["backslashes", () => "..\\outside", "backslash"],
  ["fullwidth dots", () => "\uff0e\uff0e", "unicode_lookalike"],
];

/** Destinations that must not land outside (a link inside may itself be replaced, so none here). */
export const DESTINATION_ESCAPES: Escape[] = [
  [".. traversal", () => "../outside/planted.txt", "outside_allowed_directories"],
  ["absolute path outside", (l) => join(l.outside, "planted.txt"), "outside_allowed_directories"],
  ["prefix look-alike", (l) => join(l.evil, "planted.txt"), "outside_allowed_directories"],
  ["through a link to a directory outside", () => "dirlink-out/planted.txt", "symlink_escape"],
  ["symlinked parent", () => "sub/parent-out/planted.txt", "symlink_escape"],
  ["below a dangling link outside", () => "dangling-out/planted.txt", "symlink_escape"],
  ["new directory through a link outside", () => "dirlink-out/newdir/planted.txt", "symlink_escape"],
  ["backslashes", () => "..\\outside\\planted.txt", "backslash"],
  ["NUL byte", () => "planted.txt\u0000", "nul_byte"],
];
