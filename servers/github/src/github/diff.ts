/**
 * Unified diffs cut into pages a model can read: whole files while they fit, and a single large
 * file cut at a hunk (else line) boundary, with the position to continue from.
 */

export interface FileDiff {
  path: string;
  previousPath?: string;
  status: string;
  additions: number;
  deletions: number;
  /** The file's section of the unified diff, headers included. */
  text: string;
}

export interface DiffSegment {
  file: number;
  path: string;
  /** Character offsets into the file's section. */
  from: number;
  to: number;
  complete: boolean;
}

export interface DiffPage {
  text: string;
  segments: DiffSegment[];
  totalFiles: number;
  totalChars: number;
  /** Where the next page starts, when there is more. */
  next?: { file: number; offset: number };
}

/** Splits a raw `git diff` (GitHub's diff media type) into one section per file. */
export function splitUnifiedDiff(diff: string): FileDiff[] {
  if (!diff) return [];
  const starts: number[] = [];
  const header = /^diff --git /gm;
  for (let match = header.exec(diff); match; match = header.exec(diff)) starts.push(match.index);
  if (starts.length === 0) return [parseSection(diff)];
  // Anything before the first header (rare) belongs to the first file.
  starts[0] = 0;
  return starts.map((start, i) => parseSection(diff.slice(start, starts[i + 1] ?? diff.length)));
}

function parseSection(text: string): FileDiff {
  let oldPath: string | undefined;
  let newPath: string | undefined;
  let renameFrom: string | undefined;
  let renameTo: string | undefined;
  let status = "modified";
  let additions = 0;
  let deletions = 0;
  let inHunk = false;
  const lines = text.split("\n");
  for (const line of lines) {
    if (inHunk) {
      if (line.startsWith("+")) additions++;
      else if (line.startsWith("-")) deletions++;
      else if (line.startsWith("diff --git ")) inHunk = false;
      continue;
    }
    if (line.startsWith("@@")) inHunk = true;
    else if (line.startsWith("--- ")) oldPath = stripPrefix(line.slice(4), "a/");
    else if (line.startsWith("+++ ")) newPath = stripPrefix(line.slice(4), "b/");
    else if (line.startsWith("rename from ")) renameFrom = unquote(line.slice(12));
    else if (line.startsWith("rename to ")) renameTo = unquote(line.slice(10));
    else if (line.startsWith("new file mode")) status = "added";
    else if (line.startsWith("deleted file mode")) status = "removed";
    else if (line.startsWith("Binary files ")) status = status === "modified" ? "binary" : status;
  }
  if (renameFrom || renameTo) status = "renamed";
  const fromHeader = pathsFromGitHeader(lines[0] ?? "");
  const path =
    renameTo ?? (newPath && newPath !== "/dev/null" ? newPath : undefined) ?? oldPath ?? fromHeader.b ?? "(unknown)";
  const previous = renameFrom ?? (status === "renamed" ? fromHeader.a : undefined);
  return {
    path: path === "/dev/null" ? (fromHeader.a ?? path) : path,
    ...(previous && previous !== path ? { previousPath: previous } : {}),
    status,
    additions,
    deletions,
    text,
  };
}

function stripPrefix(value: string, prefix: string): string {
  const path = unquote(value.replace(/\t.*$/, ""));
  return path.startsWith(prefix) ? path.slice(prefix.length) : path;
}

/** Git quotes paths with unusual characters C-style: `"a/caf\303\251"`. */
function unquote(value: string): string {
  if (!(value.startsWith('"') && value.endsWith('"'))) return value;
  const bytes: number[] = [];
  const body = value.slice(1, -1);
  for (let i = 0; i < body.length; i++) {
    const ch = body[i]!;
    if (ch !== "\\") {
      bytes.push(...Buffer.from(ch, "utf8"));
      continue;
    }
    const next = body[++i] ?? "";
    if (/[0-7]/.test(next)) {
      const octal = body.slice(i, i + 3);
      bytes.push(Number.parseInt(octal, 8));
      i += 2;
    } else {
      const escapes: Record<string, string> = { n: "\n", t: "\t", '"': '"', "\\": "\\" };
      bytes.push(...Buffer.from(escapes[next] ?? next, "utf8"));
    }
  }
  return Buffer.from(bytes).toString("utf8");
}

function pathsFromGitHeader(line: string): { a?: string; b?: string } {
  const rest = line.replace(/^diff --git /, "");
  if (rest.startsWith('"')) {
    const match = /^("(?:[^"\\]|\\.)*")\s+("(?:[^"\\]|\\.)*"|\S.*)$/.exec(rest);
    if (!match) return {};
    return { a: stripPrefix(match[1]!, "a/"), b: stripPrefix(match[2]!, "b/") };
  }
  // `a/<path> b/<path>`: when both halves are the same path the split point is the middle.
  if (rest.startsWith("a/")) {
    const half = (rest.length - 1) / 2;
    if (Number.isInteger(half) && rest.slice(half, half + 3) === " b/") {
      return { a: rest.slice(2, half), b: rest.slice(half + 3) };
    }
    const at = rest.indexOf(" b/");
    if (at > 0) return { a: rest.slice(2, at), b: rest.slice(at + 3) };
  }
  return {};
}

