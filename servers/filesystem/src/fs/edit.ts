/** Text edits by exact (or whitespace-tolerant) replacement, and the unified diff they make. */
import { createTwoFilesPatch } from "diff";
import { FsError } from "../sandbox/errors.js";

export interface EditOperation {
  oldText: string;
  newText: string;
  /** Which match to replace (1-based) when `oldText` matches more than once. */
  occurrence?: number | undefined;
  /** Replace every match. */
  replaceAll?: boolean | undefined;
}

export interface AppliedEdit {
  /** Matches replaced. */
  replaced: number;
  /** "whitespace" when the text matched only with each line's surrounding whitespace ignored. */
  match: "exact" | "whitespace";
}

export const normalizeLineEndings = (text: string): string => text.replace(/\r\n/g, "\n");

/** Whether a file's lines end in CRLF (most of them), so edits can write them back that way. */
export function usesCrlf(text: string): boolean {
  const crlf = text.match(/\r\n/g)?.length ?? 0;
  if (crlf === 0) return false;
  const lf = text.match(/\n/g)?.length ?? 0;
  return crlf * 2 >= lf;
}

function lineOf(text: string, index: number): number {
  let line = 1;
  for (let i = text.indexOf("\n"); i !== -1 && i < index; i = text.indexOf("\n", i + 1)) line++;
  return line;
}

function exactMatches(text: string, needle: string): number[] {
  const found: number[] = [];
  for (let i = text.indexOf(needle); i !== -1; i = text.indexOf(needle, i + needle.length)) found.push(i);
  return found;
}

function whitespaceMatches(lines: readonly string[], wanted: readonly string[]): number[] {
  const trimmed = wanted.map((l) => l.trim());
  const found: number[] = [];
  for (let i = 0; i + wanted.length <= lines.length; i++) {
    let ok = true;
    for (let j = 0; j < wanted.length; j++) {
      if ((lines[i + j] as string).trim() !== trimmed[j]) {
        ok = false;
        break;
      }
    }
    if (ok) {
      found.push(i);
      i += wanted.length - 1;
    }
  }
  return found;
}

/**
 * New lines for a whitespace-tolerant match: the indentation the caller's oldText had is swapped
 * for the indentation found in the file, so relative indentation inside newText is kept.
 */
function reindent(found: readonly string[], oldLines: readonly string[], newText: string): string[] {
  const indentOf = (line: string) => /^[ \t]*/.exec(line)?.[0] ?? "";
  const fileIndent = indentOf(found[0] ?? "");
  const givenIndent = indentOf(oldLines[0] ?? "");
  return newText.split("\n").map((line) => {
    if (line.trim() === "") return line.trimStart();
    if (line.startsWith(givenIndent)) return fileIndent + line.slice(givenIndent.length);
    return fileIndent + line.trimStart();
  });
}

function pick(
  matches: readonly number[],
  edit: EditOperation,
  index: number,
  describe: (m: number) => number,
): number[] {
  const argument = `edits[${index}]`;
  if (edit.replaceAll) return [...matches];
  if (edit.occurrence !== undefined) {
    if (edit.occurrence > matches.length) {
      throw new FsError(
        "invalid_argument",
        `${argument}.occurrence is ${edit.occurrence}, but oldText matches only ${matches.length} time(s).`,
        {
          argument: `${argument}.occurrence`,
          hint: "Read the file again and pick an existing occurrence.",
        },
      );
    }
    return [matches[edit.occurrence - 1] as number];
  }
  if (matches.length > 1) {
    const lines = matches.slice(0, 10).map(describe);
    throw new FsError(
      "conflict",
      `${argument}.oldText matches ${matches.length} times (at lines ${lines.join(", ")}${matches.length > 10 ? ", …" : ""}); nothing was changed.`,
      {
        argument: `${argument}.oldText`,
        hint: "Add surrounding lines to oldText so it matches once, or pass occurrence: N (1-based) or replaceAll: true.",
        details: { matches: matches.length },
      },
    );
  }
  return [...matches];
}

/**
 * Applies the edits in order, each to the result of the one before. An edit's `oldText` must match
 * exactly once (or say which match, or all); when it matches nowhere exactly, a match that ignores
 * each line's leading and trailing whitespace is tried. Text is expected with LF line endings.
 */
export function applyEdits(
  original: string,
  edits: readonly EditOperation[],
): { content: string; applied: AppliedEdit[] } {
  let content = original;
  const applied: AppliedEdit[] = [];
  edits.forEach((raw, index) => {
    const edit = { ...raw, oldText: normalizeLineEndings(raw.oldText), newText: normalizeLineEndings(raw.newText) };
    if (edit.oldText.length === 0) {
      throw new FsError("invalid_argument", `edits[${index}].oldText is empty.`, {
        argument: `edits[${index}].oldText`,
        hint: "To insert text, include a neighbouring line in oldText and repeat it in newText; to create a file, use write_file.",
      });
    }
    const exact = exactMatches(content, edit.oldText);
    if (exact.length > 0) {
      const chosen = pick(exact, edit, index, (m) => lineOf(content, m));
      let next = "";
      let last = 0;
      for (const at of chosen) {
        next += content.slice(last, at) + edit.newText;
        last = at + edit.oldText.length;
      }
      content = next + content.slice(last);
      applied.push({ replaced: chosen.length, match: "exact" });
      return;
    }
    const lines = content.split("\n");
    const oldLines = edit.oldText.split("\n");
    const loose = whitespaceMatches(lines, oldLines);
    if (loose.length === 0) {
      throw new FsError(
        "invalid_argument",
        `edits[${index}].oldText was not found in the file (not even ignoring indentation); nothing was changed.`,
        {
          argument: `edits[${index}].oldText`,
          hint: "Read the file again and copy the exact text to replace, including line breaks.",
        },
      );
    }
    const chosen = pick(loose, edit, index, (m) => m + 1);
    // Replace from the bottom so earlier line numbers stay valid.
    for (const at of [...chosen].reverse()) {
      lines.splice(at, oldLines.length, ...reindent(lines.slice(at, at + oldLines.length), oldLines, edit.newText));
    }
    content = lines.join("\n");
    applied.push({ replaced: chosen.length, match: "whitespace" });
  });
  return { content, applied };
}

/** A git-style unified diff in a fenced block, in the reference server's format. */
export function fencedDiff(original: string, modified: string, path: string): string {
  const diff = createTwoFilesPatch(path, path, original, modified, "original", "modified");
  let fence = "```";
  while (diff.includes(fence)) fence += "`";
  return `${fence}diff\n${diff}${fence}\n\n`;
}
