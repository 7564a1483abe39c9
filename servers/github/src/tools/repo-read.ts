import { defineTool, type Tool, ToolError } from "@portside/shared";
import { z } from "zod";
import { type ReleaseLike, type RepoLike, releaseView, repoDetail } from "../github/shapes.js";
import { cleanText } from "../github/text.js";
import {
  assertAllowed,
  compact,
  cursorArg,
  GITHUB_TIMEOUT_MS,
  type GitHubDeps,
  github,
  given,
  inRepo,
  jsonText,
  ownerArg,
  pagedAnswer,
  pager,
  perPageArg,
  READS,
  repoArg,
  requireArg,
  text,
} from "./common.js";

const METHODS = ["get", "branches", "tags", "releases", "release", "labels"] as const;

export function repoRead(deps: GitHubDeps): Tool {
  return defineTool({
    name: "repo_read",
    timeoutMs: GITHUB_TIMEOUT_MS,
    title: "Read a repository",
    description:
      "Read about one repository. method: get (metadata, default branch, your permissions) | branches | tags | " +
      "releases | release (one release with assets: `tag`, or tag `latest`) | labels (the repository's labels).",
    input: z.object({
      method: z.enum(METHODS),
      owner: ownerArg,
      repo: repoArg,
      tag: text(255, 1).optional().describe("release: tag name or `latest`"),
      perPage: perPageArg,
      cursor: cursorArg,
    }),
    annotations: READS,
    async handler(args, ctx) {
      const { method } = args;
      const { owner, repo, name, request } = inRepo(deps, args, ctx.signal);
      const rest = deps.client.octokit.rest;
      const paging = given({ per_page: args.perPage });
      const list = pager(deps, ctx, args.cursor);

      if (method === "get") {
        const { data } = await github(`reading ${name}`, ctx.signal, () => rest.repos.get({ owner, repo, request }));
        // A renamed repository answers under its new name: that name must be allowed too.
        const [newOwner, newRepo] = data.full_name.split("/") as [string, string];
        assertAllowed(deps, newOwner, newRepo);
        return { text: jsonText(compact(repoDetail(data as RepoLike))), untrusted: true };
      }
      if (method === "branches") {
        const page = await list({
          scope: `branches:${name}`,
          what: `listing branches of ${name}`,
          first: () => rest.repos.listBranches({ owner, repo, ...paging, request }),
          shape: (b: { name: string; commit: { sha: string }; protected?: boolean }) =>
            compact({ name: cleanText(b.name), sha: b.commit.sha, protected: b.protected || undefined }),
        });
        return pagedAnswer("branches", page);
      }
      if (method === "tags") {
        const page = await list({
          scope: `tags:${name}`,
          what: `listing tags of ${name}`,
          first: () => rest.repos.listTags({ owner, repo, ...paging, request }),
          shape: (t: { name: string; commit: { sha: string } }) => ({ name: cleanText(t.name), sha: t.commit.sha }),
        });
        return pagedAnswer("tags", page);
      }
      if (method === "releases") {
        const page = await list({
          scope: `releases:${name}`,
          what: `listing releases of ${name}`,
          first: () => rest.repos.listReleases({ owner, repo, ...paging, request }),
          shape: (r: ReleaseLike) => compact(releaseView(r, 500)),
        });
        return pagedAnswer("releases", page);
      }
      if (method === "release") {
        const tag = requireArg(args.tag, "tag", method);
        const { data } = await github(`reading release ${tag} of ${name}`, ctx.signal, () =>
          tag === "latest"
            ? rest.repos.getLatestRelease({ owner, repo, request })
            : rest.repos.getReleaseByTag({ owner, repo, tag, request }),
        );
        return {
          text: jsonText(compact(releaseView(data as ReleaseLike, Math.floor(ctx.budget.maxChars * 0.7)))),
          untrusted: true,
        };
      }
      if (method === "labels") {
        const page = await list({
          scope: `labels:${name}`,
          what: `listing labels of ${name}`,
          first: () => rest.issues.listLabelsForRepo({ owner, repo, ...paging, request }),
          shape: (l: { name: string; color?: string; description?: string | null }) =>
            compact({ name: cleanText(l.name), color: l.color, description: cleanText(l.description) || undefined }),
        });
        return pagedAnswer("labels", page);
      }
      throw new ToolError("invalid_argument", `Unknown method ${method}.`);
    },
  });
}