/**
 * A file section rebuilt from the files API (`patch` per file), for pull requests whose full diff
 * GitHub refuses to render and for commits.
 */
export function fileDiffFromPatch(file: {
  filename: string;
  previous_filename?: string | undefined;
  status: string;
  additions: number;
  deletions: number;
  patch?: string | undefined;
}): FileDiff {
  const oldPath = file.previous_filename ?? file.filename;
  const lines = [`diff --git a/${oldPath} b/${file.filename}`];
  if (file.status === "renamed" && file.previous_filename) {
    lines.push(`rename from ${file.previous_filename}`, `rename to ${file.filename}`);
  }
  if (file.patch === undefined) {
    lines.push(
      file.additions + file.deletions > 0
        ? "(GitHub sent no patch for this file: it is binary or too large to show)"
        : "(no textual changes)",
    );
  } else {
    lines.push(
      `--- ${file.status === "added" ? "/dev/null" : `a/${oldPath}`}`,
      `+++ ${file.status === "removed" ? "/dev/null" : `b/${file.filename}`}`,
      file.patch,
    );
  }
  return {
    path: file.filename,
    ...(file.previous_filename ? { previousPath: file.previous_filename } : {}),
    status: file.status,
    additions: file.additions,
    deletions: file.deletions,
    text: `${lines.join("\n")}\n`,
  };
}

export interface PageRequest {
  /** Index of the file to start at. */
  file?: number;
  /** Character offset inside that file's section. */
  offset?: number;
  /** Show only this file (by path); paging then stays inside it. */
  path?: string;
  maxChars: number;
}

export class DiffPageError extends Error {}

export function pageDiff(files: readonly FileDiff[], request: PageRequest): DiffPage {
  const totalChars = files.reduce((sum, f) => sum + f.text.length, 0);
  let index = request.file ?? 0;
  if (request.path !== undefined) {
    const found = files.findIndex((f) => f.path === request.path || f.previousPath === request.path);
    if (found === -1) throw new DiffPageError(`no file ${JSON.stringify(request.path)} in this diff`);
    if (request.file !== undefined && request.file !== found) {
      throw new DiffPageError(`file ${request.file} is not ${JSON.stringify(request.path)} (that is file ${found})`);
    }
    index = found;
  }
  if (files.length === 0) return { text: "", segments: [], totalFiles: 0, totalChars: 0 };
  if (index < 0 || index >= files.length) {
    throw new DiffPageError(
      `file ${index} is out of range: the diff has ${files.length} files (0–${files.length - 1})`,
    );
  }
  let offset = request.offset ?? 0;
  if (offset < 0 || offset >= Math.max(1, files[index]!.text.length)) {
    throw new DiffPageError(
      `offset ${offset} is past the end of file ${index} (${files[index]!.text.length} characters)`,
    );
  }
  const room = Math.max(200, request.maxChars);
  const segments: DiffSegment[] = [];
  let text = "";
  let next: DiffPage["next"];
  while (index < files.length) {
    const file = files[index]!;
    const rest = file.text.slice(offset);
    if (text.length + rest.length <= room) {
      text += rest;
      segments.push({ file: index, path: file.path, from: offset, to: file.text.length, complete: true });
      index++;
      offset = 0;
      if (request.path !== undefined) break;
      continue;
    }
    if (text.length === 0) {
      const cut = cutPoint(rest, room);
      text = rest.slice(0, cut);
      segments.push({ file: index, path: file.path, from: offset, to: offset + cut, complete: false });
      next = { file: index, offset: offset + cut };
    } else {
      next = { file: index, offset };
    }
    break;
  }
  if (!next && request.path === undefined && index < files.length) next = { file: index, offset: 0 };
  return { text, segments, totalFiles: files.length, totalChars, ...(next ? { next } : {}) };
}

/** The largest clean prefix of `text` within `room`: before a hunk header, else after a line; never empty. */
function cutPoint(text: string, room: number): number {
  const hunk = text.lastIndexOf("\n@@", room - 1);
  if (hunk > room * 0.5) return hunk + 1;
  const line = text.lastIndexOf("\n", room - 1);
  if (line > 0) return line + 1;
  let cut = Math.min(room, text.length);
  const code = text.charCodeAt(cut - 1);
  if (code >= 0xd800 && code <= 0xdbff) cut--;
  return Math.max(1, cut);
}
