import type { Dirent } from "node:fs";
import { posix } from "node:path";
import type { DenyList } from "./deny.js";
import { errnoOf } from "./errors.js";
import { listDirectorySync, openDescendantSync, type PinnedDir } from "./pinned.js";

export type EntryKind = "file" | "directory" | "symlink" | "other";

export interface WalkEntry {
  name: string;
  /** Path relative to the directory the walk started in. */
  rel: string;
  /** 1 for the start directory's own entries. */
  depth: number;
  kind: EntryKind;
}

/** "skip": do not descend into this directory; "stop": end the walk now. */
export type VisitResult = undefined | "skip" | "stop";

export interface WalkOptions {
  signal?: AbortSignal;
  /** Deepest level of entries to report (1 = only the start directory's entries). */
  maxDepth?: number;
  /** Called for each directory once it is open, before its entries are visited (e.g. to read a .gitignore). */
  enterDirectory?(rel: string, dir: PinnedDir, names: readonly string[]): void;
  /** Called per entry: breadth-first, sorted by name within each directory. */
  visit(entry: WalkEntry): VisitResult;
  /** Called each time the walk pauses to let other work run, with the entries seen so far. */
  progress?(visited: number): void;
}

export interface WalkOutcome {
  /** The visitor stopped the walk before it finished. */
  stopped: boolean;
  /** Directories that could not be read (no permission, or moved while walking). */
  unreadable: number;
}

/** Why a directory below the start may fail to open: it is skipped and counted, not fatal. */
const UNREADABLE = new Set(["ENOENT", "EACCES", "EPERM", "ELOOP", "ENOTDIR", "ENAMETOOLONG"]);

/** How long the walk may hold the event loop before it lets other requests run. */
const SLICE_MS = 8;

export function kindOf(entry: Dirent): EntryKind {
  if (entry.isDirectory()) return "directory";
  if (entry.isFile()) return "file";
  if (entry.isSymbolicLink()) return "symlink";
  return "other";
}

/**
 * Walks the tree below an open directory, breadth-first. Symbolic links are reported but never
 * followed, and every directory is opened with O_NOFOLLOW below the pinned start and confirmed to
 * be exactly where it was listed, so the walk cannot be led outside. The system calls are
 * synchronous (several times faster than a round trip to the thread pool per directory) and the
 * walk yields to the event loop every few milliseconds, checking for cancellation.
 */
export async function walk(start: PinnedDir, options: WalkOptions): Promise<WalkOutcome> {
  const queue: Array<{ rel: string; depth: number }> = [{ rel: "", depth: 0 }];
  let unreadable = 0;
  let visited = 0;
  let sliceStart = performance.now();
  for (let head = 0; head < queue.length; head++) {
    if (performance.now() - sliceStart > SLICE_MS) {
      options.progress?.(visited);
      await new Promise((resolve) => setImmediate(resolve));
      options.signal?.throwIfAborted();
      sliceStart = performance.now();
    }
    const { rel, depth } = queue[head] as { rel: string; depth: number };
    queue[head] = undefined as never; // let visited levels be collected on huge trees
    let entries: Dirent[];
    try {
      const dir = rel === "" ? start : openDescendantSync(start, rel);
      if (!dir) {
        unreadable++;
        continue;
      }
      try {
        entries = listDirectorySync(dir);
        entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
        options.enterDirectory?.(
          rel,
          dir,
          entries.map((e) => e.name),
        );
      } finally {
        if (dir !== start) dir.close();
      }
    } catch (error) {
      if (rel === "") throw error;
      const code = errnoOf(error);
      if (UNREADABLE.has(code ?? "")) {
        unreadable++;
        continue;
      }
      throw error;
    }
    const childDepth = depth + 1;
    visited += entries.length;
    for (const dirent of entries) {
      const kind = kindOf(dirent);
      const entryRel = rel === "" ? dirent.name : `${rel}/${dirent.name}`;
      const result = options.visit({ name: dirent.name, rel: entryRel, depth: childDepth, kind });
      if (result === "stop") return { stopped: true, unreadable };
      if (
        kind === "directory" &&
        result !== "skip" &&
        (options.maxDepth === undefined || childDepth < options.maxDepth)
      ) {
        queue.push({ rel: entryRel, depth: childDepth });
      }
    }
  }
  return { stopped: false, unreadable };
}

/**
 * A visitor filter that hides what the operator denied: `startRel` is the walk's start relative to
 * its allowed directory `root`. Denied directories are not entered, so their contents stay hidden.
 */
export function deniedFilter(deny: DenyList, root: string, startRel: string): (entry: WalkEntry) => boolean {
  if (deny.empty) return () => false;
  return (entry) => deny.matchesEntry(startRel === "" ? entry.rel : posix.join(startRel, entry.rel), root);
}
