import { posix } from "node:path";
import { defineTool, type Tool, type ToolContext } from "@portside/shared";
import { z } from "zod";
import { displayName } from "../fs/display.js";
import { GitignoreRules } from "../fs/gitignore.js";
import { type ContentMatch, searchContent } from "../fs/grep.js";
import { hasEntrySync, openDirectory, readSmallFileSync, statResolved } from "../sandbox/pinned.js";
import { checkGlob, relativeTo } from "../sandbox/policy.js";
import type { ResolvedPath, Sandbox } from "../sandbox/sandbox.js";
import { deniedFilter } from "../sandbox/walk.js";
import { type FilesystemApp, READ_ONLY, resolveArgument, step, throttledProgress, withDirectory } from "./context.js";

/**
 * The .gitignore files between the search directory and the top of its repository (or of the
 * allowed directory), which apply to the search as git would apply them.
 */
async function gitignoreAbove(sandbox: Sandbox, start: ResolvedPath): Promise<GitignoreRules> {
  const rules = new GitignoreRules();
  let dir = start.real;
  while (dir !== start.root) {
    const parent = posix.dirname(dir);
    const pinned = await openDirectory(parent, sandbox, "path").catch(() => undefined);
    if (!pinned) break;
    try {
      const content = readSmallFileSync(pinned, ".gitignore", 1 << 20);
      if (content) rules.addAbove(relativeTo(start.real, parent), content);
      // The repository's top: .gitignore files above it do not apply.
      if (hasEntrySync(pinned, ".git")) break;
    } finally {
      pinned.close();
    }
    dir = parent;
  }
  return rules;
}

/** grep-style text: each file's path, then `line:text` for matches and `line-text` for context. */
function render(matches: readonly ContentMatch[], base: string): string {
  const out: string[] = [];
  let i = 0;
  while (i < matches.length) {
    const path = (matches[i] as ContentMatch).path;
    const lines = new Map<number, { text: string; match: boolean }>();
    for (; i < matches.length && (matches[i] as ContentMatch).path === path; i++) {
      const m = matches[i] as ContentMatch;
      m.before.forEach((text, k) => {
        const line = m.line - m.before.length + k;
        if (!lines.has(line)) lines.set(line, { text, match: false });
      });
      lines.set(m.line, { text: m.text, match: true });
      m.after.forEach((text, k) => {
        if (!lines.has(m.line + 1 + k)) lines.set(m.line + 1 + k, { text, match: false });
      });
    }
    if (out.length > 0) out.push("");
    out.push(displayName(posix.join(base, path)));
    let previous: number | undefined;
    for (const line of [...lines.keys()].sort((a, b) => a - b)) {
      if (previous !== undefined && line > previous + 1) out.push("--");
      const entry = lines.get(line) as { text: string; match: boolean };
      out.push(`${line}${entry.match ? ":" : "-"}${entry.text}`);
      previous = line;
    }
  }
  return out.join("\n");
}

