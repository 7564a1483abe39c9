import picomatch from "picomatch";

/** On macOS and Windows, `.ENV` opens `.env`: globs that guard access must match either way. */
export const CASE_INSENSITIVE = process.platform === "darwin" || process.platform === "win32";

/**
 * A matcher for relative paths in the style of .gitignore: a pattern without '/' matches an
 * entry's name at any depth (`*.pem`, `.env`), any other pattern matches the whole relative path
 * (`secrets/**`). Dot files match like any other.
 */
export function relativeGlobs(patterns: readonly string[]): ((rel: string) => boolean) | undefined {
  const names = patterns.filter((p) => !p.includes("/"));
  const paths = patterns.filter((p) => p.includes("/"));
  const byName = names.length ? picomatch(names, { dot: true, nocase: CASE_INSENSITIVE }) : undefined;
  const byPath = paths.length ? picomatch(paths, { dot: true, nocase: CASE_INSENSITIVE }) : undefined;
  if (!byName && !byPath) return undefined;
  return (rel) => {
    if (byPath?.(rel)) return true;
    if (!byName) return false;
    const slash = rel.lastIndexOf("/");
    return byName(slash === -1 ? rel : rel.slice(slash + 1));
  };
}
