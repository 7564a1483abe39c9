import { lstat } from "node:fs/promises";
import { posix } from "node:path";
import { defineTool, type Tool, ToolError } from "@portside/shared";
import { z } from "zod";
import { applyEdits, fencedDiff, normalizeLineEndings, usesCrlf } from "../fs/edit.js";
import { binaryFileError, looksBinary, readAllBytes, sha256 } from "../fs/text.js";
import { FsError } from "../sandbox/errors.js";
import {
  copyInto,
  ensureDirectory,
  moveEntry,
  openDirectory,
  type PinnedDir,
  removeEntry,
  statResolved,
  writeAtomic,
} from "../sandbox/pinned.js";
import { isWithin } from "../sandbox/policy.js";
import type { ResolvedPath, Sandbox } from "../sandbox/sandbox.js";
import { walk } from "../sandbox/walk.js";
import { type FilesystemApp, resolveArgument, step, withFile } from "./context.js";

const WRITE = { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false };

/**
 * Opens the directory that will hold `resolved` (creating missing parents through open
 * descriptors) and returns it with the entry's name.
 */
async function parentFor(
  sandbox: Sandbox,
  resolved: ResolvedPath,
  argument: string,
): Promise<{ dir: PinnedDir; name: string }> {
  const name = posix.basename(resolved.real);
  if (resolved.exists || resolved.missing.length <= 1) {
    const parent = resolved.exists ? posix.dirname(resolved.real) : resolved.existing;
    return { dir: await step(argument, resolved.requested, () => openDirectory(parent, sandbox, argument)), name };
  }
  const dir = await step(argument, resolved.requested, () =>
    ensureDirectory(resolved.existing, resolved.missing.slice(0, -1), sandbox, argument),
  );
  return { dir, name };
}

/** The permission bits of an existing regular file at `name`, to keep them when replacing it. */
async function existingMode(
  dir: PinnedDir,
  name: string,
  argument: string,
  shown: string,
): Promise<number | undefined> {
  const info = await lstat(dir.at(name)).catch(() => undefined);
  if (!info) return undefined;
  if (info.isDirectory()) {
    throw new FsError("invalid_argument", `\`${argument}\` (${JSON.stringify(shown)}) is a directory.`, {
      argument,
      hint: "Write to a file path inside the directory instead.",
    });
  }
  return info.isFile() ? info.mode & 0o777 : undefined;
}

function writeFileTool(app: FilesystemApp): Tool {
  return defineTool({
    name: "write_file",
    title: "Write File",
    description:
      "Create a new file or completely overwrite an existing file with new content. Use with caution as it will " +
      "overwrite existing files without warning. Handles text content with proper encoding (UTF-8). Missing parent " +
      "directories are created. The write is atomic: readers see the old file or the new one, never a mix. " +
      "Only works within allowed directories.",
    input: z.object({
      path: z.string().describe("File to write."),
      content: z.string().describe("The complete new content."),
    }),
    output: z.object({ path: z.string(), bytes: z.number().int(), sha256: z.string(), created: z.boolean() }),
    annotations: WRITE,
    async handler(args, ctx) {
      const { sandbox, resolved } = await resolveArgument(app, ctx, args.path, { argument: "path" });
      const { dir, name } = await parentFor(sandbox, resolved, "path");
      const bytes = Buffer.from(args.content, "utf8");
      let created = true;
      try {
        await step("path", args.path, async () => {
          const mode = await existingMode(dir, name, "path", args.path);
          created = !resolved.exists;
          await writeAtomic(
            dir,
            name,
            async (handle) => {
              await handle.writeFile(bytes);
            },
            { replace: true, argument: "path", ...(mode !== undefined ? { mode } : {}) },
          );
        });
      } finally {
        dir.close();
      }
      const data = { path: posix.join(dir.real, name), bytes: bytes.length, sha256: sha256(bytes), created };
      return { data, text: `Successfully wrote to ${args.path}` };
    },
  });
}

const editOperation = z.object({
  oldText: z.string().describe("Text to search for - must match exactly"),
  newText: z.string().describe("Text to replace with"),
  occurrence: z
    .number()
    .int()
    .min(1)
    .optional()
    .describe("Which match to replace (1-based) when oldText matches more than once."),
  replaceAll: z.boolean().optional().describe("Replace every match of oldText."),
});

function matchesHash(actual: string, expected: string): boolean {
  const wanted = expected
    .trim()
    .toLowerCase()
    .replace(/^sha256:/, "");
  return wanted.length >= 8 && actual.startsWith(wanted);
}

