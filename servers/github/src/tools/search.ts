import { defineTool, type Tool, ToolError } from "@portside/shared";
import { z } from "zod";
import { fullNameFromRepositoryUrl, type RepoAllowlist } from "../github/allowlist.js";
import type { GitHubClient } from "../github/client.js";
import { scopeSearchQuery } from "../github/search-scope.js";
import { type IssueLike, issueSummary, type RepoLike, repoSummary } from "../github/shapes.js";
import { cleanText } from "../github/text.js";
import {
  compact,
  cursorArg,
  GITHUB_TIMEOUT_MS,
  type GitHubDeps,
  given,
  jsonText,
  pager,
  perPageArg,
  READS,
} from "./common.js";

const queryArg = z
  .string()
  .trim()
  .refine((q) => q.length >= 1 && q.length <= 256, "must be 1 to 256 characters (GitHub's limit)")
  .describe("GitHub search syntax");
const orderArg = z.enum(["asc", "desc"]).optional();

/** Applies the allowlist to a query, or refuses it with the qualifier that broke the rule. */
function scoped(deps: GitHubDeps, query: string): { query: string; narrowed: boolean } {
  const result = scopeSearchQuery(query, deps.allowlist);
  if (!result.ok) {
    throw new ToolError(
      "permission_denied",
      `The query names ${result.qualifier}, which is outside this server's repository allowlist.`,
      {
        hint: `Search only within: ${deps.allowlist.patterns.join(", ")}. Leave repo:/org:/user: out and the server scopes the query itself.`,
        details: { argument: "query" },
      },
    );
  }
  return result;
}

interface SearchAnswer<T> {
  total_count: number;
  incomplete_results?: boolean;
  items: T[];
}

/** Keeps only results from allowed repositories; counts the rest so the model knows something was dropped. */
function allowedOnly<T>(allowlist: RepoAllowlist, items: T[], fullName: (item: T) => string | undefined) {
  if (allowlist.allowsAll) return { items, dropped: 0 };
  const kept = items.filter((item) => allowlist.allowsFullName(fullName(item)));
  return { items: kept, dropped: items.length - kept.length };
}

type SearchApi = GitHubClient["octokit"]["rest"]["search"];
type Order = "asc" | "desc";

/** What sets one search tool apart from the others; paging, scoping and the answer are shared. */
interface SearchKind<S extends string, R> {
  name: string;
  title: string;
  description: string;
  /** GitHub's sort orders for this kind; absent where it offers none (then `order` is absent too). */
  sorts?: readonly [S, ...S[]];
  /** The cursor scope prefix and the phrase for errors. */
  scope: string;
  what: string;
  mediaType?: { format: string };
  call: (
    search: SearchApi,
    params: { q: string; sort?: S; order?: Order; per_page?: number; mediaType?: { format: string } } & {
      request: { signal: AbortSignal };
    },
  ) => Promise<{ data: unknown; url: string; headers: Record<string, string | number | undefined> }>;
  /**
   * The repository a hit belongs to. Given, the query is confined to the allowlist and hits from
   * elsewhere are dropped; absent (users), there is no repository to confine.
   */
  repoOf?: (item: R) => string | undefined;
  shape: (item: R) => unknown;
}

