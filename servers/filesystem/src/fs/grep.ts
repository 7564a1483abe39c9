/** Searching file contents below a directory: literal or regex, .gitignore-aware, bounded. */
import { FsError } from "../sandbox/errors.js";
import { relativeGlobs } from "../sandbox/glob.js";
import { openDescendantFile, type PinnedDir, readSmallFileSync } from "../sandbox/pinned.js";
import { type WalkEntry, walk } from "../sandbox/walk.js";
import type { GitignoreRules } from "./gitignore.js";
import { matchingLines, RegexRunner } from "./regex-runner.js";
import { looksBinary } from "./text.js";

export interface ContentSearchOptions {
  query: string;
  regex: boolean;
  caseSensitive: boolean;
  /** Globs a file must match (a pattern without '/' matches the file name at any depth). */
  include: readonly string[];
  exclude: readonly string[];
  contextLines: number;
  maxResults: number;
  /** Files larger than this are skipped. */
  maxFileBytes: number;
  /** Set to honour .gitignore files (the caller adds those above the start). */
  gitignore: GitignoreRules | undefined;
  /** Entries the operator denied: not searched and not entered. */
  hidden(entry: WalkEntry): boolean;
  /** Deepest level of entries to consider (1 = only the directory's own files). */
  maxDepth?: number;
  signal?: AbortSignal;
  progress?(done: number, total: number | undefined, message: string): void;
  regexDeadlineMs?: number;
}

export interface ContentMatch {
  /** Path relative to the search directory. */
  path: string;
  line: number;
  text: string;
  before: string[];
  after: string[];
}

export interface ContentSearchResult {
  matches: ContentMatch[];
  filesSearched: number;
  filesWithMatches: number;
  skippedBinary: number;
  skippedLarge: number;
  /** More matches exist than were returned. */
  truncated: boolean;
}

/** Files considered at most: a walk over more than this is cut short and reported as truncated. */
const MAX_CANDIDATES = 200_000;
const READ_WINDOW = 16;
const BATCH_CHARS = 1 << 20;
const MAX_LINE_CHARS = 400;

const escapeRegex = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

function clipLine(text: string): string {
  return text.length > MAX_LINE_CHARS ? `${text.slice(0, MAX_LINE_CHARS)}…` : text;
}

export function compileQuery(query: string, regex: boolean, caseSensitive: boolean): RegExp {
  const flags = caseSensitive ? "" : "i";
  if (!regex) return new RegExp(escapeRegex(query), flags);
  try {
    return new RegExp(query, flags);
  } catch (error) {
    throw new FsError("invalid_argument", `\`query\` is not a valid regular expression: ${(error as Error).message}.`, {
      argument: "query",
      hint: "Fix the pattern, or pass regex: false to search for the text literally.",
    });
  }
}

