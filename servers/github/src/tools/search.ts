import { defineTool, type Tool, ToolError } from "@portside/shared";
import { z } from "zod";
import { fullNameFromRepositoryUrl, type RepoAllowlist } from "../github/allowlist.js";
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
  listPage,
  perPageArg,
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

export function searchRepositories(deps: GitHubDeps): Tool {
  return defineTool({
    name: "search_repositories",
    timeoutMs: GITHUB_TIMEOUT_MS,
    title: "Search repositories",
    description:
      "Search repositories (e.g. `topic:cli language:go stars:>100`). Only allowed repositories are searched and returned.",
    input: z.object({
      query: queryArg,
      sort: z.enum(["stars", "forks", "help-wanted-issues", "updated"]).optional(),
      order: orderArg,
      perPage: perPageArg,
      cursor: cursorArg,
    }),
    annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true },
    async handler(args, ctx) {
      const { query } = scoped(deps, args.query);
      let dropped = 0;
      let total = 0;
      const page = await listPage({
        deps,
        scope: `search-repos:${query}`,
        cursor: args.cursor,
        what: "searching repositories",
        signal: ctx.signal,
        budget: ctx.budget,
        first: () =>
          deps.client.octokit.rest.search.repos({
            q: query,
            ...given({ sort: args.sort, order: args.order, per_page: args.perPage }),
            request: { signal: ctx.signal },
          }),
        items: (data) => {
          const answer = data as SearchAnswer<RepoLike>;
          total = answer.total_count;
          const filtered = allowedOnly(deps.allowlist, answer.items, (r) => r.full_name);
          dropped = filtered.dropped;
          return filtered.items;
        },
        shape: repoSummary,
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

export function searchIssues(deps: GitHubDeps): Tool {
  return defineTool({
    name: "search_issues",
    timeoutMs: GITHUB_TIMEOUT_MS,
    title: "Search issues and pull requests",
    description:
      "Search issues and pull requests across allowed repositories (e.g. `is:issue is:open label:bug`, `is:pr author:me`). " +
      "Results outside the allowlist are dropped.",
    input: z.object({
      query: queryArg,
      sort: z.enum(["comments", "reactions", "created", "updated"]).optional(),
      order: orderArg,
      perPage: perPageArg,
      cursor: cursorArg,
    }),
    annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true },
    async handler(args, ctx) {
      const { query } = scoped(deps, args.query);
      let dropped = 0;
      let total = 0;
      const page = await listPage({
        deps,
        scope: `search-issues:${query}`,
        cursor: args.cursor,
        what: "searching issues",
        signal: ctx.signal,
        budget: ctx.budget,
        first: () =>
          deps.client.octokit.rest.search.issuesAndPullRequests({
            q: query,
            ...given({ sort: args.sort, order: args.order, per_page: args.perPage }),
            request: { signal: ctx.signal },
          }),
        items: (data) => {
          const answer = data as SearchAnswer<IssueLike>;
          total = answer.total_count;
          const filtered = allowedOnly(deps.allowlist, answer.items, (i) =>
            fullNameFromRepositoryUrl(i.repository_url),
          );
          dropped = filtered.dropped;
          return filtered.items;
        },
        shape: (issue) => ({ repo: fullNameFromRepositoryUrl(issue.repository_url), ...issueSummary(issue) }),
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

interface CodeHit {
  name: string;
  path: string;
  sha: string;
  html_url?: string;
  repository: { full_name: string };
  text_matches?: Array<{ fragment?: string; property?: string }>;
}

export function searchCode(deps: GitHubDeps): Tool {
  return defineTool({
    name: "search_code",
    timeoutMs: GITHUB_TIMEOUT_MS,
    title: "Search code",
    description:
      "Search code in allowed repositories (e.g. `parseConfig language:ts`, `path:src/ extension:go`). " +
      "Returns paths with matching fragments; read whole files with get_file_contents.",
    input: z.object({ query: queryArg, perPage: perPageArg, cursor: cursorArg }),
    annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true },
    async handler(args, ctx) {
      const { query } = scoped(deps, args.query);
      let dropped = 0;
      let total = 0;
      const mediaType = { format: "text-match" };
      const page = await listPage({
        deps,
        scope: `search-code:${query}`,
        cursor: args.cursor,
        what: "searching code",
        signal: ctx.signal,
        budget: ctx.budget,
        mediaType,
        first: () =>
          deps.client.octokit.rest.search.code({
            q: query,
            ...given({ per_page: args.perPage }),
            mediaType,
            request: { signal: ctx.signal },
          }),
        items: (data) => {
          const answer = data as SearchAnswer<CodeHit>;
          total = answer.total_count;
          const filtered = allowedOnly(deps.allowlist, answer.items, (hit) => hit.repository?.full_name);
          dropped = filtered.dropped;
          return filtered.items;
        },
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

interface UserHit {
  login: string;
  type?: string;
  html_url?: string;
}

export function searchUsers(deps: GitHubDeps): Tool {
  return defineTool({
    name: "search_users",
    timeoutMs: GITHUB_TIMEOUT_MS,
    title: "Search users",
    description: "Search GitHub users and organizations (e.g. `location:berlin language:rust`, `type:org`).",
    input: z.object({
      query: queryArg,
      sort: z.enum(["followers", "repositories", "joined"]).optional(),
      order: orderArg,
      perPage: perPageArg,
      cursor: cursorArg,
    }),
    annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true },
    async handler(args, ctx) {
      let total = 0;
      const page = await listPage({
        deps,
        scope: `search-users:${args.query}`,
        cursor: args.cursor,
        what: "searching users",
        signal: ctx.signal,
        budget: ctx.budget,
        first: () =>
          deps.client.octokit.rest.search.users({
            q: args.query,
            ...given({ sort: args.sort, order: args.order, per_page: args.perPage }),
            request: { signal: ctx.signal },
          }),
        items: (data) => {
          const answer = data as SearchAnswer<UserHit>;
          total = answer.total_count;
          return answer.items;
        },
        shape: (user) => compact({ login: user.login, type: user.type, url: user.html_url }),
      });
      return {
        text: jsonText(
          compact({ query: args.query, totalCount: total, items: page.items, nextCursor: page.nextCursor }),
        ),
        untrusted: true,
      };
    },
  });
}
