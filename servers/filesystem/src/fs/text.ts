/**
 * Reading text from an open file in bounded pieces: never more than the caller's cap is decoded,
 * whatever the file's size, and binary files are detected before any of them is shown.
 */
import { createHash } from "node:crypto";
import type { FileHandle } from "node:fs/promises";
import { StringDecoder } from "node:string_decoder";
import { FsError } from "../sandbox/errors.js";

const CHUNK = 256 * 1024;
const SNIFF_BYTES = 8192;

/**
 * A file is binary when its first bytes hold a NUL, or when more than a tenth of them are control
 * characters that text does not use. UTF-8 and Latin-1 text pass; images, archives and executables
 * do not.
 */
export function looksBinary(sample: Uint8Array): boolean {
  const n = Math.min(sample.length, SNIFF_BYTES);
  if (n === 0) return false;
  let odd = 0;
  for (let i = 0; i < n; i++) {
    const b = sample[i] as number;
    if (b === 0) return true;
    // Tab, newline, vertical tab, form feed, carriage return and escape appear in text.
    if (b < 7 || (b > 13 && b < 32 && b !== 27) || b === 127) odd++;
  }
  return odd * 10 > n;
}

export function binaryFileError(argument: string, shown: string, size: number): FsError {
  return new FsError(
    "invalid_argument",
    `\`${argument}\` (${JSON.stringify(shown)}) is a binary file (${size} bytes); it is not shown as text.`,
    {
      argument,
      hint: "Use read_media_file for images and audio, or get_file_info for its size and type.",
    },
  );
}

export interface TextPage {
  text: string;
  /** Number of the first line shown (1-based); 0 for a tail, whose line numbers are not counted. */
  startLine: number;
  /** Lines shown (a line cut in the middle counts). */
  lineCount: number;
  /** More of the file follows what is shown. */
  more: boolean;
  /** The text was cut to fit `maxChars` (rather than ending at the caller's line limit or the file's end). */
  cut: boolean;
  /** A single line was longer than `maxChars` and is shown only in part. */
  lineCut: boolean;
  /** Lines in the file, when the read reached its end. */
  totalLines?: number;
  totalBytes: number;
}

interface OpenFile {
  handle: FileHandle;
  size: number;
}

async function readAt(handle: FileHandle, buffer: Buffer, length: number, position: number): Promise<number> {
  let filled = 0;
  while (filled < length) {
    const { bytesRead } = await handle.read(buffer, filled, length - filled, position + filled);
    if (bytesRead === 0) break;
    filled += bytesRead;
  }
  return filled;
}

/** Lines in a string, counting a last line without a newline. */
function countLines(text: string): number {
  if (text.length === 0) return 0;
  let lines = 0;
  for (let i = text.indexOf("\n"); i !== -1; i = text.indexOf("\n", i + 1)) lines++;
  return text.endsWith("\n") ? lines : lines + 1;
}

/**
 * The whole file when it fits in `maxChars`, in a single read. Returns undefined when it does not
 * fit, so the caller pages through it instead.
 */
export async function readWholeIfSmall(
  file: OpenFile,
  maxChars: number,
  context: { argument: string; shown: string },
): Promise<TextPage | undefined> {
  // A UTF-8 character is at least one byte, so a file of at most maxChars bytes always fits.
  if (file.size > maxChars) return undefined;
  const buffer = Buffer.allocUnsafe(file.size);
  const length = await readAt(file.handle, buffer, file.size, 0);
  if (looksBinary(buffer.subarray(0, Math.min(length, SNIFF_BYTES)))) {
    throw binaryFileError(context.argument, context.shown, file.size);
  }
  const text = buffer.toString("utf8", 0, length);
  const lines = countLines(text);
  return {
    text,
    startLine: 1,
    lineCount: lines,
    more: false,
    cut: false,
    lineCut: false,
    totalLines: lines,
    totalBytes: file.size,
  };
}

/**
 * Lines `offset`… of the file, at most `limit` of them and at most `maxChars` characters. Streams
 * from the start, so reaching a late offset in a huge file costs time but no memory.
 */
export async function readLines(
  file: OpenFile,
  options: { offset: number; limit?: number; maxChars: number; signal?: AbortSignal },
  context: { argument: string; shown: string },
): Promise<TextPage> {
  const { offset, maxChars } = options;
  const limit = options.limit ?? Number.POSITIVE_INFINITY;
  const decoder = new StringDecoder("utf8");
  const buffer = Buffer.allocUnsafe(Math.min(CHUNK, Math.max(file.size, 1)));
  let position = 0;
  let line = 1;
  let out = "";
  let lineStart = 0; // where the line being collected begins in `out`
  let shownLines = 0;
  let more = false;
  let cut = false;
  let lineCut = false;
  let eof = false;
  let endedWithNewline = true;

  outer: for (;;) {
    options.signal?.throwIfAborted();
    const length = await readAt(file.handle, buffer, buffer.length, position);
    if (position === 0 && looksBinary(buffer.subarray(0, Math.min(length, SNIFF_BYTES)))) {
      throw binaryFileError(context.argument, context.shown, file.size);
    }
    position += length;
    eof = length < buffer.length;
    const text = length > 0 ? decoder.write(buffer.subarray(0, length)) + (eof ? decoder.end() : "") : decoder.end();
    if (text.length > 0) endedWithNewline = text.endsWith("\n");
    let pos = 0;
    while (pos < text.length) {
      if (line < offset) {
        const newline = text.indexOf("\n", pos);
        if (newline === -1) {
          pos = text.length;
          break;
        }
        pos = newline + 1;
        line++;
        continue;
      }
      if (shownLines >= limit) {
        more = true;
        break outer;
      }
      const newline = text.indexOf("\n", pos);
      const end = newline === -1 ? text.length : newline + 1;
      if (out.length + (end - pos) > maxChars) {
        cut = true;
        more = true;
        if (shownLines === 0) {
          // The first line alone is too long: show its beginning.
          out = out.slice(0, maxChars) + text.slice(pos, pos + Math.max(0, maxChars - out.length));
          lineCut = true;
        } else {
          out = out.slice(0, lineStart);
        }
        break outer;
      }
      out += text.slice(pos, end);
      pos = end;
      if (newline !== -1) {
        shownLines++;
        line++;
        lineStart = out.length;
      }
    }
    if (eof) break;
  }
  // Never end on half of a surrogate pair.
  if (out.length > 0 && (out.charCodeAt(out.length - 1) & 0xfc00) === 0xd800) out = out.slice(0, -1);
  // A last line without a newline counts as shown.
  if (!cut && out.length > lineStart) shownLines++;
  if (lineCut) shownLines = 1;
  const page: TextPage = {
    text: out,
    startLine: offset,
    lineCount: shownLines,
    more,
    cut,
    lineCut,
    totalBytes: file.size,
  };
  if (eof && !more) page.totalLines = endedWithNewline || position === 0 ? line - 1 : line;
  return page;
}

