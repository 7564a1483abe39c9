import { lstatSync } from "node:fs";
import { posix } from "node:path";
import { defineTool, type Tool } from "@portside/shared";
import picomatch from "picomatch";
import { z } from "zod";
import { displayName } from "../fs/display.js";
import { formatSize, permissionBits } from "../fs/format.js";
import { mimeTypeOf } from "../fs/mime.js";
import { hashFile } from "../fs/text.js";
import { listDirectorySync, openFileForReading, statResolved } from "../sandbox/pinned.js";
import { checkGlob } from "../sandbox/policy.js";
import { deniedFilter, type EntryKind, kindOf, walk } from "../sandbox/walk.js";
import {
  type FilesystemApp,
  READ_ONLY,
  resolveArgument,
  sessionSandbox,
  step,
  textRoom,
  throttledProgress,
  withDirectory,
} from "./context.js";

const entryType = z.enum(["file", "directory", "symlink", "other"]);
const label = (kind: EntryKind) => (kind === "directory" ? "[DIR]" : "[FILE]");

/** Lines that fit in `room` characters, from `offset`. */
function pageOfLines(lines: readonly string[], offset: number, room: number): { shown: string[]; next?: number } {
  const shown: string[] = [];
  let used = 0;
  for (let i = offset; i < lines.length; i++) {
    const line = lines[i] as string;
    if (used + line.length + 1 > room && shown.length > 0) return { shown, next: i };
    shown.push(line);
    used += line.length + 1;
  }
  return { shown };
}

async function listEntries(app: FilesystemApp, ctx: Parameters<Tool["call"]>[1], path: string, withSizes = false) {
  const { sandbox, resolved } = await resolveArgument(app, ctx, path, { argument: "path" });
  return withDirectory(sandbox, resolved.real, "path", path, async (dir) => {
    const hidden = deniedFilter(sandbox.deny, resolved.root, resolved.rel);
    const entries = listDirectorySync(dir)
      .map((d) => ({ name: d.name, type: kindOf(d) }))
      .filter((e) => !hidden({ name: e.name, rel: e.name, depth: 1, kind: e.type }))
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    // Sizes come from the entries themselves (lstat), through the open directory: a link's target,
    // which may be outside, is never measured.
    const sizes = withSizes
      ? entries.map((e) => lstatSync(dir.at(e.name), { throwIfNoEntry: false })?.size ?? 0)
      : entries.map(() => 0);
    return { real: dir.real, entries, sizes };
  });
}

function listDirectoryTool(app: FilesystemApp): Tool {
  return defineTool({
    name: "list_directory",
    title: "List Directory",
    description:
      "Get a detailed listing of all files and directories in a specified path. Results clearly distinguish between " +
      "files and directories with [FILE] and [DIR] prefixes, sorted by name. A listing too long for one response " +
      "ends with a note naming the offset that continues it. Only works within allowed directories.",
    input: z.object({
      path: z.string().describe("Directory to list."),
      offset: z.number().int().min(0).optional().describe("Entries to skip (from a previous cut-off listing)."),
    }),
    output: z.object({
      path: z.string(),
      entries: z.array(z.object({ name: z.string(), type: entryType })),
      total: z.number().int(),
      nextOffset: z.number().int().optional(),
    }),
    annotations: READ_ONLY,
    async handler(args, ctx) {
      const { real, entries } = await listEntries(app, ctx, args.path);
      const offset = args.offset ?? 0;
      const lines = entries.map((e) => `${label(e.type)} ${displayName(e.name)}`);
      // The structured entries repeat the listing (and weigh more per entry): give the text a third.
      const page = pageOfLines(lines, offset, Math.floor(textRoom(ctx) / 3));
      const shown = entries.slice(offset, offset + page.shown.length);
      let text = page.shown.join("\n");
      if (page.next !== undefined) {
        text += `\n\n[Showing entries ${offset + 1}–${page.next} of ${entries.length}. Call list_directory with offset=${page.next} for more.]`;
      }
      return {
        data: {
          path: real,
          entries: shown,
          total: entries.length,
          ...(page.next !== undefined ? { nextOffset: page.next } : {}),
        },
        text,
        untrusted: true,
      };
    },
  });
}