function searchTool<S extends string = never, R = unknown>(deps: GitHubDeps, kind: SearchKind<S, R>): Tool {
  const sortArgs = kind.sorts ? { sort: z.enum(kind.sorts).optional(), order: orderArg } : {};
  return defineTool({
    name: kind.name,
    timeoutMs: GITHUB_TIMEOUT_MS,
    title: kind.title,
    description: kind.description,
    input: z.object({ query: queryArg, ...sortArgs, perPage: perPageArg, cursor: cursorArg }),
    annotations: READS,
    async handler(args, ctx) {
      const { sort, order } = args as { sort?: S; order?: Order };
      const { repoOf } = kind;
      const query = repoOf ? scoped(deps, args.query).query : args.query;
      let dropped = 0;
      let total = 0;
      const list = pager(deps, ctx, args.cursor);
      const page = await list({
        scope: `${kind.scope}:${query}`,
        what: kind.what,
        ...(kind.mediaType ? { mediaType: kind.mediaType } : {}),
        first: () =>
          kind.call(deps.client.octokit.rest.search, {
            q: query,
            ...given({ sort, order, per_page: args.perPage }),
            ...(kind.mediaType ? { mediaType: kind.mediaType } : {}),
            request: { signal: ctx.signal },
          }),
        items: (data) => {
          const answer = data as SearchAnswer<R>;
          total = answer.total_count;
          if (!repoOf) return answer.items;
          const filtered = allowedOnly(deps.allowlist, answer.items, repoOf);
          dropped = filtered.dropped;
          return filtered.items;
        },
        shape: kind.shape,
      });
      return {
        text: jsonText(
          compact({
            query,
            totalCount: total,
            items: page.items,
            droppedOutsideAllowlist: dropped || undefined,
            nextCursor: page.nextCursor,
          }),
        ),
        untrusted: true,
      };
    },
  });
}

export const searchRepositories = (deps: GitHubDeps): Tool =>
  searchTool(deps, {
    name: "search_repositories",
    title: "Search repositories",
    description:
      "Search repositories (e.g. `topic:cli language:go stars:>100`). Only allowed repositories are searched and returned.",
    sorts: ["stars", "forks", "help-wanted-issues", "updated"],
    scope: "search-repos",
    what: "searching repositories",
    call: (search, params) => search.repos(params),
    repoOf: (repo: RepoLike) => repo.full_name,
    shape: repoSummary,
  });

export const searchIssues = (deps: GitHubDeps): Tool =>
  searchTool(deps, {
    name: "search_issues",
    title: "Search issues and pull requests",
    description:
      "Search issues and pull requests across allowed repositories (e.g. `is:issue is:open label:bug`, `is:pr author:me`). " +
      "Results outside the allowlist are dropped.",
    sorts: ["comments", "reactions", "created", "updated"],
    scope: "search-issues",
    what: "searching issues",
    call: (search, params) => search.issuesAndPullRequests(params),
    repoOf: (issue: IssueLike) => fullNameFromRepositoryUrl(issue.repository_url),
    shape: (issue) => ({ repo: fullNameFromRepositoryUrl(issue.repository_url), ...issueSummary(issue) }),
  });

interface CodeHit {
  name: string;
  path: string;
  sha: string;
  html_url?: string;
  repository: { full_name: string };
  text_matches?: Array<{ fragment?: string; property?: string }>;
}

export const searchCode = (deps: GitHubDeps): Tool =>
  searchTool(deps, {
    name: "search_code",
    title: "Search code",
    description:
      "Search code in allowed repositories (e.g. `parseConfig language:ts`, `path:src/ extension:go`). " +
      "Returns paths with matching fragments; read whole files with get_file_contents.",
    scope: "search-code",
    what: "searching code",
    mediaType: { format: "text-match" },
    call: (search, params) => search.code(params),
    repoOf: (hit: CodeHit) => hit.repository?.full_name,
    shape: (hit) =>
      compact({
        repo: hit.repository.full_name,
        path: cleanText(hit.path),
        sha: hit.sha,
        fragments: (hit.text_matches ?? [])
          .filter((m) => m.property === "content" && m.fragment)
          .slice(0, 3)
          .map((m) => cleanText(m.fragment).slice(0, 600)),
      }),
  });

interface UserHit {
  login: string;
  type?: string;
  html_url?: string;
}

export const searchUsers = (deps: GitHubDeps): Tool =>
  searchTool(deps, {
    name: "search_users",
    title: "Search users",
    description: "Search GitHub users and organizations (e.g. `location:berlin language:rust`, `type:org`).",
    sorts: ["followers", "repositories", "joined"],
    scope: "search-users",
    what: "searching users",
    call: (search, params) => search.users(params),
    shape: (user: UserHit) => compact({ login: user.login, type: user.type, url: user.html_url }),
  });