export function searchContentTool(app: FilesystemApp): Tool {
  return defineTool({
    name: "search_content",
    title: "Search File Contents",
    description:
      "Search the text of files below a directory for a literal string or a regular expression, like grep/ripgrep. " +
      "Honours .gitignore files (and skips .git) unless respectGitignore is false; skips binary files and files over " +
      "the server's read limit. Filter files with include/exclude globs (a pattern without '/' matches the file name " +
      "at any depth, e.g. '*.ts'). Returns matching lines as 'path', then 'line:text', with contextLines of context " +
      "as 'line-text'. Case-insensitive unless the query has an uppercase letter or caseSensitive is set. Stops " +
      "after maxResults matches and says so. Only searches within allowed directories.",
    input: z.object({
      path: z.string().describe("Directory to search in (or a single file)."),
      query: z.string().min(1).describe("Text to find, or a JavaScript regular expression when regex is true."),
      regex: z.boolean().optional().default(false).describe("Treat query as a regular expression."),
      caseSensitive: z.boolean().optional().describe("Default: sensitive only when query has an uppercase letter."),
      include: z.array(z.string()).optional().default([]).describe("Only files matching one of these globs."),
      exclude: z.array(z.string()).optional().default([]).describe("Skip files and directories matching these globs."),
      contextLines: z
        .number()
        .int()
        .min(0)
        .max(10)
        .optional()
        .default(0)
        .describe("Lines of context before and after each match."),
      maxResults: z.number().int().min(1).max(2000).optional().default(100).describe("Most matching lines to return."),
      respectGitignore: z.boolean().optional().default(true),
    }),
    output: z.object({
      matches: z.array(
        z.object({
          path: z.string(),
          line: z.number().int(),
          text: z.string(),
          before: z.array(z.string()),
          after: z.array(z.string()),
        }),
      ),
      filesSearched: z.number().int(),
      filesWithMatches: z.number().int(),
      skippedBinary: z.number().int(),
      skippedLarge: z.number().int(),
      truncated: z.boolean(),
    }),
    annotations: READ_ONLY,
    timeoutMs: 120_000,
    async handler(args, ctx: ToolContext) {
      for (const [name, globs] of [
        ["include", args.include],
        ["exclude", args.exclude],
      ] as const) {
        for (const [i, glob] of globs.entries())
          await step(`${name}[${i}]`, glob, async () => checkGlob(glob, `${name}[${i}]`));
      }
      const requested = await resolveArgument(app, ctx, args.path, { argument: "path" });
      const { sandbox } = requested;
      let start = requested.resolved;
      const info = await step("path", args.path, () => statResolved(start.real, sandbox, "path"));
      // A single file: search its directory, looking only at that one entry.
      const onlyName = info.isDirectory() ? undefined : posix.basename(start.real);
      if (onlyName !== undefined) {
        const parent = posix.dirname(start.real);
        start = {
          ...start,
          real: parent,
          rel: relativeTo(parent, start.root),
          exists: true,
          existing: parent,
          missing: [],
        };
      }
      const denied = deniedFilter(sandbox.deny, start.root, start.rel);
      const gitignore = args.respectGitignore
        ? await step("path", args.path, () => gitignoreAbove(sandbox, start))
        : undefined;
      const caseSensitive = args.caseSensitive ?? /\p{Lu}/u.test(args.query);
      const result = await withDirectory(sandbox, start.real, "path", args.path, (dir) =>
        searchContent(dir, {
          query: args.query,
          regex: args.regex,
          caseSensitive,
          include: onlyName === undefined ? args.include : [],
          exclude: args.exclude,
          contextLines: args.contextLines,
          maxResults: args.maxResults,
          maxFileBytes: app.config.maxReadBytes,
          gitignore,
          hidden: onlyName === undefined ? denied : (entry) => entry.name !== onlyName || denied(entry),
          ...(onlyName !== undefined ? { maxDepth: 1 } : {}),
          signal: ctx.signal,
          progress: throttledProgress(ctx),
        }),
      );
      const base = start.real;
      const fitted = ctx.budget.fitItems(result.matches, {
        reserve: Math.floor(ctx.budget.maxChars / 2) + 500,
        atLeastOne: true,
      });
      const matches = fitted.items;
      const truncated = result.truncated || fitted.truncated;
      const summary =
        result.matches.length === 0
          ? `No matches (searched ${result.filesSearched} files).`
          : `Found ${result.matches.length}${result.truncated ? "+" : ""} matching line(s) in ${result.filesWithMatches} file(s) (searched ${result.filesSearched} files).`;
      const skipped =
        result.skippedBinary || result.skippedLarge
          ? ` Skipped ${result.skippedBinary} binary and ${result.skippedLarge} too-large file(s).`
          : "";
      const more = truncated
        ? `\n\n[Showing ${matches.length} match(es); more exist. Narrow the query, path or include globs, or raise maxResults.]`
        : "";
      return {
        data: { ...result, matches, truncated },
        text: `${summary}${skipped}\n\n${render(matches, base)}${more}`.trimEnd(),
        untrusted: true,
      };
    },
  });
}
