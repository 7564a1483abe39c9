import type { RepoAllowlist } from "./allowlist.js";

/** GitHub rejects search queries longer than this. */
export const MAX_SEARCH_QUERY_LENGTH = 256;

const QUALIFIER = /(^|\s)(-?)(repo|user|org|owner):("[^"]*"|\S+)/gi;

export type ScopeResult =
  | { ok: true; query: string; narrowed: boolean }
  | { ok: false; refused: string; qualifier: string };

/**
 * Narrows a search query to the allowlist. A query that names a repository or owner outside the
 * list is refused outright (the model learns why instead of getting silently empty results); a
 * query without its own scope gets `repo:`/`user:` qualifiers appended when they fit GitHub's
 * length limit. Results must still be filtered afterwards: qualifiers only make the search useful,
 * the filter is what enforces the list.
 */
export function scopeSearchQuery(query: string, allowlist: RepoAllowlist): ScopeResult {
  if (allowlist.allowsAll) return { ok: true, query, narrowed: false };
  let hasOwnScope = false;
  for (const match of query.matchAll(QUALIFIER)) {
    const negated = match[2] === "-";
    const kind = match[3]!.toLowerCase();
    const value = match[4]!.replace(/^"|"$/g, "");
    if (negated) continue;
    if (kind === "repo") {
      const [owner, repo] = value.split("/");
      if (!owner || !repo || !allowlist.allows(owner, repo)) {
        return { ok: false, refused: value, qualifier: `repo:${value}` };
      }
    } else if (!allowlist.mayAllowOwner(value)) {
      return { ok: false, refused: value, qualifier: `${kind}:${value}` };
    }
    hasOwnScope = true;
  }
  if (hasOwnScope) return { ok: true, query, narrowed: false };
  const qualifiers = allowlist.searchQualifiers();
  if (!qualifiers || qualifiers.length === 0) return { ok: true, query, narrowed: false };
  const scoped = `${query.trim()} ${qualifiers.join(" ")}`;
  if (scoped.length > MAX_SEARCH_QUERY_LENGTH) return { ok: true, query, narrowed: false };
  return { ok: true, query: scoped, narrowed: true };
}
