/**
 * The last lines of a (possibly huge) job log, read from the short-lived signed URL GitHub
 * redirects to. It asks for just the end of the file with a Range request; if the storage answers
 * with the whole file instead, it streams it and keeps only a rolling tail in memory.
 */

/** Bytes of the end of the log to fetch: plenty for a few thousand lines. */
export const TAIL_BYTES = 512 * 1024;
/** Reading more than this to reach the end is not worth it. */
const MAX_STREAM_BYTES = 200 * 1024 * 1024;

export interface LogTail {
  text: string;
  /** Total size of the log when known. */
  totalBytes?: number;
  /** True when the text is only the end of the log. */
  partial: boolean;
}

export async function fetchLogTail(url: string, signal: AbortSignal): Promise<LogTail> {
  const response = await fetch(url, { headers: { range: `bytes=-${TAIL_BYTES}` }, redirect: "error", signal });
  if (!response.ok) {
    await response.body?.cancel().catch(() => undefined);
    throw new Error(`log storage answered ${response.status}`);
  }
  // Whether the storage honoured the Range (206) or sent the whole file (200), the body is streamed
  // through a rolling window, so an answer bigger than asked for can't fill memory.
  const ranged = response.status === 206;
  const rangeTotal = ranged ? Number(/\/(\d+)$/.exec(response.headers.get("content-range") ?? "")?.[1]) : Number.NaN;
  let window = new Uint8Array(0);
  let received = 0;
  let cut = false;
  const reader = response.body?.getReader();
  if (reader) {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      received += value.byteLength;
      const joined = new Uint8Array(window.byteLength + value.byteLength);
      joined.set(window);
      joined.set(value, window.byteLength);
      window = joined.byteLength > TAIL_BYTES ? joined.slice(joined.byteLength - TAIL_BYTES) : joined;
      if (received > MAX_STREAM_BYTES) {
        await reader.cancel().catch(() => undefined);
        cut = true;
        break;
      }
    }
  }
  const total = Number.isFinite(rangeTotal) ? rangeTotal : cut ? undefined : received;
  const partial = cut || (total === undefined ? true : total > window.byteLength);
  return { text: decodeTail(window, partial), ...(total !== undefined ? { totalBytes: total } : {}), partial };
}

/** Decodes bytes that may start mid-character (and mid-line, which is dropped). */
function decodeTail(bytes: Uint8Array, partial: boolean): string {
  const text = new TextDecoder("utf-8").decode(bytes);
  if (!partial) return text;
  const newline = text.indexOf("\n");
  return newline >= 0 ? text.slice(newline + 1) : text;
}

/** The last `lines` lines of text (a trailing newline does not count as a line). */
export function lastLines(text: string, lines: number): { text: string; shownLines: number; totalLines: number } {
  const all = text.replace(/\n$/, "").split("\n");
  const shown = all.slice(-lines);
  return { text: shown.join("\n"), shownLines: shown.length, totalLines: all.length };
}