function listDirectoryWithSizesTool(app: FilesystemApp): Tool {
  return defineTool({
    name: "list_directory_with_sizes",
    title: "List Directory with Sizes",
    description:
      "Get a detailed listing of all files and directories in a specified path, including sizes. Results clearly " +
      "distinguish between files and directories with [FILE] and [DIR] prefixes. This tool is useful for " +
      "understanding directory structure and finding specific files within a directory. Only works within allowed directories.",
    input: z.object({
      path: z.string().describe("Directory to list."),
      sortBy: z.enum(["name", "size"]).optional().default("name").describe("Sort entries by name or size"),
      offset: z.number().int().min(0).optional().describe("Entries to skip (from a previous cut-off listing)."),
    }),
    annotations: READ_ONLY,
    async handler(args, ctx) {
      const { entries, sizes } = await listEntries(app, ctx, args.path, true);
      const measured = entries.map((e, i) => ({ ...e, size: sizes[i] ?? 0 }));
      if (args.sortBy === "size") measured.sort((a, b) => b.size - a.size);
      const lines = measured.map(
        (e) =>
          `${label(e.type)} ${displayName(e.name).padEnd(30)} ${e.type === "directory" ? "" : formatSize(e.size).padStart(10)}`,
      );
      const offset = args.offset ?? 0;
      const page = pageOfLines(lines, offset, textRoom(ctx) - 200);
      const files = measured.filter((e) => e.type !== "directory");
      const summary = [
        "",
        `Total: ${files.length} files, ${measured.length - files.length} directories`,
        `Combined size: ${formatSize(files.reduce((sum, e) => sum + e.size, 0))}`,
      ];
      if (page.next !== undefined) {
        summary.push(
          `[Showing entries ${offset + 1}–${page.next} of ${measured.length}. Call list_directory_with_sizes with offset=${page.next} for more.]`,
        );
      }
      return { text: [...page.shown, ...summary].join("\n"), untrusted: true };
    },
  });
}

interface TreeNode {
  name: string;
  type: "file" | "directory";
  children?: TreeNode[];
  /** Set on a directory whose entries were not listed (depth or entry limit). */
  truncated?: boolean;
}

/** Matches the reference server: a pattern without '*' also matches that name at any depth. */
function treeExcluder(patterns: readonly string[]): (rel: string) => boolean {
  const globs = patterns.flatMap((p) => (p.includes("*") ? [p] : [p, `**/${p}`, `**/${p}/**`]));
  if (globs.length === 0) return () => false;
  return picomatch(globs, { dot: true });
}

function directoryTreeTool(app: FilesystemApp): Tool {
  return defineTool({
    name: "directory_tree",
    title: "Directory Tree",
    description:
      "Get a recursive tree view of files and directories as a JSON structure. Each entry includes 'name', 'type' " +
      "(file/directory), and 'children' for directories. Files have no children array, while directories always " +
      "have a children array (which may be empty). The output is formatted with 2-space indentation for readability. " +
      "The tree is built breadth-first and stops at maxEntries (default 1000) or maxDepth; a directory whose entries " +
      'were left out has "truncated": true. Symbolic links are listed as files and not followed. Only works within ' +
      "allowed directories.",
    input: z.object({
      path: z.string().describe("Directory at the top of the tree."),
      excludePatterns: z
        .array(z.string())
        .optional()
        .default([])
        .describe("Globs (relative to path) to leave out; a plain name leaves it out at any depth."),
      maxDepth: z
        .number()
        .int()
        .min(1)
        .max(100)
        .optional()
        .describe("Levels to descend (1 = only the directory's own entries)."),
      maxEntries: z.number().int().min(1).max(20_000).optional().default(1000).describe("Most entries in the tree."),
    }),
    annotations: READ_ONLY,
    async handler(args, ctx) {
      for (const [i, p] of args.excludePatterns.entries()) {
        await step(`excludePatterns[${i}]`, p, async () => checkGlob(p, `excludePatterns[${i}]`));
      }
      const { sandbox, resolved } = await resolveArgument(app, ctx, args.path, { argument: "path" });
      const excluded = treeExcluder(args.excludePatterns);
      const progress = throttledProgress(ctx);
      const root: TreeNode[] = [];
      const nodes = new Map<string, TreeNode>();
      const entered = new Set<string>();
      let count = 0;
      const outcome = await withDirectory(sandbox, resolved.real, "path", args.path, async (dir) => {
        const hidden = deniedFilter(sandbox.deny, resolved.root, resolved.rel);
        return walk(dir, {
          signal: ctx.signal,
          progress: (visited) => progress(visited, undefined, `listed ${visited} entries`),
          ...(args.maxDepth !== undefined ? { maxDepth: args.maxDepth } : {}),
          enterDirectory(rel) {
            entered.add(rel);
          },
          visit(entry) {
            if (hidden(entry) || excluded(entry.rel)) return "skip";
            if (count >= args.maxEntries) return "stop";
            count++;
            const node: TreeNode =
              entry.kind === "directory"
                ? { name: entry.name, type: "directory", children: [] }
                : { name: entry.name, type: "file" };
            const slash = entry.rel.lastIndexOf("/");
            const siblings = slash === -1 ? root : nodes.get(entry.rel.slice(0, slash))?.children;
            siblings?.push(node);
            if (entry.kind === "directory") nodes.set(entry.rel, node);
            return undefined;
          },
        });
      });
      let truncatedDirs = 0;
      for (const [rel, node] of nodes) {
        if (!entered.has(rel)) {
          node.truncated = true;
          truncatedDirs++;
        }
      }
      let text = JSON.stringify(root, null, 2);
      const room = textRoom(ctx);
      let note = "";
      if (text.length > room) {
        text = JSON.stringify(root);
        note = "\n[The tree is shown without indentation to fit the response.]";
      }
      if (text.length > room) {
        return {
          text: `[The tree has ${count} entries and does not fit in the response even without indentation. Call directory_tree with a smaller maxEntries or maxDepth, or on a subdirectory.]`,
        };
      }
      if (outcome.stopped || truncatedDirs > 0) {
        note += `\n[${outcome.stopped ? `Stopped at maxEntries=${args.maxEntries}. ` : ""}${truncatedDirs} director${truncatedDirs === 1 ? "y was" : "ies were"} not expanded ("truncated": true). Call directory_tree on a subdirectory, or raise maxEntries/maxDepth.]`;
      }
      return { text: text + note, untrusted: true };
    },
  });
}