export async function searchContent(start: PinnedDir, options: ContentSearchOptions): Promise<ContentSearchResult> {
  const pattern = compileQuery(options.query, options.regex, options.caseSensitive);
  const include = relativeGlobs(options.include);
  const exclude = relativeGlobs(options.exclude);
  const { gitignore } = options;

  const candidates: string[] = [];
  let walkCut = false;
  await walk(start, {
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.maxDepth !== undefined ? { maxDepth: options.maxDepth } : {}),
    progress: (visited) => options.progress?.(0, undefined, `listing files: ${visited} entries so far`),
    ...(gitignore
      ? {
          enterDirectory(rel: string, dir: PinnedDir, names: readonly string[]) {
            if (!names.includes(".gitignore")) return;
            const content = readSmallFileSync(dir, ".gitignore", 1 << 20);
            if (content) gitignore.addWithin(rel, content);
          },
        }
      : {}),
    visit(entry) {
      if (options.hidden(entry)) return "skip";
      if (entry.kind === "directory") {
        if (entry.name === ".git" || exclude?.(entry.rel) || gitignore?.ignores(entry.rel, true)) return "skip";
        return undefined;
      }
      if (entry.kind !== "file") return undefined;
      if (exclude?.(entry.rel) || gitignore?.ignores(entry.rel, false)) return undefined;
      if (include && !include(entry.rel)) return undefined;
      candidates.push(entry.rel);
      if (candidates.length >= MAX_CANDIDATES) {
        walkCut = true;
        return "stop";
      }
      return undefined;
    },
  });

  const result: ContentSearchResult = {
    matches: [],
    filesSearched: 0,
    filesWithMatches: 0,
    skippedBinary: 0,
    skippedLarge: 0,
    truncated: walkCut,
  };
  const runner = options.regex
    ? new RegexRunner(options.query, pattern.flags, options.regexDeadlineMs ?? 2000)
    : undefined;
  const pending: Array<{ rel: string; text: string }> = [];
  let pendingChars = 0;

  const record = (rel: string, text: string, hits: number[]) => {
    if (hits.length === 0) return;
    result.filesWithMatches++;
    const lines = text.split("\n");
    if (text.endsWith("\n")) lines.pop();
    for (const index of hits) {
      if (result.matches.length >= options.maxResults) {
        result.truncated = true;
        return;
      }
      const from = Math.max(0, index - options.contextLines);
      result.matches.push({
        path: rel,
        line: index + 1,
        text: clipLine(stripCr(lines[index] ?? "")),
        before: lines.slice(from, index).map((l) => clipLine(stripCr(l))),
        after: lines.slice(index + 1, index + 1 + options.contextLines).map((l) => clipLine(stripCr(l))),
      });
    }
  };
  const room = () => options.maxResults - result.matches.length + 1;
  const flush = async () => {
    if (!runner || pending.length === 0) return;
    const batch = pending.splice(0);
    pendingChars = 0;
    const hits = await runner.run(
      batch.map((b) => ({ text: b.text, maxHits: room() })),
      options.signal,
    );
    batch.forEach((b, i) => {
      record(b.rel, b.text, hits[i] ?? []);
    });
  };

  try {
    for (let i = 0; i < candidates.length && !result.truncated; i += READ_WINDOW) {
      options.signal?.throwIfAborted();
      const window = candidates.slice(i, i + READ_WINDOW);
      const texts = await Promise.all(window.map((rel) => readCandidate(start, rel, options.maxFileBytes)));
      for (const [j, read] of texts.entries()) {
        const rel = window[j] as string;
        if (read === "large") result.skippedLarge++;
        else if (read === "binary") result.skippedBinary++;
        else if (read !== undefined) {
          result.filesSearched++;
          if (runner) {
            pending.push({ rel, text: read });
            pendingChars += read.length;
            if (pendingChars >= BATCH_CHARS) await flush();
          } else {
            record(
              rel,
              read,
              matchingLines(read, (line) => pattern.test(line), room()),
            );
          }
        }
        if (result.truncated) break;
      }
      const done = Math.min(i + READ_WINDOW, candidates.length);
      options.progress?.(done, candidates.length, `searched ${done} of ${candidates.length} files`);
    }
    await flush();
  } finally {
    runner?.close();
  }
  return result;
}

const stripCr = (line: string) => (line.endsWith("\r") ? line.slice(0, -1) : line);

async function readCandidate(
  start: PinnedDir,
  rel: string,
  maxBytes: number,
): Promise<string | "large" | "binary" | undefined> {
  const file = await openDescendantFile(start, rel);
  if (!file) return undefined;
  try {
    if (file.info.size > maxBytes) return "large";
    const buffer = Buffer.allocUnsafe(file.info.size);
    let filled = 0;
    while (filled < buffer.length) {
      const { bytesRead } = await file.handle.read(buffer, filled, buffer.length - filled, filled);
      if (bytesRead === 0) break;
      filled += bytesRead;
    }
    if (looksBinary(buffer.subarray(0, Math.min(filled, 8192)))) return "binary";
    return buffer.toString("utf8", 0, filled);
  } finally {
    await file.handle.close();
  }
}