function editFileTool(app: FilesystemApp): Tool {
  return defineTool({
    name: "edit_file",
    title: "Edit File",
    description:
      "Make line-based edits to a text file. Each edit replaces exact line sequences with new content. Returns a " +
      "git-style diff showing the changes made. An oldText that matches more than once is refused unless you pass " +
      "occurrence (which match) or replaceAll; when it matches nowhere exactly, a match ignoring each line's " +
      "indentation is tried. Pass expectedHash (the sha256 from get_file_info or a previous edit) to refuse the edit " +
      "if the file changed since. With dryRun, nothing is written. Writes are atomic. Only works within allowed directories.",
    input: z.object({
      path: z.string().describe("File to edit."),
      edits: z.array(editOperation).min(1).describe("Edits applied in order, each to the result of the previous one."),
      dryRun: z.boolean().default(false).describe("Preview changes using git-style diff format"),
      expectedHash: z
        .string()
        .optional()
        .describe("SHA-256 (hex, or its first 8+ characters) the file must have now; a mismatch refuses the edit."),
    }),
    output: z.object({
      path: z.string(),
      diff: z.string(),
      dryRun: z.boolean(),
      changed: z.boolean(),
      sha256Before: z.string(),
      sha256After: z.string(),
      edits: z.array(z.object({ replaced: z.number().int(), match: z.enum(["exact", "whitespace"]) })),
    }),
    annotations: { ...WRITE, idempotentHint: false },
    async handler(args, ctx) {
      const { sandbox, resolved } = await resolveArgument(app, ctx, args.path, { argument: "path" });
      const { bytes, mtimeMs, size, ino } = await withFile(sandbox, resolved, "path", async (file) => {
        const data = await readAllBytes({ handle: file.handle, size: file.info.size }, app.config.maxReadBytes, {
          argument: "path",
          shown: args.path,
        });
        if (looksBinary(data.subarray(0, 8192))) throw binaryFileError("path", args.path, data.length);
        return { bytes: data, mtimeMs: file.info.mtimeMs, size: file.info.size, ino: file.info.ino };
      });
      const before = sha256(bytes);
      if (args.expectedHash !== undefined && !matchesHash(before, args.expectedHash)) {
        throw new ToolError("conflict", `The file changed since you read it: its sha256 is now ${before}.`, {
          hint: "Read the file again, rebuild the edits against its current content, and pass the new hash.",
          details: { argument: "expectedHash", sha256: before },
        });
      }
      const original = bytes.toString("utf8");
      const normalized = normalizeLineEndings(original);
      const { content, applied } = await step("edits", args.path, async () => applyEdits(normalized, args.edits));
      const diff = fencedDiff(normalized, content, resolved.real);
      const changed = content !== normalized;
      let after = before;
      if (!args.dryRun && changed) {
        const output = Buffer.from(usesCrlf(original) ? content.replace(/\n/g, "\r\n") : content, "utf8");
        after = sha256(output);
        await writeInPlace(sandbox, resolved, output, { mtimeMs, size, ino }, args.path);
      } else if (changed) {
        after = sha256(Buffer.from(usesCrlf(original) ? content.replace(/\n/g, "\r\n") : content, "utf8"));
      }
      const note = args.dryRun
        ? `Dry run: nothing was written. Current sha256: ${before}`
        : changed
          ? `sha256: ${after}`
          : `No change: the edits leave the file as it was. sha256: ${before}`;
      return {
        data: {
          path: resolved.real,
          diff,
          dryRun: args.dryRun,
          changed,
          sha256Before: before,
          sha256After: after,
          edits: applied,
        },
        text: `${diff}${note}`,
      };
    },
  });
}

/** Replaces the file's content atomically, refusing if it changed after it was read. */
async function writeInPlace(
  sandbox: Sandbox,
  resolved: ResolvedPath,
  output: Buffer,
  seen: { mtimeMs: number; size: number; ino: number },
  shown: string,
): Promise<void> {
  const name = posix.basename(resolved.real);
  const dir = await step("path", shown, () => openDirectory(posix.dirname(resolved.real), sandbox, "path"));
  try {
    await step("path", shown, async () => {
      const current = await lstat(dir.at(name));
      await writeAtomic(
        dir,
        name,
        async (handle) => {
          await handle.writeFile(output);
        },
        {
          replace: true,
          argument: "path",
          mode: current.mode & 0o777,
          async beforePlace() {
            const now = await lstat(dir.at(name));
            if (now.mtimeMs !== seen.mtimeMs || now.size !== seen.size || now.ino !== seen.ino) {
              throw new FsError("conflict", "The file changed while the edit was being made; nothing was written.", {
                argument: "path",
                hint: "Read the file again and redo the edit.",
              });
            }
          },
        },
      );
    });
  } finally {
    dir.close();
  }
}

