import ignore, { type Ignore } from "ignore";

interface Scope {
  /** For a .gitignore above the walk's start: the path from its directory down to the start. */
  prefix?: string;
  ig: Ignore;
}

/**
 * The .gitignore files that apply to a walk: those of the directories above its start (up to the
 * repository root) and those found on the way down. Each file's rules apply to paths relative to
 * its own directory, as git applies them.
 */
export class GitignoreRules {
  private readonly above: Scope[] = [];
  private readonly within = new Map<string, Ignore>();

  /** A .gitignore in a directory above the start; `prefix` is the path from there to the start. */
  addAbove(prefix: string, content: string): void {
    this.above.push({ prefix, ig: ignore({ allowRelativePaths: true }).add(content) });
  }

  /** A .gitignore in the walked directory `dirRel` ('' for the start). */
  addWithin(dirRel: string, content: string): void {
    this.within.set(dirRel, ignore({ allowRelativePaths: true }).add(content));
  }

  /** Whether the entry at `rel` (relative to the start) is ignored. */
  ignores(rel: string, isDirectory: boolean): boolean {
    const suffix = isDirectory ? "/" : "";
    for (const scope of this.above) {
      const path = scope.prefix ? `${scope.prefix}/${rel}` : rel;
      if (scope.ig.ignores(path + suffix)) return true;
    }
    if (this.within.size === 0) return false;
    const own = this.within.get("");
    if (own?.ignores(rel + suffix)) return true;
    for (let slash = rel.indexOf("/"); slash !== -1; slash = rel.indexOf("/", slash + 1)) {
      const scope = this.within.get(rel.slice(0, slash));
      if (scope?.ignores(rel.slice(slash + 1) + suffix)) return true;
    }
    return false;
  }
}
