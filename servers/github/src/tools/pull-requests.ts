import { defineTool, type Tool, type ToolContext, ToolError } from "@portside/shared";
import { z } from "zod";
import { type FileDiff, fileDiffFromPatch, splitUnifiedDiff } from "../github/diff.js";
import { httpStatus, ResponseTooLargeError } from "../github/errors.js";
import { type CommentLike, commentView, login, type PullLike, pullDetail, pullSummary } from "../github/shapes.js";
import { cleanText } from "../github/text.js";
import {
  assertAllowed,
  clean,
  compact,
  cursorArg,
  FULL_SHA,
  fail,
  GITHUB_LOGIN,
  GITHUB_TIMEOUT_MS,
  type GitHubDeps,
  github,
  given,
  inRepo,
  int,
  jsonText,
  matching,
  numberArg,
  ownerArg,
  pagedAnswer,
  pager,
  perPageArg,
  READS,
  renderWithBody,
  repoArg,
  requireArg,
  text,
  WRITES,
} from "./common.js";
import { diffArgs, diffPage } from "./diff-page.js";
import { bodyArg } from "./issues.js";
import { branchArg } from "./repo-write.js";

/** GitHub lists at most 3000 changed files of a pull request. */
const MAX_PR_FILES = 3000;

interface PullFile {
  filename: string;
  previous_filename?: string;
  status: string;
  additions: number;
  deletions: number;
  changes?: number;
  patch?: string;
}

