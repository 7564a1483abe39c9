/**
 * The repository allowlist: which `owner/repo` pairs this server may touch at all, for reads and
 * writes alike. Patterns are `owner/repo`, with `*` matching any run of characters inside one
 * segment (`octo-org/*`, `octo-org/api-*`), or a lone `*` for every repository the token can reach.
 * GitHub names are case-insensitive, and so is matching.
 */

export const OWNER_PATTERN = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$/;
export const REPO_PATTERN = /^(?!\.{1,2}$)[A-Za-z0-9._-]{1,100}$/;
const SEGMENT_GLOB = /^[A-Za-z0-9._*-]{1,100}$/;

export class AllowlistPatternError extends Error {}

interface CompiledPattern {
  source: string;
  owner: RegExp;
  repo: RegExp;
  /** The owner when it has no wildcard (so a search can be narrowed to it). */
  literalOwner: string | undefined;
  /** `owner/repo` when neither segment has a wildcard. */
  literalRepo: string | undefined;
}

export class RepoAllowlist {
  readonly patterns: readonly string[];
  readonly allowsAll: boolean;
  private readonly compiled: CompiledPattern[];

  constructor(patterns: readonly string[]) {
    const cleaned = patterns.map((p) => p.trim()).filter(Boolean);
    this.allowsAll = cleaned.length === 0 || cleaned.some((p) => p === "*" || p === "*/*");
    this.patterns = this.allowsAll ? ["*"] : cleaned;
    this.compiled = this.allowsAll ? [] : cleaned.map(compile);
  }

  allows(owner: string, repo: string): boolean {
    if (this.allowsAll) return true;
    if (!OWNER_PATTERN.test(owner) || !REPO_PATTERN.test(repo)) return false;
    return this.compiled.some((p) => p.owner.test(owner) && p.repo.test(repo));
  }

  /** Whether any repository of `owner` could be allowed (for `user:`/`org:` search qualifiers). */
  mayAllowOwner(owner: string): boolean {
    return this.allowsAll || this.compiled.some((p) => p.owner.test(owner));
  }

  allowsFullName(fullName: string | null | undefined): boolean {
    const parsed = parseFullName(fullName);
    return parsed !== undefined && this.allows(parsed.owner, parsed.repo);
  }

  /**
   * Search qualifiers that narrow a query to the allowed repositories, or undefined when some
   * pattern has a wildcard owner (then only filtering the results can enforce the list).
   */
  searchQualifiers(): string[] | undefined {
    if (this.allowsAll) return [];
    const qualifiers = new Set<string>();
    for (const p of this.compiled) {
      if (p.literalRepo) qualifiers.add(`repo:${p.literalRepo}`);
      else if (p.literalOwner) qualifiers.add(`user:${p.literalOwner}`);
      else return undefined;
    }
    // A repo: qualifier is redundant (and would be OR-ed with the user: one anyway) when its owner is
    // already covered by a user: qualifier.
    const owners = new Set([...qualifiers].filter((q) => q.startsWith("user:")).map((q) => q.slice(5).toLowerCase()));
    return [...qualifiers].filter(
      (q) => !(q.startsWith("repo:") && owners.has(q.slice(5).split("/")[0]!.toLowerCase())),
    );
  }
}

function compile(source: string): CompiledPattern {
  const parts = source.split("/");
  if (parts.length !== 2 || !parts[0] || !parts[1]) {
    throw new AllowlistPatternError(
      `repository pattern ${JSON.stringify(source)} must look like owner/repo or owner/*`,
    );
  }
  const [owner, repo] = parts as [string, string];
  for (const segment of [owner, repo]) {
    if (!SEGMENT_GLOB.test(segment)) {
      throw new AllowlistPatternError(
        `repository pattern ${JSON.stringify(source)} may only contain letters, digits, '.', '_', '-' and '*'`,
      );
    }
  }
  if (!owner.includes("*") && !OWNER_PATTERN.test(owner)) {
    throw new AllowlistPatternError(`repository pattern ${JSON.stringify(source)} has an invalid owner name`);
  }
  return {
    source,
    owner: globToRegExp(owner),
    repo: globToRegExp(repo),
    literalOwner: owner.includes("*") ? undefined : owner,
    literalRepo: owner.includes("*") || repo.includes("*") ? undefined : `${owner}/${repo}`,
  };
}

function globToRegExp(glob: string): RegExp {
  const body = glob
    .split("*")
    .map((part) => part.replace(/[.]/g, "\\."))
    .join("[A-Za-z0-9._-]*");
  return new RegExp(`^${body}$`, "i");
}

export function parseFullName(fullName: string | null | undefined): { owner: string; repo: string } | undefined {
  if (!fullName) return undefined;
  const parts = fullName.split("/");
  if (parts.length !== 2) return undefined;
  const [owner, repo] = parts as [string, string];
  return OWNER_PATTERN.test(owner) && REPO_PATTERN.test(repo) ? { owner, repo } : undefined;
}

/** `owner/repo` from an API URL such as `https://api.github.com/repos/o/r` (search results carry these). */
export function fullNameFromRepositoryUrl(url: string | null | undefined): string | undefined {
  if (!url) return undefined;
  const match = /\/repos\/([^/]+)\/([^/?#]+)\/?$/.exec(url);
  return match ? `${decodeURIComponent(match[1]!)}/${decodeURIComponent(match[2]!)}` : undefined;
}
