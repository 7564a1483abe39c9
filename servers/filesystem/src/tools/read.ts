import { pathToFileURL } from "node:url";
import type { ContentBlock } from "@modelcontextprotocol/sdk/types.js";
import { defineTool, type Tool, type ToolContext, ToolError } from "@portside/shared";
import { z } from "zod";
import { mimeTypeOf } from "../fs/mime.js";
import { readAllBytes, readLines, readTail, readWholeIfSmall, type TextPage } from "../fs/text.js";
import { type FilesystemApp, READ_ONLY, resolveArgument, textRoom, translate, withFile } from "./context.js";

const pathArgument = z
  .string()
  .describe("Path of the file: absolute, or relative to the first allowed directory (see list_allowed_directories).");

const readTextInput = z.object({
  path: pathArgument,
  tail: z.number().int().min(0).optional().describe("If provided, returns only the last N lines of the file"),
  head: z.number().int().min(0).optional().describe("If provided, returns only the first N lines of the file"),
  offset: z
    .number()
    .int()
    .min(1)
    .optional()
    .describe(
      "Line to start at (1-based). With limit, pages through a large file; a cut-off answer says which offset continues it.",
    ),
  limit: z
    .number()
    .int()
    .min(1)
    .optional()
    .describe("Most lines to return, starting at offset (default: as many as fit)."),
});

type ReadMode = "whole" | "head" | "lines" | "tail";

async function readTextPage(
  app: FilesystemApp,
  ctx: ToolContext,
  args: z.output<typeof readTextInput>,
  maxChars: number,
): Promise<{ page: TextPage; mode: ReadMode }> {
  if (args.head !== undefined && args.tail !== undefined) {
    throw new ToolError("invalid_argument", "Pass head or tail, not both.", {
      hint: "Use head for the first lines, tail for the last ones, or offset/limit for a range.",
      details: { argument: "tail" },
    });
  }
  if (args.tail !== undefined && (args.offset !== undefined || args.limit !== undefined)) {
    throw new ToolError("invalid_argument", "tail cannot be combined with offset or limit.", {
      hint: "Use tail alone, or offset/limit alone.",
      details: { argument: "tail" },
    });
  }
  const { sandbox, resolved } = await resolveArgument(app, ctx, args.path, { argument: "path" });
  const context = { argument: "path", shown: args.path };
  return withFile(sandbox, resolved, "path", async (opened) => {
    const file = { handle: opened.handle, size: opened.info.size };
    const signal = ctx.signal;
    if (args.tail !== undefined) {
      return { page: await readTail(file, { count: args.tail, maxChars, signal }, context), mode: "tail" };
    }
    if (args.head === undefined && args.offset === undefined && args.limit === undefined) {
      const page =
        (await readWholeIfSmall(file, maxChars, context)) ??
        (await readLines(file, { offset: 1, maxChars, signal }, context));
      return { page, mode: "whole" };
    }
    const limits = [args.head, args.limit].filter((n): n is number => n !== undefined);
    const limit = limits.length ? Math.min(...limits) : undefined;
    if (limit === 0) {
      return {
        page: {
          text: "",
          startLine: 1,
          lineCount: 0,
          more: opened.info.size > 0,
          cut: false,
          lineCut: false,
          totalBytes: opened.info.size,
        },
        mode: "head",
      };
    }
    const page = await readLines(
      file,
      { offset: args.offset ?? 1, ...(limit !== undefined ? { limit } : {}), maxChars, signal },
      context,
    );
    return { page, mode: args.offset !== undefined || args.limit !== undefined ? "lines" : "head" };
  });
}

/** The note after a page that says what is missing and which call gets it. */
export function continuationNote(page: TextPage, mode: ReadMode, tool: string): string {
  if (mode === "tail") {
    return page.cut
      ? `\n\n[Showing the last ${page.lineCount} line(s)${page.lineCut ? " (the last one only in part)" : ""}: earlier lines did not fit in the response. Use offset/limit to read other parts.]`
      : "";
  }
  const last = page.startLine + page.lineCount - 1;
  const total = page.totalLines !== undefined ? ` of ${page.totalLines}` : "";
  if (page.lineCut) {
    return `\n\n[Line ${page.startLine} is longer than the response limit; only its first ${page.text.length} characters are shown. Call ${tool} with offset=${page.startLine + 1} to read on from the next line.]`;
  }
  if (page.cut) {
    return `\n\n[Showing lines ${page.startLine}–${last}${total} (${page.totalBytes} bytes in the file); the rest did not fit in the response. To continue, call ${tool} with offset=${last + 1}.]`;
  }
  if (mode === "lines" && page.more) {
    return `\n\n[Showing lines ${page.startLine}–${last}. More follows: call ${tool} with offset=${last + 1}.]`;
  }
  if (mode === "lines" && page.lineCount === 0 && page.totalLines !== undefined) {
    return `[The file has only ${page.totalLines} line(s); offset ${page.startLine} is past its end.]`;
  }
  return "";
}