export function pullRequestRead(deps: GitHubDeps): Tool {
  return defineTool({
    name: "pull_request_read",
    timeoutMs: GITHUB_TIMEOUT_MS,
    title: "Read pull requests",
    description:
      "method: list | get | diff (raw unified diff, paged per file and by size: continue with file/offset from `next`, " +
      "or pick one `path`) | files (changed files) | checks (statuses and check runs of the head) | reviews | " +
      "review_comments (inline comments). Conversation comments: issue_read with the PR number.",
    input: z.object({
      method: z.enum(["list", "get", "diff", "files", "checks", "reviews", "review_comments"]),
      owner: ownerArg,
      repo: repoArg,
      pullNumber: numberArg("Pull request number (all methods but list)").optional(),
      state: z.enum(["open", "closed", "all"]).optional().describe("list (default open)"),
      head: text(300).optional().describe("list: `user:branch`"),
      base: text(255).optional().describe("list: base branch"),
      sort: z.enum(["created", "updated", "popularity", "long-running"]).optional(),
      direction: z.enum(["asc", "desc"]).optional(),
      bodyOffset: int(0).optional().describe("get: continue a long description from here"),
      ...diffArgs,
      perPage: perPageArg,
      cursor: cursorArg,
    }),
    annotations: READS,
    async handler(args, ctx) {
      const { method } = args;
      const { owner, repo, name, request } = inRepo(deps, args, ctx.signal);
      const rest = deps.client.octokit.rest.pulls;
      const paging = given({ per_page: args.perPage });
      const list = pager(deps, ctx, args.cursor);

      if (method === "list") {
        const page = await list({
          scope: `pulls:${name}`,
          what: `listing pull requests of ${name}`,
          first: () =>
            rest.list({
              owner,
              repo,
              ...given({
                state: args.state,
                head: args.head,
                base: args.base,
                sort: args.sort,
                direction: args.direction,
              }),
              ...paging,
              request,
            }),
          shape: (pr: PullLike) => compact(pullSummary(pr)),
        });
        return pagedAnswer("pullRequests", page);
      }

      const number = requireArg(args.pullNumber, "pullNumber", method);
      const label = `pull request #${number} of ${name}`;
      const getPull = () =>
        github(`reading ${label}`, ctx.signal, () => rest.get({ owner, repo, pull_number: number, request }));

      if (method === "get") {
        const { data } = await getPull();
        const detail = pullDetail(data as PullLike, {
          offset: args.bodyOffset ?? 0,
          maxChars: Math.floor(ctx.budget.maxChars * 0.7),
        });
        return { text: jsonText(compact(detail)), untrusted: true };
      }
      if (method === "diff") {
        const files = await pullDiff(deps, owner, repo, number, ctx);
        const { header, text } = diffPage(files.diffs, args, ctx.budget, {
          pullNumber: number,
          ...(files.source === "files"
            ? { note: "Rebuilt from the files list (GitHub would not render the full diff)." }
            : {}),
        });
        const cleaned = clean(header);
        return { text: renderWithBody(cleaned, text), untrusted: true };
      }
      if (method === "files") {
        const page = await list({
          scope: `pull-files:${name}#${number}`,
          what: `listing the files of ${label}`,
          first: () => rest.listFiles({ owner, repo, pull_number: number, ...paging, request }),
          shape: (f: PullFile) =>
            compact({
              path: cleanText(f.filename),
              status: f.status,
              additions: f.additions,
              deletions: f.deletions,
              previousPath: f.previous_filename ? cleanText(f.previous_filename) : undefined,
            }),
        });
        return pagedAnswer("files", page);
      }
      if (method === "checks") {
        const { data: pr } = await getPull();
        const ref = pr.head.sha;
        const repos = deps.client.octokit.rest;
        const [status, runs] = await Promise.all([
          github(`reading the status of ${label}`, ctx.signal, () =>
            repos.repos.getCombinedStatusForRef({ owner, repo, ref, per_page: 100, request }),
          ),
          github(`reading the check runs of ${label}`, ctx.signal, () =>
            repos.checks.listForRef({ owner, repo, ref, per_page: 100, request }),
          ),
        ]);
        const checkRuns = runs.data.check_runs.map((run) =>
          compact({
            name: cleanText(run.name),
            status: run.status,
            conclusion: run.conclusion,
            app: run.app?.slug,
            completedAt: run.completed_at,
            url: run.html_url,
          }),
        );
        const statuses = status.data.statuses.map((s) =>
          compact({
            context: cleanText(s.context),
            state: s.state,
            description: cleanText(s.description) || undefined,
          }),
        );
        const failing =
          checkRuns.filter((r) =>
            ["failure", "timed_out", "cancelled", "action_required"].includes(String(r.conclusion)),
          ).length + statuses.filter((s) => s.state === "failure" || s.state === "error").length;
        const pending =
          checkRuns.filter((r) => r.status !== "completed").length +
          statuses.filter((s) => s.state === "pending").length;
        const fittedRuns = ctx.budget.fitItems(checkRuns, { reserve: JSON.stringify(statuses).length + 800 });
        return {
          text: jsonText(
            compact({
              headSha: ref,
              combinedState: status.data.state,
              failing,
              pending,
              totalCheckRuns: runs.data.total_count,
              checkRuns: fittedRuns.items,
              statuses,
              note: fittedRuns.truncated
                ? `${fittedRuns.omitted} check runs omitted to fit the response budget.`
                : undefined,
            }),
          ),
          untrusted: true,
        };
      }
      if (method === "reviews") {
        const page = await list({
          scope: `pull-reviews:${name}#${number}`,
          what: `listing the reviews of ${label}`,
          first: () => rest.listReviews({ owner, repo, pull_number: number, ...paging, request }),
          shape: (r: CommentLike & { state?: string; submitted_at?: string | null; commit_id?: string | null }) =>
            compact({
              ...commentView(r),
              state: r.state,
              submittedAt: r.submitted_at,
              commit: r.commit_id,
            }),
        });
        return pagedAnswer("reviews", page);
      }
      if (method === "review_comments") {
        const page = await list({
          scope: `pull-review-comments:${name}#${number}`,
          what: `listing the review comments of ${label}`,
          first: () => rest.listReviewComments({ owner, repo, pull_number: number, ...paging, request }),
          shape: (
            c: CommentLike & {
              path: string;
              line?: number | null;
              side?: string;
              in_reply_to_id?: number;
              diff_hunk?: string;
              pull_request_review_id?: number | null;
            },
          ) =>
            compact({
              ...commentView(c, 4000),
              path: cleanText(c.path),
              line: c.line,
              side: c.side,
              inReplyTo: c.in_reply_to_id,
              review: c.pull_request_review_id,
              diffHunk: c.diff_hunk ? cleanText(c.diff_hunk.slice(-600)) : undefined,
            }),
        });
        return pagedAnswer("reviewComments", page);
      }
      throw new ToolError("invalid_argument", `Unknown method ${method}.`);
    },
  });
}