function createDirectoryTool(app: FilesystemApp): Tool {
  return defineTool({
    name: "create_directory",
    title: "Create Directory",
    description:
      "Create a new directory or ensure a directory exists. Can create multiple nested directories in one operation. " +
      "If the directory already exists, this operation will succeed silently. Perfect for setting up directory " +
      "structures for projects or ensuring required paths exist. Only works within allowed directories.",
    input: z.object({ path: z.string().describe("Directory to create, with any missing parents.") }),
    output: z.object({ path: z.string(), created: z.array(z.string()) }),
    annotations: { ...WRITE, destructiveHint: false },
    async handler(args, ctx) {
      const { sandbox, resolved } = await resolveArgument(app, ctx, args.path, { argument: "path" });
      if (resolved.exists) {
        const info = await step("path", args.path, () => statResolved(resolved.real, sandbox, "path"));
        if (!info.isDirectory()) {
          throw new ToolError("conflict", `\`path\` (${JSON.stringify(args.path)}) exists and is not a directory.`, {
            hint: "Choose another path.",
            details: { argument: "path" },
          });
        }
      } else {
        const dir = await step("path", args.path, () =>
          ensureDirectory(resolved.existing, resolved.missing, sandbox, "path"),
        );
        dir.close();
      }
      const created = resolved.missing.map((_, i) =>
        posix.join(resolved.existing, ...resolved.missing.slice(0, i + 1)),
      );
      return { data: { path: resolved.real, created }, text: `Successfully created directory ${args.path}` };
    },
  });
}

/**
 * Refuses to move or copy a directory that holds denied entries: once renamed, the deny patterns
 * might no longer cover them.
 */
async function assertNothingDeniedInside(
  sandbox: Sandbox,
  resolved: ResolvedPath,
  argument: string,
  signal: AbortSignal,
) {
  if (sandbox.deny.empty) return;
  const dir = await step(argument, resolved.requested, () => openDirectory(resolved.real, sandbox, argument));
  let found = false;
  try {
    await walk(dir, {
      signal,
      visit(entry) {
        if (sandbox.deny.matchesEntry(posix.join(resolved.rel, entry.rel), resolved.root)) {
          found = true;
          return "stop";
        }
        return undefined;
      },
    });
  } finally {
    dir.close();
  }
  if (found) {
    throw new ToolError(
      "permission_denied",
      `\`${argument}\` is a directory that holds paths the operator denied; it cannot be moved. (rule: denied_by_pattern)`,
      { hint: "Move the other entries one by one.", details: { argument, rule: "denied_by_pattern" } },
    );
  }
}

function moveFileTool(app: FilesystemApp): Tool {
  return defineTool({
    name: "move_file",
    title: "Move File",
    description:
      "Move or rename files and directories. Can move files between directories and rename them in a single " +
      "operation. If the destination exists, the operation will fail unless overwrite is true. Missing parent " +
      "directories of the destination are created. A symbolic link is moved as a link. Works across different " +
      "directories and can be used for simple renaming within the same directory. Both source and destination must " +
      "be within allowed directories.",
    input: z.object({
      source: z.string().describe("Entry to move."),
      destination: z.string().describe("New path (not the directory to move into)."),
      overwrite: z
        .boolean()
        .optional()
        .default(false)
        .describe("Replace an existing destination (a file, or an empty directory)."),
    }),
    annotations: { ...WRITE, idempotentHint: false },
    async handler(args, ctx) {
      const sandboxed = await resolveArgument(app, ctx, args.source, { argument: "source", followFinal: false });
      const { sandbox } = sandboxed;
      const source = sandboxed.resolved;
      if (!source.exists) {
        throw new ToolError("not_found", `\`source\` (${JSON.stringify(args.source)}) does not exist.`, {
          hint: "Check the path with list_directory.",
          details: { argument: "source" },
        });
      }
      const { resolved: destination } = await resolveArgument(app, ctx, args.destination, {
        argument: "destination",
        followFinal: false,
      });
      if (destination.real === source.real) return { text: `Successfully moved ${args.source} to ${args.destination}` };
      if (isWithin(destination.real, source.real)) {
        throw new ToolError("invalid_argument", "A directory cannot be moved into itself.", {
          hint: "Choose a destination outside the source directory.",
          details: { argument: "destination" },
        });
      }
      if (destination.exists && !args.overwrite) {
        throw new ToolError("conflict", `\`destination\` (${JSON.stringify(args.destination)}) already exists.`, {
          hint: "Pass overwrite: true to replace it, or choose another name.",
          details: { argument: "destination" },
        });
      }
      const kind = await lstat(source.real).catch(() => undefined);
      if (kind?.isDirectory()) await assertNothingDeniedInside(sandbox, source, "source", ctx.signal);
      const from = await step("source", args.source, () =>
        openDirectory(posix.dirname(source.real), sandbox, "source"),
      );
      try {
        const to = await parentFor(sandbox, destination, "destination");
        try {
          await step("destination", args.destination, () =>
            moveEntry(from, posix.basename(source.real), to.dir, to.name, {
              overwrite: args.overwrite,
              argument: "destination",
            }),
          );
        } finally {
          to.dir.close();
        }
      } finally {
        from.close();
      }
      return { text: `Successfully moved ${args.source} to ${args.destination}` };
    },
  });
}

