import { sanitizeMarkup, sanitizeTextWithCount } from "@portside/shared";

/**
 * Text written by GitHub users (titles, bodies, comments, commit messages, file contents, logs) is
 * third-party input: it is cleaned before a model sees it, and the result says when something was
 * removed, so a human reviewing the transcript knows the original held hidden content.
 */

export interface CleanMarkup {
  text: string;
  hiddenRemoved: boolean;
}

/** Markdown that GitHub renders (issue, PR, comment, review and release bodies). */
export function cleanMarkup(value: string | null | undefined): CleanMarkup {
  if (!value) return { text: "", hiddenRemoved: false };
  const cleaned = sanitizeMarkup(value);
  return {
    text: cleaned.length === value.length ? cleaned : cleaned.trimEnd(),
    hiddenRemoved: cleaned.length !== value.length,
  };
}

/** Plain text: titles, names, commit messages, code. */
export function cleanText(value: string | null | undefined): string {
  return value ? sanitizeTextWithCount(value).text : "";
}

export interface DecodedFile {
  binary: boolean;
  text: string;
  /** Hidden characters removed from the text. */
  hiddenRemoved: number;
}

/** Decodes file bytes as UTF-8 text, or reports them as binary (NUL bytes or invalid UTF-8). */
export function decodeFile(bytes: Uint8Array): DecodedFile {
  const sample = bytes.subarray(0, 8000);
  if (sample.includes(0)) return { binary: true, text: "", hiddenRemoved: 0 };
  let decoded: string;
  try {
    decoded = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    return { binary: true, text: "", hiddenRemoved: 0 };
  }
  if (decoded.charCodeAt(0) === 0xfeff) decoded = decoded.slice(1);
  const { text, removed } = sanitizeTextWithCount(decoded);
  return { binary: false, text, hiddenRemoved: removed };
}

export interface LinePage {
  text: string;
  fromLine: number;
  toLine: number;
  totalLines: number;
  nextFromLine?: number;
}

/** Lines `fromLine`… of `text` (1-based) that fit in `maxChars`; at least one line, cut if it alone is too long. */
export function pageLines(text: string, fromLine: number, maxChars: number): LinePage {
  const lines = text.split("\n");
  if (lines.length > 1 && lines[lines.length - 1] === "") lines.pop();
  const totalLines = lines.length;
  if (fromLine > totalLines) {
    return { text: "", fromLine, toLine: fromLine - 1, totalLines };
  }
  let used = 0;
  let end = fromLine - 1;
  const out: string[] = [];
  while (end < totalLines) {
    const line = lines[end]!;
    const cost = line.length + 1;
    if (used + cost > maxChars) {
      if (out.length === 0) {
        out.push(`${line.slice(0, Math.max(1, maxChars - 80))} [line cut: ${line.length} characters]`);
        end++;
      }
      break;
    }
    out.push(line);
    used += cost;
    end++;
  }
  return {
    text: out.join("\n"),
    fromLine,
    toLine: end,
    totalLines,
    ...(end < totalLines ? { nextFromLine: end + 1 } : {}),
  };
}