/**
 * The whole diff of a pull request: GitHub's raw diff when it will render it (one request, and
 * repeat pages cost a 304), else rebuilt from the paged files list.
 */
async function pullDiff(
  deps: GitHubDeps,
  owner: string,
  repo: string,
  number: number,
  ctx: ToolContext,
): Promise<{ diffs: FileDiff[]; source: "diff" | "files" }> {
  const rest = deps.client.octokit;
  const what = `reading the diff of pull request #${number} of ${owner}/${repo}`;
  try {
    const { data } = await rest.rest.pulls.get({
      owner,
      repo,
      pull_number: number,
      mediaType: { format: "diff" },
      request: { signal: ctx.signal },
    });
    return { diffs: splitUnifiedDiff(String(data)), source: "diff" };
  } catch (error) {
    const status = httpStatus(error);
    const tooBig = error instanceof ResponseTooLargeError || status === 406 || status === 422 || status === 413;
    if (!tooBig) fail(error, what, ctx.signal);
  }
  const files: PullFile[] = [];
  const pages = rest.paginate.iterator(rest.rest.pulls.listFiles, {
    owner,
    repo,
    pull_number: number,
    per_page: 100,
    request: { signal: ctx.signal },
  });
  try {
    for await (const page of pages) {
      files.push(...(page.data as PullFile[]));
      await ctx.progress(files.length, undefined, `read ${files.length} changed files`);
      if (files.length >= MAX_PR_FILES) break;
    }
  } catch (error) {
    fail(error, what, ctx.signal);
  }
  return { diffs: files.map(fileDiffFromPatch), source: "files" };
}

const reviewCommentArg = z.object({
  path: text(4096, 1),
  line: int(1).describe("Line in the file (new side unless side is LEFT)"),
  side: z.enum(["LEFT", "RIGHT"]).optional(),
  startLine: int(1).optional().describe("First line of a multi-line comment"),
  body: bodyArg.min(1),
});

