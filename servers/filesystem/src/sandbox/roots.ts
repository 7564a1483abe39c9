import { fileURLToPath } from "node:url";
import { isWithin } from "./policy.js";

/**
 * The effective sandbox under MCP roots: each client root that lies inside an operator directory,
 * and each operator directory that lies inside a client root. A client can narrow access this way,
 * never widen it. All paths are real (symlink-free) absolute paths.
 */
export function intersectRoots(operator: readonly string[], client: readonly string[]): string[] {
  const out: string[] = [];
  for (const c of client) {
    for (const o of operator) {
      if (isWithin(c, o)) out.push(c);
      else if (isWithin(o, c)) out.push(o);
    }
  }
  return outermost(out);
}

/** Drops duplicates and directories nested in another one of the list, keeping the first order. */
export function outermost(paths: readonly string[]): string[] {
  const unique = [...new Set(paths)];
  return unique.filter((p) => !unique.some((q) => q !== p && isWithin(p, q)));
}

/** The local path of a `file://` root URI, or undefined for any other kind of root. */
export function rootUriToPath(uri: string): string | undefined {
  if (!uri.startsWith("file://")) return undefined;
  try {
    return fileURLToPath(uri);
  } catch {
    return undefined;
  }
}