function readTextTool(app: FilesystemApp, name: "read_text_file" | "read_file"): Tool {
  const deprecated = name === "read_file";
  return defineTool({
    name,
    title: deprecated ? "Read File (Deprecated)" : "Read Text File",
    description: deprecated
      ? "Read the complete contents of a file as text. DEPRECATED: Use read_text_file instead."
      : "Read a file from the file system as text (UTF-8). Use 'head' for the first N lines, 'tail' for the last " +
        "N lines, or 'offset' (1-based line) with 'limit' to page through a large file. A file too large for one " +
        "response is cut at a line boundary with a note naming the offset that continues it. Binary files are " +
        "refused (use read_media_file). Only works within allowed directories.",
    input: readTextInput,
    annotations: READ_ONLY,
    async handler(args, ctx) {
      const { page, mode } = await readTextPage(app, ctx, args, textRoom(ctx));
      const note = continuationNote(page, mode, name);
      return { text: page.text.endsWith("\n") && note ? page.text + note.slice(1) : page.text + note, untrusted: true };
    },
  });
}

function readMediaFileTool(app: FilesystemApp): Tool {
  return defineTool({
    name: "read_media_file",
    title: "Read Media File",
    description:
      "Read a file and return it as a base64-encoded content block with its MIME type. Image and audio files are " +
      "returned as image/audio content; any other file type is returned as an embedded resource. Files over the " +
      "server's read limit are refused. Only works within allowed directories.",
    input: z.object({ path: pathArgument }),
    annotations: READ_ONLY,
    async handler(args, ctx) {
      const { sandbox, resolved } = await resolveArgument(app, ctx, args.path, { argument: "path" });
      const { data, real } = await withFile(sandbox, resolved, "path", async (opened) => ({
        data: await readAllBytes({ handle: opened.handle, size: opened.info.size }, app.config.maxReadBytes, {
          argument: "path",
          shown: args.path,
        }),
        real: opened.real,
      }));
      const mimeType = mimeTypeOf(real);
      const base64 = data.toString("base64");
      const block: ContentBlock = mimeType.startsWith("image/")
        ? { type: "image", data: base64, mimeType }
        : mimeType.startsWith("audio/")
          ? { type: "audio", data: base64, mimeType }
          : { type: "resource", resource: { uri: pathToFileURL(real).href, mimeType, blob: base64 } };
      return { content: [block], untrusted: true };
    },
  });
}

const MAX_FILES_AT_ONCE = 100;

function readMultipleFilesTool(app: FilesystemApp): Tool {
  return defineTool({
    name: "read_multiple_files",
    title: "Read Multiple Files",
    description:
      "Read the contents of multiple files simultaneously. This is more efficient than reading files one by one " +
      "when you need to analyze or compare multiple files. Each file's content is returned with its path as a " +
      "reference. Failed reads for individual files won't stop the entire operation. Each file gets an equal share " +
      `of the response; a file cut short says how to read the rest. At most ${MAX_FILES_AT_ONCE} paths. Only works ` +
      "within allowed directories.",
    input: z.object({
      paths: z
        .array(z.string())
        .min(1, "At least one file path must be provided")
        .max(MAX_FILES_AT_ONCE)
        .describe(
          "Array of file paths to read. Each path must be a string pointing to a valid file within allowed directories.",
        ),
    }),
    annotations: READ_ONLY,
    async handler(args, ctx) {
      // An equal share each, less room for the path and a continuation note.
      const share = Math.max(200, Math.floor(textRoom(ctx) / args.paths.length) - 250);
      const sections = await Promise.all(
        args.paths.map(async (path) => {
          try {
            const { page, mode } = await readTextPage(app, ctx, { path }, share);
            return `${path}:\n${page.text}${continuationNote(page, mode, "read_text_file")}\n`;
          } catch (error) {
            const translated = translate(error, "path", path);
            if (!(translated instanceof ToolError)) throw translated;
            return `${path}: Error - ${translated.message}`;
          }
        }),
      );
      return { text: sections.join("\n---\n"), untrusted: true };
    },
  });
}

export function readTools(app: FilesystemApp): Tool[] {
  return [
    readTextTool(app, "read_text_file"),
    readTextTool(app, "read_file"),
    readMediaFileTool(app),
    readMultipleFilesTool(app),
  ];
}
