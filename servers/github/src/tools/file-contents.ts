import { defineTool, type Tool, ToolError } from "@portside/shared";
import { z } from "zod";
import { decodeFile, pageLines } from "../github/text.js";
import {
  assertAllowed,
  compact,
  GITHUB_TIMEOUT_MS,
  type GitHubDeps,
  github,
  given,
  int,
  jsonText,
  matching,
  ownerArg,
  READS,
  renderWithBody,
  repoArg,
  text,
} from "./common.js";

export const pathArg = text(4096)
  .refine((p) => !p.split("/").some((s) => s === ".." || s === "."), "must not contain . or .. segments")
  .refine((p) => !/[\u0000-\u001f\\]/.test(p), "must not contain control characters or backslashes")
  .describe("Path in the repository");
export const refArg = matching(/^[^\s~^:?*[\\\u0000-\u001f]{1,255}$/, "must be a branch, tag or commit SHA")
  .optional()
  .describe("Branch, tag or commit SHA (default branch if omitted)");

interface ContentEntry {
  type: string;
  name: string;
  path: string;
  size?: number;
  sha: string;
  encoding?: string;
  content?: string;
  target?: string;
  submodule_git_url?: string;
}

export function getFileContents(deps: GitHubDeps): Tool {
  return defineTool({
    name: "get_file_contents",
    timeoutMs: GITHUB_TIMEOUT_MS,
    title: "Get file or directory contents",
    description:
      "Read a file (text, paged by lines) or list a directory at a ref. Returns the blob `sha` you need to update the file. " +
      "Binary files are described, not shown.",
    input: z.object({
      owner: ownerArg,
      repo: repoArg,
      path: pathArg.default(""),
      ref: refArg,
      fromLine: int(1).optional().describe("First line to show (1-based); for long files"),
    }),
    annotations: READS,
    async handler(args, ctx) {
      const { owner, repo } = args;
      assertAllowed(deps, owner, repo);
      const path = args.path.replace(/^\/+/, "");
      const where = `${owner}/${repo}:${path || "/"}${args.ref ? `@${args.ref}` : ""}`;
      const { data } = await github(`reading ${where}`, ctx.signal, () =>
        deps.client.octokit.rest.repos.getContent({
          owner,
          repo,
          path,
          ...given({ ref: args.ref }),
          request: { signal: ctx.signal },
        }),
      );

      if (Array.isArray(data)) {
        const entries = (data as ContentEntry[]).map((e) =>
          compact({ name: e.name, type: e.type, size: e.type === "file" ? e.size : undefined }),
        );
        const fitted = ctx.budget.fitItems(entries, { reserve: 400 });
        return {
          text: jsonText(
            compact({
              path: path || "/",
              type: "dir",
              entries: fitted.items,
              omitted: fitted.omitted || undefined,
              note: fitted.truncated
                ? "Directory listing cut to the response budget: list a subdirectory, or use search_code with path:"
                : undefined,
            }),
          ),
          untrusted: true,
        };
      }

      const entry = data as ContentEntry;
      if (entry.type === "symlink") {
        return { text: jsonText({ path: entry.path, type: "symlink", target: entry.target ?? "" }), untrusted: true };
      }
      if (entry.type === "submodule") {
        return {
          text: jsonText({ path: entry.path, type: "submodule", sha: entry.sha, url: entry.submodule_git_url ?? "" }),
          untrusted: true,
        };
      }
      if (entry.type !== "file") {
        throw new ToolError("not_found", `${where} is a ${entry.type}, not a file or directory.`);
      }

      const bytes = await fileBytes(deps, entry, { owner, repo, path, ref: args.ref }, ctx.signal, where);
      const decoded = decodeFile(bytes);
      const header = {
        path: entry.path,
        type: "file",
        sha: entry.sha,
        size: entry.size ?? bytes.byteLength,
      };
      if (decoded.binary) {
        return {
          text: jsonText({ ...header, binary: true, note: "Binary file: contents not shown." }),
          untrusted: true,
        };
      }
      const fromLine = args.fromLine ?? 1;
      const page = pageLines(decoded.text, fromLine, ctx.budget.maxChars - 600);
      if (fromLine > 1 && page.toLine < fromLine) {
        throw new ToolError("invalid_argument", `fromLine ${fromLine} is past the end (${page.totalLines} lines).`, {
          details: { argument: "fromLine" },
        });
      }
      const meta = compact({
        ...header,
        lines: `${page.fromLine}-${page.toLine} of ${page.totalLines}`,
        nextFromLine: page.nextFromLine,
        hiddenCharactersRemoved: decoded.hiddenRemoved || undefined,
      });
      return { text: renderWithBody(meta, page.text), untrusted: true };
    },
  });
}

/** Files up to 1 MB come inline (base64); larger ones (up to 100 MB on GitHub) need the raw media type. */
async function fileBytes(
  deps: GitHubDeps,
  entry: ContentEntry,
  target: { owner: string; repo: string; path: string; ref: string | undefined },
  signal: AbortSignal,
  where: string,
): Promise<Uint8Array> {
  if (entry.encoding === "base64" && entry.content !== undefined) {
    return Buffer.from(entry.content, "base64");
  }
  const { data } = await github(`downloading ${where}`, signal, () =>
    deps.client.octokit.rest.repos.getContent({
      owner: target.owner,
      repo: target.repo,
      path: target.path,
      ...given({ ref: target.ref }),
      mediaType: { format: "raw" },
      request: { signal },
    }),
  );
  if (typeof data === "string") return Buffer.from(data, "utf8");
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  throw new ToolError("upstream_error", `GitHub sent an unexpected answer for the raw contents of ${where}.`);
}
