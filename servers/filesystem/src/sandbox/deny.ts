import picomatch from "picomatch";
import { CASE_INSENSITIVE, relativeGlobs } from "./glob.js";
import { relativeTo } from "./policy.js";

type Matcher = (path: string) => boolean;

/**
 * The operator's deny globs. A pattern starting with '/' matches absolute paths; a pattern without
 * a '/' matches an entry's name at any depth (`.env`); any other pattern matches the path relative
 * to the allowed directory (`secrets/**`). A path is denied when it or any of its parents matches,
 * so denying a directory denies everything in it.
 */
export class DenyList {
  readonly patterns: readonly string[];
  private readonly relative: Matcher | undefined;
  private readonly absolute: Matcher | undefined;

  constructor(patterns: readonly string[]) {
    this.patterns = patterns;
    const rel = patterns.filter((p) => !p.startsWith("/"));
    const abs = patterns.filter((p) => p.startsWith("/"));
    this.relative = relativeGlobs(rel);
    this.absolute = abs.length ? picomatch(abs, { dot: true, nocase: CASE_INSENSITIVE }) : undefined;
  }

  get empty(): boolean {
    return this.patterns.length === 0;
  }

  /** Whether `path` (absolute, inside `root`) or any directory between `root` and it is denied. */
  denies(path: string, root: string): boolean {
    if (this.empty) return false;
    const rel = relativeTo(path, root);
    if (rel === "") return this.matchesEntry("", root);
    let end = rel.indexOf("/");
    while (end !== -1) {
      if (this.matchesEntry(rel.slice(0, end), root)) return true;
      end = rel.indexOf("/", end + 1);
    }
    return this.matchesEntry(rel, root);
  }

  /**
   * Whether this one entry matches, ignoring its parents: for walks, which never descend into a
   * denied directory, so the parents were checked on the way down.
   */
  matchesEntry(rel: string, root: string): boolean {
    if (this.relative && rel !== "" && this.relative(rel)) return true;
    if (this.absolute) {
      const abs = rel === "" ? root : root === "/" ? `/${rel}` : `${root}/${rel}`;
      if (this.absolute(abs)) return true;
    }
    return false;
  }
}