export function pullRequestWrite(deps: GitHubDeps): Tool {
  return defineTool({
    name: "pull_request_write",
    timeoutMs: GITHUB_TIMEOUT_MS,
    title: "Write pull requests",
    description:
      "method: create (title, head, base, body, draft) | update (title, body, state, base, reviewers to request) | " +
      "review (submit a review: event APPROVE, REQUEST_CHANGES or COMMENT, body, inline comments). Merging: merge_pull_request.",
    input: z.object({
      method: z.enum(["create", "update", "review"]),
      owner: ownerArg,
      repo: repoArg,
      pullNumber: numberArg("update/review: pull request number").optional(),
      title: text(256, 1).optional(),
      body: bodyArg.optional().describe("Markdown"),
      head: text(300, 1).optional().describe("create: branch with the changes (`user:branch` for a fork)"),
      base: branchArg.optional().describe("create/update: branch to merge into"),
      draft: z.boolean().optional(),
      maintainerCanModify: z.boolean().optional(),
      state: z.enum(["open", "closed"]).optional(),
      reviewers: z
        .array(matching(GITHUB_LOGIN, "must be a GitHub login"))
        .max(15)
        .optional()
        .describe("update: logins to request"),
      event: z.enum(["APPROVE", "REQUEST_CHANGES", "COMMENT"]).optional().describe("review"),
      comments: z.array(reviewCommentArg).max(50).optional().describe("review: inline comments"),
      commitId: matching(FULL_SHA, "must be a 40-character commit SHA")
        .optional()
        .describe("review: the head SHA you reviewed"),
    }),
    annotations: WRITES,
    async handler(args, ctx) {
      const { method } = args;
      const { owner, repo, name, request } = inRepo(deps, args, ctx.signal, "write");
      const rest = deps.client.octokit.rest.pulls;

      if (method === "create") {
        const title = requireArg(args.title, "title", method);
        const head = requireArg(args.head, "head", method);
        const base = requireArg(args.base, "base", method);
        // A head in another account is that account's fork: its commits would land in this
        // repository, so the fork must be allowed too.
        const colon = head.indexOf(":");
        if (colon > 0) assertAllowed(deps, head.slice(0, colon), repo);
        const { data } = await github(`opening a pull request in ${name}`, ctx.signal, () =>
          rest.create({
            owner,
            repo,
            title,
            head,
            base,
            ...given({ body: args.body, draft: args.draft, maintainer_can_modify: args.maintainerCanModify }),
            request,
          }),
        );
        return { text: jsonText(compact(pullSummary(data as PullLike))) };
      }

      const number = requireArg(args.pullNumber, "pullNumber", method);
      const label = `pull request #${number} of ${name}`;
      if (method === "update") {
        const changes = given({
          title: args.title,
          body: args.body,
          state: args.state,
          base: args.base,
          maintainer_can_modify: args.maintainerCanModify,
        });
        if (Object.keys(changes).length === 0 && !args.reviewers?.length) {
          throw new ToolError(
            "invalid_argument",
            "Nothing to update: pass a field to change or reviewers to request.",
            {
              details: { argument: "title" },
            },
          );
        }
        let summary: ReturnType<typeof pullSummary> | undefined;
        if (Object.keys(changes).length > 0) {
          const { data } = await github(`updating ${label}`, ctx.signal, () =>
            rest.update({ owner, repo, pull_number: number, ...changes, request }),
          );
          summary = pullSummary(data as PullLike);
        }
        let requested: string[] | undefined;
        if (args.reviewers?.length) {
          const { data } = await github(`requesting reviewers for ${label}`, ctx.signal, () =>
            rest.requestReviewers({ owner, repo, pull_number: number, reviewers: args.reviewers ?? [], request }),
          );
          requested = (data.requested_reviewers ?? []).map(login).filter((l): l is string => Boolean(l));
          summary ??= pullSummary(data as PullLike);
        }
        return { text: jsonText(compact({ ...summary, requestedReviewers: requested })) };
      }
      if (method === "review") {
        const event = requireArg(args.event, "event", method);
        if (event !== "APPROVE" && !args.body && !args.comments?.length) {
          throw new ToolError("invalid_argument", `A ${event} review needs a body or inline comments.`, {
            details: { argument: "body" },
          });
        }
        const { data } = await github(`reviewing ${label}`, ctx.signal, () =>
          rest.createReview({
            owner,
            repo,
            pull_number: number,
            event,
            ...given({
              body: args.body,
              commit_id: args.commitId,
              comments: args.comments?.map((c) => ({
                path: c.path,
                line: c.line,
                body: c.body,
                ...given({ side: c.side, start_line: c.startLine }),
              })),
            }),
            request,
          }),
        );
        return {
          text: jsonText(
            compact({ id: data.id, state: data.state, url: data.html_url, submittedAt: data.submitted_at }),
          ),
        };
      }
      throw new ToolError("invalid_argument", `Unknown method ${method}.`);
    },
  });
}

export function mergePullRequest(deps: GitHubDeps): Tool {
  return defineTool({
    name: "merge_pull_request",
    timeoutMs: GITHUB_TIMEOUT_MS,
    title: "Merge a pull request",
    description:
      "Merge a pull request (merge, squash or rebase). Pass `sha` (the head you reviewed) so nothing pushed since gets merged.",
    input: z.object({
      owner: ownerArg,
      repo: repoArg,
      pullNumber: numberArg("Pull request number"),
      mergeMethod: z.enum(["merge", "squash", "rebase"]).optional(),
      commitTitle: text(256).optional(),
      commitMessage: text(65_536).optional(),
      sha: matching(FULL_SHA, "must be a 40-character commit SHA").optional().describe("Expected head SHA"),
    }),
    output: z.object({ merged: z.boolean(), sha: z.string().optional(), message: z.string() }),
    annotations: { ...WRITES, destructiveHint: true },
    async handler(args, ctx) {
      const { owner, repo } = args;
      assertAllowed(deps, owner, repo, "write");
      const { data } = await github(`merging pull request #${args.pullNumber} of ${owner}/${repo}`, ctx.signal, () =>
        deps.client.octokit.rest.pulls.merge({
          owner,
          repo,
          pull_number: args.pullNumber,
          ...given({
            merge_method: args.mergeMethod,
            commit_title: args.commitTitle,
            commit_message: args.commitMessage,
            sha: args.sha,
          }),
          request: { signal: ctx.signal },
        }),
      );
      return {
        data: { merged: data.merged, ...(data.sha ? { sha: data.sha } : {}), message: cleanText(data.message) },
      };
    },
  });
}
