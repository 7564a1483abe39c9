import { defineTool, type Tool, ToolError } from "@portside/shared";
import { z } from "zod";
import { type CommentLike, commentView, type IssueLike, issueDetail, issueSummary } from "../github/shapes.js";
import { cleanText } from "../github/text.js";
import {
  compact,
  cursorArg,
  dateTimeArg,
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
  repoArg,
  requireArg,
  text,
  WRITES,
} from "./common.js";

const loginArg = matching(GITHUB_LOGIN, "must be a GitHub login");
const labelArg = text(100, 1);
/** GitHub's own limit for issue, PR and comment bodies. */
export const bodyArg = text(65_536);

export function issueRead(deps: GitHubDeps): Tool {
  return defineTool({
    name: "issue_read",
    timeoutMs: GITHUB_TIMEOUT_MS,
    title: "Read issues",
    description:
      "method: list (a repository's issues, pull requests excluded) | get (one issue with its first comments) | " +
      "comments (more comments: pass nextCursor). Works for a pull request's conversation too (use its number).",
    input: z.object({
      method: z.enum(["list", "get", "comments"]),
      owner: ownerArg,
      repo: repoArg,
      issueNumber: numberArg("get/comments: issue number").optional(),
      state: z.enum(["open", "closed", "all"]).optional().describe("list (default open)"),
      labels: z.array(labelArg).max(20).optional().describe("list: all of these labels"),
      assignee: text(39).optional().describe("list: login, `none` or `*`"),
      creator: loginArg.optional(),
      since: dateTimeArg.optional().describe("list: updated at or after (ISO 8601)"),
      sort: z.enum(["created", "updated", "comments"]).optional(),
      direction: z.enum(["asc", "desc"]).optional(),
      bodyOffset: int(0).optional().describe("get: continue a long body from here"),
      perPage: perPageArg,
      cursor: cursorArg,
    }),
    annotations: READS,
    async handler(args, ctx) {
      const { method } = args;
      const { owner, repo, name, request } = inRepo(deps, args, ctx.signal);
      const rest = deps.client.octokit.rest;
      const list = pager(deps, ctx, args.cursor);

      if (method === "list") {
        let skippedPulls = 0;
        const page = await list({
          scope: `issues:${name}`,
          what: `listing issues of ${name}`,
          first: () =>
            rest.issues.listForRepo({
              owner,
              repo,
              ...given({
                state: args.state,
                labels: args.labels?.join(","),
                assignee: args.assignee,
                creator: args.creator,
                since: args.since,
                sort: args.sort,
                direction: args.direction,
                per_page: args.perPage,
              }),
              request,
            }),
          items: (data) => {
            const all = data as IssueLike[];
            const issues = all.filter((i) => !i.pull_request);
            skippedPulls = all.length - issues.length;
            return issues;
          },
          shape: (issue: IssueLike) => compact(issueSummary(issue)),
        });
        return pagedAnswer("issues", page, { pullRequestsSkipped: skippedPulls || undefined });
      }

      const number = requireArg(args.issueNumber, "issueNumber", method);
      const label = `issue #${number} of ${name}`;
      const commentsPage = (reserve: number) =>
        list({
          scope: `issue-comments:${name}#${number}`,
          what: `reading the comments of ${label}`,
          reserve,
          first: () =>
            rest.issues.listComments({
              owner,
              repo,
              issue_number: number,
              ...given({ per_page: args.perPage }),
              request,
            }),
          shape: (c: CommentLike) => compact(commentView(c)),
        });

      if (method === "comments") {
        const page = await commentsPage(1000);
        return pagedAnswer("comments", page);
      }

      const { data: issue } = await github(`reading ${label}`, ctx.signal, () =>
        rest.issues.get({ owner, repo, issue_number: number, request }),
      );
      const detail = compact(
        issueDetail(issue as IssueLike, {
          offset: args.bodyOffset ?? 0,
          maxChars: Math.floor(ctx.budget.maxChars * 0.5),
        }),
      );
      const used = JSON.stringify(detail).length;
      const page = issue.comments > 0 && !args.bodyOffset ? await commentsPage(used + 1000) : undefined;
      return {
        text: jsonText(
          compact({
            issue: detail,
            comments: page?.items,
            nextCommentsCursor: page?.nextCursor,
            howToContinue: page?.nextCursor
              ? 'More comments: method "comments" with cursor=nextCommentsCursor.'
              : undefined,
          }),
        ),
        untrusted: true,
      };
    },
  });
}

