import { defineTool, type Tool, ToolError } from "@portside/shared";
import { z } from "zod";
import { REPO_PATTERN } from "../github/allowlist.js";
import { httpStatus } from "../github/errors.js";
import {
  assertAllowed,
  FULL_SHA,
  fail,
  GITHUB_TIMEOUT_MS,
  type GitHubDeps,
  github,
  given,
  inRepo,
  matching,
  ownerArg,
  repoArg,
  text,
  WRITES,
} from "./common.js";
import { pathArg } from "./file-contents.js";

/** Git's own rules for branch names (git check-ref-format), the parts that matter here. */
export const branchArg = text(255, 1)
  .refine(
    (b) =>
      !/[\u0000-\u0020~^:?*[\\\u007f]/.test(b) &&
      !b.startsWith("/") &&
      !b.endsWith("/") &&
      !b.endsWith(".") &&
      !b.endsWith(".lock") &&
      !b.includes("..") &&
      !b.includes("//") &&
      !b.includes("@{") &&
      !b.startsWith("-") &&
      b !== "@",
    "must be a valid git branch name",
  )
  .describe("Branch name");

const messageArg = text(65_536, 1).describe("Commit message");
/** Text files only; GitHub's contents API accepts up to 100 MB, but a model has no business writing that. */
const MAX_FILE_CHARS = 1_000_000;
const MAX_PUSH_CHARS = 5_000_000;
const MAX_PUSH_FILES = 100;

export function createBranch(deps: GitHubDeps): Tool {
  return defineTool({
    name: "create_branch",
    timeoutMs: GITHUB_TIMEOUT_MS,
    title: "Create a branch",
    description: "Create a branch from another branch, a tag or a commit SHA (default: the default branch's head).",
    input: z.object({
      owner: ownerArg,
      repo: repoArg,
      branch: branchArg,
      from: text(255, 1).optional().describe("Source branch, tag or full commit SHA"),
    }),
    output: z.object({ branch: z.string(), sha: z.string(), from: z.string() }),
    annotations: WRITES,
    async handler(args, ctx) {
      const { owner, repo, name, request } = inRepo(deps, args, ctx.signal, "write");
      const git = deps.client.octokit.rest.git;
      let from = args.from;
      if (!from) {
        const { data } = await github(`reading ${name}`, ctx.signal, () =>
          deps.client.octokit.rest.repos.get({ owner, repo, request }),
        );
        from = data.default_branch;
      }
      const source = from;
      const sha = FULL_SHA.test(source)
        ? source
        : await resolveRef(deps, owner, repo, source, ctx.signal).catch((error: unknown) => {
            throw error instanceof ToolError && error.code === "not_found"
              ? new ToolError("not_found", `${name} has no branch or tag named ${source}.`, {
                  details: { argument: "from" },
                })
              : error;
          });
      await github(`creating branch ${args.branch} in ${name}`, ctx.signal, () =>
        git.createRef({ owner, repo, ref: `refs/heads/${args.branch}`, sha, request }),
      );
      return { data: { branch: args.branch, sha, from: source } };
    },
  });
}

async function resolveRef(deps: GitHubDeps, owner: string, repo: string, ref: string, signal: AbortSignal) {
  const git = deps.client.octokit.rest.git;
  const what = `resolving ${ref} in ${owner}/${repo}`;
  for (const kind of ["heads", "tags"]) {
    try {
      const { data } = await git.getRef({ owner, repo, ref: `${kind}/${ref}`, request: { signal } });
      if (data.object.type === "tag") {
        const tag = await git.getTag({ owner, repo, tag_sha: data.object.sha, request: { signal } });
        return tag.data.object.sha;
      }
      return data.object.sha;
    } catch (error) {
      if (httpStatus(error) !== 404) fail(error, what, signal);
    }
  }
  throw new ToolError("not_found", `Not found while ${what}.`);
}

export function createOrUpdateFile(deps: GitHubDeps): Tool {
  return defineTool({
    name: "create_or_update_file",
    timeoutMs: GITHUB_TIMEOUT_MS,
    title: "Create or update a file",
    description:
      "Commit one text file. To replace an existing file pass its current blob `sha` (from get_file_contents): " +
      "the write fails if the file changed since. For several files in one commit use push_files.",
    input: z.object({
      owner: ownerArg,
      repo: repoArg,
      path: pathArg.refine((p) => p.replace(/^\/+/, "") !== "", "must name a file"),
      content: text(MAX_FILE_CHARS).describe("The whole new file content (UTF-8 text)"),
      message: messageArg,
      branch: branchArg.optional().describe("Branch (default branch if omitted)"),
      sha: matching(FULL_SHA, "must be a 40-character blob SHA")
        .optional()
        .describe("Blob SHA of the file being replaced"),
    }),
    output: z.object({ path: z.string(), sha: z.string(), commit: z.string(), url: z.string().optional() }),
    annotations: WRITES,
    async handler(args, ctx) {
      const { owner, repo } = args;
      assertAllowed(deps, owner, repo, "write");
      const path = args.path.replace(/^\/+/, "");
      const where = `${owner}/${repo}:${path}`;
      try {
        const { data } = await deps.client.octokit.rest.repos.createOrUpdateFileContents({
          owner,
          repo,
          path,
          message: args.message,
          content: Buffer.from(args.content, "utf8").toString("base64"),
          ...given({ branch: args.branch, sha: args.sha }),
          request: { signal: ctx.signal },
        });
        return {
          data: {
            path: data.content?.path ?? path,
            sha: data.content?.sha ?? "",
            commit: data.commit.sha ?? "",
            ...(data.content?.html_url ? { url: data.content.html_url } : {}),
          },
        };
      } catch (error) {
        const status = httpStatus(error);
        const message = String((error as { message?: unknown }).message ?? "");
        if (status === 422 && !args.sha && /\bsha\b/i.test(message)) {
          throw new ToolError("conflict", `${where} already exists, so replacing it needs its current blob sha.`, {
            hint: "Read it with get_file_contents, then call again with sha set to the sha it returns.",
            details: { argument: "sha" },
          });
        }
        if (status === 409) {
          throw new ToolError("conflict", `${where} changed since sha ${args.sha} was read.`, {
            hint: "Read the file again, merge your change into the current content, and retry with the new sha.",
            details: { argument: "sha" },
          });
        }
        fail(error, `writing ${where}`, ctx.signal);
      }
    },
  });
}

interface TreeEntry {
  path?: string;
  mode?: "100644" | "100755" | "040000" | "160000" | "120000";
  type?: "blob" | "tree" | "commit";
  sha?: string | null;
  content?: string;
}

export function pushFiles(deps: GitHubDeps): Tool {
  return defineTool({
    name: "push_files",
    timeoutMs: GITHUB_TIMEOUT_MS,
    title: "Push several files in one commit",
    description:
      "Commit several text files (and optional deletions) to a branch in a single commit. Existing files keep their mode. " +
      "Fails without changing anything if the branch moved meanwhile.",
    input: z.object({
      owner: ownerArg,
      repo: repoArg,
      branch: branchArg.optional().describe("Branch to commit to (default branch if omitted)"),
      message: messageArg,
      files: z
        .array(z.object({ path: pathArg, content: text(MAX_FILE_CHARS) }))
        .max(MAX_PUSH_FILES)
        .default([])
        .describe("Files to create or replace"),
      delete: z.array(pathArg).max(MAX_PUSH_FILES).optional().describe("Paths to delete"),
    }),
    output: z.object({ branch: z.string(), commit: z.string(), parent: z.string(), changed: z.number().int() }),
    annotations: { ...WRITES, destructiveHint: true },
    async handler(args, ctx) {
      const { owner, repo, name, request } = inRepo(deps, args, ctx.signal, "write");
      const files = args.files.map((f) => ({ path: f.path.replace(/^\/+/, ""), content: f.content }));
      const deletions = (args.delete ?? []).map((p) => p.replace(/^\/+/, ""));
      if (files.length + deletions.length === 0) {
        throw new ToolError("invalid_argument", "Nothing to commit: pass files and/or delete.", {
          details: { argument: "files" },
        });
      }
      const all = [...files.map((f) => f.path), ...deletions];
      const duplicate = all.find((p, i) => !p || all.indexOf(p) !== i);
      if (duplicate !== undefined) {
        throw new ToolError("invalid_argument", `Path ${JSON.stringify(duplicate)} is empty or appears twice.`, {
          details: { argument: "files" },
        });
      }
      const total = files.reduce((sum, f) => sum + f.content.length, 0);
      if (total > MAX_PUSH_CHARS) {
        throw new ToolError(
          "too_large",
          `The files add up to ${total} characters; one push may carry ${MAX_PUSH_CHARS}.`,
          {
            hint: "Split the change into several commits.",
          },
        );
      }
      const rest = deps.client.octokit.rest;
      let branch = args.branch;
      if (!branch) {
        const { data } = await github(`reading ${name}`, ctx.signal, () => rest.repos.get({ owner, repo, request }));
        branch = data.default_branch;
      }
      const target = branch;
      const what = `pushing to ${target} of ${name}`;
      const { data: ref } = await github(what, ctx.signal, () =>
        rest.git.getRef({ owner, repo, ref: `heads/${target}`, request }),
      );
      const parent = ref.object.sha;
      const { data: parentCommit } = await github(what, ctx.signal, () =>
        rest.git.getCommit({ owner, repo, commit_sha: parent, request }),
      );
      await ctx.progress(1, 4, "read the branch head");
      const modes = await existingModes(deps, owner, repo, parentCommit.tree.sha, all, ctx.signal);
      const missing = deletions.filter((p) => !modes.has(p));
      if (missing.length > 0) {
        throw new ToolError("not_found", `Cannot delete ${missing.join(", ")}: not in ${target}.`, {
          details: { argument: "delete" },
        });
      }
      const tree: TreeEntry[] = [
        ...files.map(
          (f): TreeEntry => ({ path: f.path, mode: modes.get(f.path) ?? "100644", type: "blob", content: f.content }),
        ),
        ...deletions.map((p): TreeEntry => ({ path: p, mode: modes.get(p) ?? "100644", type: "blob", sha: null })),
      ];
      await ctx.progress(2, 4, "writing the tree");
      const { data: newTree } = await github(what, ctx.signal, () =>
        rest.git.createTree({
          owner,
          repo,
          base_tree: parentCommit.tree.sha,
          tree,
          request,
        }),
      );
      const { data: commit } = await github(what, ctx.signal, () =>
        rest.git.createCommit({ owner, repo, message: args.message, tree: newTree.sha, parents: [parent], request }),
      );
      await ctx.progress(3, 4, "moving the branch");
      try {
        await rest.git.updateRef({ owner, repo, ref: `heads/${target}`, sha: commit.sha, force: false, request });
      } catch (error) {
        if (httpStatus(error) === 422) {
          throw new ToolError(
            "conflict",
            `${target} of ${name} moved while the commit was being made; nothing was pushed.`,
            {
              hint: "Read the changed files again and retry.",
            },
          );
        }
        fail(error, what, ctx.signal);
      }
      await ctx.progress(4, 4, "done");
      return { data: { branch: target, commit: commit.sha, parent, changed: tree.length } };
    },
  });
}

/** Walks only the directories on the way to `paths` to learn the modes (executable, symlink) of existing files. */
async function existingModes(
  deps: GitHubDeps,
  owner: string,
  repo: string,
  rootTree: string,
  paths: string[],
  signal: AbortSignal,
): Promise<Map<string, NonNullable<TreeEntry["mode"]>>> {
  const modes = new Map<string, NonNullable<TreeEntry["mode"]>>();
  const dirs = new Map<string, string | undefined>([["", rootTree]]);
  const wanted = new Set(paths.flatMap((p) => parents(p)));
  const queue = [""];
  let requests = 0;
  while (queue.length > 0 && requests < 50) {
    const dir = queue.shift()!;
    const sha = dirs.get(dir);
    if (!sha) continue;
    requests++;
    const { data } = await github(`reading the tree of ${owner}/${repo}`, signal, () =>
      deps.client.octokit.rest.git.getTree({ owner, repo, tree_sha: sha, request: { signal } }),
    );
    for (const entry of data.tree as TreeEntry[]) {
      const full = dir ? `${dir}/${entry.path}` : (entry.path ?? "");
      if (entry.type === "tree") {
        if (wanted.has(full)) {
          dirs.set(full, entry.sha ?? undefined);
          queue.push(full);
        }
        if (paths.includes(full)) {
          throw new ToolError("invalid_argument", `${full} is a directory in ${owner}/${repo}, not a file.`, {
            details: { argument: "files" },
          });
        }
      } else if (paths.includes(full) && entry.mode) {
        modes.set(full, entry.mode === "100755" || entry.mode === "120000" ? entry.mode : "100644");
      }
    }
  }
  return modes;
}

function parents(path: string): string[] {
  const parts = path.split("/");
  return parts.slice(0, -1).map((_, i) => parts.slice(0, i + 1).join("/"));
}

export function forkRepository(deps: GitHubDeps): Tool {
  return defineTool({
    name: "fork_repository",
    timeoutMs: GITHUB_TIMEOUT_MS,
    title: "Fork a repository",
    description:
      "Fork a repository into your account or an organization. Both the source and the fork must be allowed.",
    input: z.object({
      owner: ownerArg,
      repo: repoArg,
      organization: ownerArg.optional().describe("Organization to fork into (default: your account)"),
      name: matching(REPO_PATTERN, "must be a GitHub repository name")
        .optional()
        .describe("Name of the fork (default: same name)"),
      defaultBranchOnly: z.boolean().optional(),
    }),
    output: z.object({ fullName: z.string(), url: z.string().optional(), defaultBranch: z.string().optional() }),
    annotations: WRITES,
    async handler(args, ctx) {
      const { owner, repo } = args;
      assertAllowed(deps, owner, repo);
      const targetOwner =
        args.organization ??
        (await github("reading the authenticated user", ctx.signal, () => deps.client.authenticatedUser(ctx.signal)))
          .login;
      const targetName = args.name ?? repo;
      assertAllowed(deps, targetOwner, targetName, "write");
      const { data } = await github(`forking ${owner}/${repo}`, ctx.signal, () =>
        deps.client.octokit.rest.repos.createFork({
          owner,
          repo,
          ...given({ organization: args.organization, name: args.name, default_branch_only: args.defaultBranchOnly }),
          request: { signal: ctx.signal },
        }),
      );
      return {
        data: {
          fullName: data.full_name,
          ...(data.html_url ? { url: data.html_url } : {}),
          ...(data.default_branch ? { defaultBranch: data.default_branch } : {}),
        },
      };
    },
  });
}

export function createRepository(deps: GitHubDeps): Tool {
  return defineTool({
    name: "create_repository",
    timeoutMs: GITHUB_TIMEOUT_MS,
    title: "Create a repository",
    description: "Create a repository in your account or an organization. Its name must be allowed by the allowlist.",
    input: z.object({
      name: matching(REPO_PATTERN, "must be a GitHub repository name"),
      organization: ownerArg.optional().describe("Organization to create it in (default: your account)"),
      description: text(350).optional(),
      private: z.boolean().optional(),
      autoInit: z.boolean().optional().describe("Create an initial commit with a README"),
    }),
    output: z.object({ fullName: z.string(), url: z.string().optional(), private: z.boolean().optional() }),
    annotations: WRITES,
    async handler(args, ctx) {
      const owner =
        args.organization ??
        (await github("reading the authenticated user", ctx.signal, () => deps.client.authenticatedUser(ctx.signal)))
          .login;
      assertAllowed(deps, owner, args.name, "write");
      const body = {
        name: args.name,
        ...given({ description: args.description, private: args.private, auto_init: args.autoInit }),
        request: { signal: ctx.signal },
      };
      const rest = deps.client.octokit.rest.repos;
      const { data } = await github(`creating ${owner}/${args.name}`, ctx.signal, () =>
        args.organization
          ? rest.createInOrg({ org: args.organization, ...body })
          : rest.createForAuthenticatedUser(body),
      );
      return {
        data: {
          fullName: data.full_name,
          ...(data.html_url ? { url: data.html_url } : {}),
          ...(data.private !== undefined ? { private: data.private } : {}),
        },
      };
    },
  });
}