function copyFileTool(app: FilesystemApp): Tool {
  return defineTool({
    name: "copy_file",
    title: "Copy File",
    description:
      "Copy a file to a new path (its content and permission bits). Fails if the destination exists unless overwrite " +
      "is true. Missing parent directories are created. The copy is atomic. Copies files only, not directories. " +
      "Both paths must be within allowed directories.",
    input: z.object({
      source: z.string().describe("File to copy."),
      destination: z.string().describe("Path of the copy."),
      overwrite: z.boolean().optional().default(false).describe("Replace an existing destination file."),
    }),
    output: z.object({ source: z.string(), destination: z.string(), bytes: z.number().int() }),
    annotations: { ...WRITE, idempotentHint: false },
    async handler(args, ctx) {
      const { sandbox, resolved: source } = await resolveArgument(app, ctx, args.source, { argument: "source" });
      const { resolved: destination } = await resolveArgument(app, ctx, args.destination, {
        argument: "destination",
        followFinal: false,
      });
      if (destination.exists && !args.overwrite) {
        throw new ToolError("conflict", `\`destination\` (${JSON.stringify(args.destination)}) already exists.`, {
          hint: "Pass overwrite: true to replace it, or choose another name.",
          details: { argument: "destination" },
        });
      }
      const bytes = await withFile(sandbox, source, "source", async (file) => {
        const to = await parentFor(sandbox, destination, "destination");
        try {
          await step("destination", args.destination, async () => {
            await existingMode(to.dir, to.name, "destination", args.destination);
            await copyInto(file, to.dir, to.name, {
              replace: args.overwrite,
              argument: "destination",
              signal: ctx.signal,
            });
          });
        } finally {
          to.dir.close();
        }
        return file.info.size;
      });
      return {
        data: { source: source.real, destination: destination.real, bytes },
        text: `Successfully copied ${args.source} to ${args.destination}`,
      };
    },
  });
}

function deleteFileTool(app: FilesystemApp): Tool {
  return defineTool({
    name: "delete_file",
    title: "Delete File",
    description:
      "Delete a file, a symbolic link (the link, not its target) or an empty directory. Directories with entries are " +
      "refused: delete their contents first. There is no undo. Only works within allowed directories.",
    input: z.object({ path: z.string().describe("File, link or empty directory to delete.") }),
    annotations: { ...WRITE, idempotentHint: true },
    async handler(args, ctx) {
      const { sandbox, resolved } = await resolveArgument(app, ctx, args.path, {
        argument: "path",
        followFinal: false,
      });
      if (!resolved.exists) {
        throw new ToolError("not_found", `\`path\` (${JSON.stringify(args.path)}) does not exist.`, {
          hint: "Check the path with list_directory.",
          details: { argument: "path" },
        });
      }
      const dir = await step("path", args.path, () => openDirectory(posix.dirname(resolved.real), sandbox, "path"));
      let kind: "file" | "directory";
      try {
        kind = await step("path", args.path, () => removeEntry(dir, posix.basename(resolved.real), "path"));
      } finally {
        dir.close();
      }
      return { text: `Successfully deleted ${kind === "directory" ? "directory" : "file"} ${args.path}` };
    },
  });
}

export function writeTools(app: FilesystemApp): Tool[] {
  return [writeFileTool(app), editFileTool(app), createDirectoryTool(app), moveFileTool(app), copyFileTool(app)];
}

export function deleteTools(app: FilesystemApp): Tool[] {
  return [deleteFileTool(app)];
}