/**
 * The last `count` lines of the file, at most `maxChars` characters of them (the latest ones win).
 * Reads backwards from the end, so a huge file costs only the bytes shown.
 */
export async function readTail(
  file: OpenFile,
  options: { count: number; maxChars: number; signal?: AbortSignal },
  context: { argument: string; shown: string },
): Promise<TextPage> {
  const { count, maxChars } = options;
  const empty: TextPage = {
    text: "",
    startLine: 0,
    lineCount: 0,
    more: file.size > 0,
    cut: false,
    lineCut: false,
    totalBytes: file.size,
  };
  if (count === 0 || file.size === 0) return { ...empty, more: count === 0 && file.size > 0 };
  // Four bytes per character at most, plus a chunk of slack to find the line boundary.
  const byteBudget = maxChars * 4 + CHUNK;
  const chunks: Buffer[] = [];
  let collected = 0;
  let position = file.size;
  let newlines = 0;
  let start = -1; // byte index in the joined buffer where the tail begins
  let trailingChecked = false;
  while (position > 0 && start === -1 && collected < byteBudget) {
    options.signal?.throwIfAborted();
    const size = Math.min(CHUNK, position);
    position -= size;
    const chunk = Buffer.allocUnsafe(size);
    const length = await readAt(file.handle, chunk, size, position);
    const data = chunk.subarray(0, length);
    if (chunks.length === 0 && looksBinary(data.subarray(Math.max(0, data.length - SNIFF_BYTES)))) {
      throw binaryFileError(context.argument, context.shown, file.size);
    }
    chunks.unshift(data);
    collected += length;
    for (let i = data.length - 1; i >= 0; i--) {
      if (data[i] !== 0x0a) continue;
      if (!trailingChecked && position + i === file.size - 1) continue; // the file's final newline ends the last line
      newlines++;
      if (newlines === count) {
        start = i + 1;
        break;
      }
    }
    trailingChecked = true;
  }
  const joined = Buffer.concat(chunks);
  const fromStart = start === -1 ? 0 : start;
  const beginsAtLine = start !== -1 || position === 0;
  let text = joined.toString("utf8", fromStart);
  if (!beginsAtLine) {
    // Collected the byte budget without finding the line boundary: drop the partial first line.
    const newline = text.indexOf("\n");
    text = newline === -1 ? text : text.slice(newline + 1);
  }
  let cut = !beginsAtLine;
  let lineCut = false;
  if (text.length > maxChars) {
    cut = true;
    const from = text.length - maxChars;
    const newline = text.indexOf("\n", from);
    if (newline === -1 || newline === text.length - 1) {
      text = text.slice(from);
      lineCut = true;
    } else {
      text = text.slice(newline + 1);
    }
  }
  const more = position > 0 || fromStart > 0 || cut;
  return { text, startLine: 0, lineCount: countLines(text), more, cut, lineCut, totalBytes: file.size };
}

/** Reads a whole file as bytes, refusing files over `maxBytes`. */
export async function readAllBytes(
  file: OpenFile,
  maxBytes: number,
  context: { argument: string; shown: string },
): Promise<Buffer> {
  if (file.size > maxBytes) {
    throw new FsError(
      "too_large",
      `\`${context.argument}\` (${JSON.stringify(context.shown)}) is ${file.size} bytes, over the ${maxBytes}-byte read limit.`,
      {
        argument: context.argument,
        hint: "Ask the operator to raise --max-read-bytes, or read a smaller file.",
        details: { size: file.size, limit: maxBytes },
      },
    );
  }
  const buffer = Buffer.allocUnsafe(file.size);
  const length = await readAt(file.handle, buffer, file.size, 0);
  return buffer.subarray(0, length);
}

/** SHA-256 of the file's bytes, streamed. */
export async function hashFile(file: OpenFile, signal?: AbortSignal): Promise<string> {
  const hash = createHash("sha256");
  const buffer = Buffer.allocUnsafe(Math.min(CHUNK * 4, Math.max(file.size, 1)));
  let position = 0;
  for (;;) {
    signal?.throwIfAborted();
    const length = await readAt(file.handle, buffer, buffer.length, position);
    if (length === 0) break;
    hash.update(buffer.subarray(0, length));
    position += length;
    if (length < buffer.length) break;
  }
  return hash.digest("hex");
}

export const sha256 = (data: string | Uint8Array): string => createHash("sha256").update(data).digest("hex");