export function issueWrite(deps: GitHubDeps): Tool {
  return defineTool({
    name: "issue_write",
    timeoutMs: GITHUB_TIMEOUT_MS,
    title: "Write issues",
    description:
      "method: create (title, body, labels, assignees) | update (any of title, body, state, stateReason, labels (replaces), " +
      "assignees, milestone) | comment (body; also comments on pull requests) | add_labels | remove_label.",
    input: z.object({
      method: z.enum(["create", "update", "comment", "add_labels", "remove_label"]),
      owner: ownerArg,
      repo: repoArg,
      issueNumber: numberArg("Issue (or PR) number; all methods but create").optional(),
      title: text(256, 1).optional(),
      body: bodyArg.optional().describe("Markdown"),
      state: z.enum(["open", "closed"]).optional(),
      stateReason: z.enum(["completed", "not_planned", "reopened"]).optional(),
      labels: z.array(labelArg).max(100).optional(),
      assignees: z.array(loginArg).max(10).optional(),
      milestone: int(1).nullable().optional().describe("Milestone number, null to clear"),
      label: labelArg.optional().describe("remove_label: the label"),
    }),
    annotations: WRITES,
    async handler(args, ctx) {
      const { method } = args;
      const { owner, repo, name, request } = inRepo(deps, args, ctx.signal, "write");
      const rest = deps.client.octokit.rest.issues;

      if (method === "create") {
        const title = requireArg(args.title, "title", method);
        const { data } = await github(`creating an issue in ${name}`, ctx.signal, () =>
          rest.create({
            owner,
            repo,
            title,
            ...given({ body: args.body, labels: args.labels, assignees: args.assignees, milestone: args.milestone }),
            request,
          }),
        );
        return { text: jsonText(compact(issueSummary(data as IssueLike))) };
      }

      const number = requireArg(args.issueNumber, "issueNumber", method);
      const label = `issue #${number} of ${name}`;
      if (method === "update") {
        const changes = given({
          title: args.title,
          body: args.body,
          state: args.state,
          state_reason: args.stateReason,
          labels: args.labels,
          assignees: args.assignees,
          milestone: args.milestone,
        });
        if (Object.keys(changes).length === 0) {
          throw new ToolError("invalid_argument", "Nothing to update: pass at least one field to change.", {
            details: { argument: "title" },
          });
        }
        const { data } = await github(`updating ${label}`, ctx.signal, () =>
          rest.update({ owner, repo, issue_number: number, ...changes, request }),
        );
        return { text: jsonText(compact({ ...issueSummary(data as IssueLike), stateReason: data.state_reason })) };
      }
      if (method === "comment") {
        const body = requireArg(args.body, "body", method);
        const { data } = await github(`commenting on ${label}`, ctx.signal, () =>
          rest.createComment({ owner, repo, issue_number: number, body, request }),
        );
        return { text: jsonText(compact({ id: data.id, url: data.html_url, createdAt: data.created_at })) };
      }
      if (method === "add_labels") {
        const labels = requireArg(args.labels, "labels", method);
        const { data } = await github(`labelling ${label}`, ctx.signal, () =>
          rest.addLabels({ owner, repo, issue_number: number, labels, request }),
        );
        return { text: jsonText({ number, labels: data.map((l) => cleanText(l.name)) }) };
      }
      if (method === "remove_label") {
        const name = requireArg(args.label, "label", method);
        const { data } = await github(`removing label ${name} from ${label}`, ctx.signal, () =>
          rest.removeLabel({ owner, repo, issue_number: number, name, request }),
        );
        return { text: jsonText({ number, labels: data.map((l) => cleanText(l.name)) }) };
      }
      throw new ToolError("invalid_argument", `Unknown method ${method}.`);
    },
  });
}