function getFileInfoTool(app: FilesystemApp): Tool {
  return defineTool({
    name: "get_file_info",
    title: "Get File Info",
    description:
      "Retrieve detailed metadata about a file or directory. Returns comprehensive information including size, " +
      "creation time, last modified time, permissions, and type, plus the SHA-256 of a file's content (pass it to " +
      "edit_file as expectedHash to refuse a stale edit). This tool is perfect for understanding file characteristics " +
      "without reading the actual content. Only works within allowed directories.",
    input: z.object({ path: z.string().describe("File or directory.") }),
    output: z.object({
      path: z.string(),
      type: entryType,
      size: z.number(),
      created: z.string(),
      modified: z.string(),
      accessed: z.string(),
      isDirectory: z.boolean(),
      isFile: z.boolean(),
      isSymbolicLink: z.boolean(),
      permissions: z.string(),
      mimeType: z.string().optional(),
      sha256: z.string().optional(),
    }),
    annotations: READ_ONLY,
    async handler(args, ctx) {
      const { sandbox, resolved } = await resolveArgument(app, ctx, args.path, { argument: "path" });
      const info = await step("path", args.path, () => statResolved(resolved.real, sandbox, "path"));
      let isSymbolicLink = false;
      if (resolved.rel !== "") {
        const entry = await sandbox.resolve(args.path, { argument: "path", followFinal: false }).catch(() => undefined);
        isSymbolicLink = entry ? (lstatSync(entry.real, { throwIfNoEntry: false })?.isSymbolicLink() ?? false) : false;
      }
      let sha256: string | undefined;
      if (info.isFile() && info.size <= app.config.maxReadBytes) {
        sha256 = await step("path", args.path, async () => {
          const file = await openFileForReading(resolved.real, sandbox, "path");
          try {
            return await hashFile({ handle: file.handle, size: file.info.size }, ctx.signal);
          } finally {
            await file.handle.close();
          }
        });
      }
      const data = {
        path: resolved.real,
        type: (info.isDirectory() ? "directory" : info.isFile() ? "file" : "other") as EntryKind,
        size: info.size,
        created: info.birthtime.toISOString(),
        modified: info.mtime.toISOString(),
        accessed: info.atime.toISOString(),
        isDirectory: info.isDirectory(),
        isFile: info.isFile(),
        isSymbolicLink,
        permissions: permissionBits(info.mode),
        ...(info.isFile() ? { mimeType: mimeTypeOf(resolved.real) } : {}),
        ...(sha256 ? { sha256 } : {}),
      };
      const text = Object.entries(data)
        .map(([key, value]) => `${key}: ${value}`)
        .join("\n");
      return { data, text };
    },
  });
}

