import { defineTool, type Tool, ToolError } from "@portside/shared";
import { z } from "zod";
import { fileDiffFromPatch } from "../github/diff.js";
import { type CommitLike, commitDetail, commitSummary } from "../github/shapes.js";
import {
  clean,
  compact,
  cursorArg,
  dateTimeArg,
  GITHUB_TIMEOUT_MS,
  type GitHubDeps,
  github,
  given,
  inRepo,
  ownerArg,
  pagedAnswer,
  pager,
  perPageArg,
  READS,
  renderWithBody,
  repoArg,
  requireArg,
  text,
} from "./common.js";
import { diffArgs, diffPage } from "./diff-page.js";
import { pathArg, refArg } from "./file-contents.js";

/** GitHub lists at most this many files of one commit (300 per page). */
const MAX_COMMIT_FILE_PAGES = 10;

interface CommitFile {
  filename: string;
  previous_filename?: string;
  status: string;
  additions: number;
  deletions: number;
  patch?: string;
}

export function commitRead(deps: GitHubDeps): Tool {
  return defineTool({
    name: "commit_read",
    timeoutMs: GITHUB_TIMEOUT_MS,
    title: "Read commits",
    description:
      "method: list (history of a branch/path, newest first) | get (one commit: message, stats and its diff, paged per file " +
      "and by size; continue with file/offset from `next`).",
    input: z.object({
      method: z.enum(["list", "get"]),
      owner: ownerArg,
      repo: repoArg,
      ref: refArg.describe("list: branch/tag/SHA to start from; get: the commit SHA, branch or tag"),
      path: pathArg.optional().describe("list: only commits touching this path; get: show only this file's diff"),
      author: text(256).optional().describe("list: login or email"),
      since: dateTimeArg.optional().describe("list: ISO 8601"),
      until: dateTimeArg.optional(),
      perPage: perPageArg,
      cursor: cursorArg,
      file: diffArgs.file,
      offset: diffArgs.offset,
      maxChars: diffArgs.maxChars,
    }),
    annotations: READS,
    async handler(args, ctx) {
      const { owner, repo, name, request } = inRepo(deps, args, ctx.signal);
      const rest = deps.client.octokit.rest;

      if (args.method === "list") {
        const list = pager(deps, ctx, args.cursor);
        const page = await list({
          scope: `commits:${name}`,
          what: `listing commits of ${name}`,
          first: () =>
            rest.repos.listCommits({
              owner,
              repo,
              ...given({
                sha: args.ref,
                path: args.path,
                author: args.author,
                since: args.since,
                until: args.until,
                per_page: args.perPage,
              }),
              request,
            }),
          shape: (c: CommitLike) => compact(commitSummary(c)),
        });
        return pagedAnswer("commits", page);
      }

      const ref = requireArg(args.ref, "ref", "get");
      const what = `reading commit ${ref} of ${name}`;
      const first = await github(what, ctx.signal, () => rest.repos.getCommit({ owner, repo, ref, request }));
      const commit = first.data;
      const files: CommitFile[] = [...((commit.files ?? []) as CommitFile[])];
      // Commits with more than 300 files list the rest on further pages, up to 3000 files.
      const needed = (args.file ?? 0) + 1;
      let pageNumber = 1;
      let link = first.headers.link;
      while ((files.length < needed || args.path !== undefined) && link?.includes('rel="next"')) {
        if (++pageNumber > MAX_COMMIT_FILE_PAGES) break;
        const more = await github(what, ctx.signal, () =>
          rest.repos.getCommit({ owner, repo, ref, page: pageNumber, request }),
        );
        files.push(...((more.data.files ?? []) as CommitFile[]));
        link = more.headers.link;
        if (args.path !== undefined && files.some((f) => f.filename === args.path)) break;
      }
      if (
        args.path !== undefined &&
        !files.some((f) => f.filename === args.path || f.previous_filename === args.path)
      ) {
        throw new ToolError("not_found", `Commit ${ref} of ${name} does not change ${args.path}.`, {
          details: { argument: "path" },
        });
      }
      const diffs = files.map(fileDiffFromPatch);
      const { header, text } = diffPage(
        diffs,
        { file: args.file, offset: args.offset, path: args.path, maxChars: args.maxChars },
        ctx.budget,
        { commit: compact(commitDetail(commit as CommitLike)) },
      );
      const cleaned = clean(header);
      return { text: renderWithBody(cleaned, text), untrusted: true };
    },
  });
}
