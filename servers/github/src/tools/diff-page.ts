import { type ResponseBudget, ToolError } from "@portside/shared";
import { DiffPageError, type FileDiff, pageDiff } from "../github/diff.js";
import { cleanText } from "../github/text.js";
import { compact, int, text } from "./common.js";

export const diffArgs = {
  file: int(0).optional().describe("diff: file index to start at (from `next`)"),
  offset: int(0).optional().describe("diff: character offset in that file (from `next`)"),
  path: text(4096).optional().describe("diff: show only this file"),
  maxChars: int(1000).optional().describe("diff: smaller page size"),
};

export interface DiffArgs {
  file?: number | undefined;
  offset?: number | undefined;
  path?: string | undefined;
  maxChars?: number | undefined;
}

/** Room for the rest of the JSON header in front of a diff page (segments, totals, hints). */
const HEADER_ROOM = 1500;

/**
 * One page of a diff: a JSON header (files in this page, totals, where to continue) and the raw
 * unified diff text. The first page also lists the changed files, so a model can jump to one.
 */
export function diffPage(
  files: FileDiff[],
  args: DiffArgs,
  budget: ResponseBudget,
  extra: Record<string, unknown> = {},
): { header: Record<string, unknown>; text: string } {
  const room = Math.min(budget.maxChars, args.maxChars ?? budget.maxChars) - HEADER_ROOM - JSON.stringify(extra).length;
  const first = (args.file ?? 0) === 0 && (args.offset ?? 0) === 0 && args.path === undefined;
  let index: Array<Record<string, unknown>> | undefined;
  let indexRoom = 0;
  if (first && files.length > 1) {
    const entries = files.map((f, i) =>
      compact({ file: i, path: f.path, status: f.status, additions: f.additions, deletions: f.deletions }),
    );
    const fitted = budget.narrow(Math.floor(room * 0.25)).fitItems(entries, { reserve: 0 });
    index = fitted.items;
    indexRoom = JSON.stringify(index).length;
  }
  let page: ReturnType<typeof pageDiff>;
  try {
    page = pageDiff(files, {
      ...(args.file !== undefined ? { file: args.file } : {}),
      ...(args.offset !== undefined ? { offset: args.offset } : {}),
      ...(args.path !== undefined ? { path: args.path } : {}),
      maxChars: Math.max(1000, room - indexRoom),
    });
  } catch (error) {
    if (error instanceof DiffPageError) {
      throw new ToolError("invalid_argument", `Cannot show that part of the diff: ${error.message}.`, {
        hint: "Start without file/offset/path to see the list of changed files.",
        details: { argument: args.path !== undefined ? "path" : args.offset !== undefined ? "offset" : "file" },
      });
    }
    throw error;
  }
  const header = compact({
    ...extra,
    totalFiles: page.totalFiles,
    totalChars: page.totalChars,
    files: index,
    filesListed: index && index.length < files.length ? `${index.length} of ${files.length}` : undefined,
    shown: page.segments,
    next: page.next,
    howToContinue: page.next
      ? `Call again with file=${page.next.file} and offset=${page.next.offset} (same other arguments).`
      : undefined,
  });
  return { header, text: cleanText(page.text) };
}