function listAllowedDirectoriesTool(app: FilesystemApp): Tool {
  return defineTool({
    name: "list_allowed_directories",
    title: "List Allowed Directories",
    description:
      "Returns the list of directories that this server is allowed to access. Subdirectories within these allowed " +
      "directories are also accessible. Use this to understand which directories and their nested paths are " +
      "available before trying to access files. When the client shares roots, this is the part of the operator's " +
      "directories inside them.",
    input: z.object({}),
    output: z.object({ directories: z.array(z.string()), readOnly: z.boolean() }),
    annotations: READ_ONLY,
    async handler(_args, ctx) {
      const sandbox = await sessionSandbox(app, ctx);
      const directories = sandbox.directories;
      const text =
        directories.length > 0
          ? `Allowed directories:\n${directories.join("\n")}`
          : "Allowed directories:\n(none: the client's roots do not overlap the directories this server was given)";
      return { data: { directories, readOnly: app.config.readOnly }, text };
    },
  });
}

const DEFAULT_MAX_MATCHES = 1000;

function searchFilesTool(app: FilesystemApp): Tool {
  return defineTool({
    name: "search_files",
    title: "Search Files",
    description:
      "Recursively search for files and directories matching a pattern. The patterns should be glob-style patterns " +
      "that match paths relative to the working directory. Use pattern like '*.ext' to match files in current " +
      "directory, and '**/*.ext' to match files in all subdirectories. Returns full paths to all matching items " +
      `(breadth-first, at most maxResults, default ${DEFAULT_MAX_MATCHES}). Great for finding files when you don't ` +
      "know their exact location. Symbolic links are not followed. Only searches within allowed directories.",
    input: z.object({
      path: z.string().describe("Directory to search in."),
      pattern: z.string().min(1).describe("Glob matched against each path relative to `path`, e.g. '**/*.ts'."),
      excludePatterns: z
        .array(z.string())
        .optional()
        .default([])
        .describe("Globs (relative to path) to skip, with everything below them."),
      maxResults: z.number().int().min(1).max(10_000).optional().default(DEFAULT_MAX_MATCHES),
    }),
    output: z.object({ matches: z.array(z.string()), truncated: z.boolean() }),
    annotations: READ_ONLY,
    async handler(args, ctx) {
      await step("pattern", args.pattern, async () => checkGlob(args.pattern, "pattern"));
      for (const [i, p] of args.excludePatterns.entries()) {
        await step(`excludePatterns[${i}]`, p, async () => checkGlob(p, `excludePatterns[${i}]`));
      }
      const { sandbox, resolved } = await resolveArgument(app, ctx, args.path, { argument: "path" });
      const matches: string[] = [];
      const progress = throttledProgress(ctx);
      const matcher = picomatch(args.pattern, { dot: true });
      const excluded = args.excludePatterns.length ? picomatch(args.excludePatterns, { dot: true }) : () => false;
      let truncated = false;
      await withDirectory(sandbox, resolved.real, "path", args.path, async (dir) => {
        const hidden = deniedFilter(sandbox.deny, resolved.root, resolved.rel);
        const base = dir.real;
        await walk(dir, {
          signal: ctx.signal,
          progress: (visited) => progress(visited, undefined, `searched ${visited} entries`),
          visit(entry) {
            if (hidden(entry) || excluded(entry.rel)) return "skip";
            if (matcher(entry.rel)) {
              if (matches.length >= args.maxResults) {
                truncated = true;
                return "stop";
              }
              matches.push(posix.join(base, entry.rel));
            }
            return undefined;
          },
        });
      });
      const page = pageOfLines(matches.map(displayName), 0, Math.floor(textRoom(ctx) / 2));
      if (page.next !== undefined) {
        matches.length = page.next;
        truncated = true;
      }
      let text = matches.length > 0 ? page.shown.join("\n") : "No matches found";
      if (truncated) {
        text += `\n\n[Showing the first ${matches.length} matches (shallowest first). Narrow the pattern or the path, or raise maxResults, to see more.]`;
      }
      return { data: { matches, truncated }, text, untrusted: true };
    },
  });
}

export function browseTools(app: FilesystemApp): Tool[] {
  return [
    listDirectoryTool(app),
    listDirectoryWithSizesTool(app),
    directoryTreeTool(app),
    searchFilesTool(app),
    getFileInfoTool(app),
    listAllowedDirectoriesTool(app),
  ];
}
