/**
 * Operations on paths the sandbox resolved, made safe against a symbolic link swapped in between
 * the check and the use.
 *
 * Every file or directory is opened with O_NOFOLLOW and then asked where it really is (on Linux,
 * `/proc/self/fd/N` names the object an open descriptor refers to); if that is not inside the
 * sandbox, nothing is read or written. Creating, renaming and deleting happen through an open
 * descriptor of the parent directory (`/proc/self/fd/N/<name>` reaches `name` inside that very
 * directory, wherever it has been moved since), with a single plain name, so no lookup can be
 * redirected. Without /proc (macOS, BSD) the check compares device and inode numbers instead, which
 * narrows the race but cannot close it.
 */
import { randomBytes } from "node:crypto";
import {
  closeSync,
  constants,
  type Dirent,
  fstatSync,
  lstatSync,
  open as openCallback,
  openSync,
  readdirSync,
  readlinkSync,
  readSync,
  type Stats,
} from "node:fs";
import { type FileHandle, link, lstat, mkdir, open, rename, rmdir, unlink } from "node:fs/promises";
import { posix } from "node:path";
import { promisify } from "node:util";
import { denied, errnoOf, FsError } from "./errors.js";
import { isPlainName } from "./policy.js";

const PROC_FD = "/proc/self/fd";
const O_DIR = constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW;
/** O_NONBLOCK keeps a FIFO from hanging the open; anything but a regular file is refused after fstat. */
const O_READ = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;
const O_CREATE_NEW = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;

/** What the pinned operations need from the sandbox. */
export interface Guard {
  containsReal(real: string): boolean;
  isDenied(real: string): boolean;
}

let procUsable: boolean | undefined;

/** Whether `/proc/self/fd` names open descriptors here (Linux). Checked once. */
export function pinsThroughProc(): boolean {
  if (procUsable === undefined) {
    try {
      const fd = openSync("/", O_DIR);
      try {
        procUsable = readlinkSync(`${PROC_FD}/${fd}`) === "/";
      } finally {
        closeSync(fd);
      }
    } catch {
      procUsable = false;
    }
  }
  return procUsable;
}

/** An open directory: operations on names inside it cannot be redirected by renames or links above it. */
export class PinnedDir {
  readonly fd: number;
  /** Where the directory was when it was opened and checked. */
  readonly real: string;
  private closed = false;

  constructor(fd: number, real: string) {
    this.fd = fd;
    this.real = real;
  }

  /** A path to the entry `name` in this very directory. */
  at(name: string): string {
    if (!isPlainName(name)) throw new FsError("invalid_argument", `Invalid entry name ${JSON.stringify(name)}.`);
    return pinsThroughProc() ? `${PROC_FD}/${this.fd}/${name}` : posix.join(this.real, name);
  }

  /** A path to the directory itself. */
  get self(): string {
    return pinsThroughProc() ? `${PROC_FD}/${this.fd}` : this.real;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    closeSync(this.fd);
  }
}

function raced(argument: string): FsError {
  return denied(
    "symlink_race",
    argument,
    `\`${argument}\` changed while it was being opened: a symbolic link appeared on the way. Nothing was read or written.`,
  );
}

/**
 * Confirms that the open descriptor `fd` is inside the sandbox and not denied. Returns where it is
 * (normally `expected`; a different place inside the sandbox when the path was renamed meanwhile).
 */
export function confirmDescriptor(fd: number, expected: string, guard: Guard, argument: string): string {
  if (pinsThroughProc()) {
    const where = readlinkSync(`${PROC_FD}/${fd}`);
    if (where === expected) return where;
    if (where.endsWith(" (deleted)")) {
      throw Object.assign(new Error(`ENOENT: ${expected} was deleted`), { code: "ENOENT" });
    }
    if (!guard.containsReal(where)) throw raced(argument);
    if (guard.isDenied(where)) {
      throw denied("denied_by_pattern", argument, `\`${argument}\` now leads to a path the operator denied.`);
    }
    return where;
  }
  const opened = fstatSync(fd);
  const atPath = lstatSync(expected, { throwIfNoEntry: false });
  if (!atPath || atPath.dev !== opened.dev || atPath.ino !== opened.ino) throw raced(argument);
  return expected;
}

async function openChecked(path: string, flags: number, argument: string): Promise<FileHandle> {
  try {
    return await open(path, flags);
  } catch (error) {
    // O_NOFOLLOW met a link where the resolved path had none: it was swapped in after the check.
    if (errnoOf(error) === "ELOOP") throw raced(argument);
    throw error;
  }
}

const openDescriptor = promisify(openCallback);

/** Opening a directory with O_NOFOLLOW fails with ENOTDIR (not ELOOP) on a link: tell the two apart. */
function isLinkNow(path: string): boolean {
  try {
    return lstatSync(path, { throwIfNoEntry: false })?.isSymbolicLink() ?? false;
  } catch {
    return false;
  }
}

/** Opens a resolved directory and confirms where it is. */
export async function openDirectory(real: string, guard: Guard, argument: string): Promise<PinnedDir> {
  let fd: number;
  try {
    fd = await openDescriptor(real, O_DIR);
  } catch (error) {
    if (errnoOf(error) === "ELOOP" || isLinkNow(real)) throw raced(argument);
    if (errnoOf(error) === "ENOTDIR") {
      throw new FsError("invalid_argument", `\`${argument}\` is not a directory.`, {
        argument,
        hint: "Pass a directory path.",
      });
    }
    throw error;
  }
  try {
    return new PinnedDir(fd, confirmDescriptor(fd, real, guard, argument));
  } catch (error) {
    closeSync(fd);
    throw error;
  }
}

export interface OpenedFile {
  handle: FileHandle;
  info: Stats;
  /** Where the file is (its real path). */
  real: string;
}

/** Opens a resolved regular file for reading and confirms where it is. */
export async function openFileForReading(real: string, guard: Guard, argument: string): Promise<OpenedFile> {
  const handle = await openChecked(real, O_READ, argument);
  try {
    const where = confirmDescriptor(handle.fd, real, guard, argument);
    // fstat on an open descriptor is answered from the inode in memory: no need for a thread-pool hop.
    const info = fstatSync(handle.fd);
    if (info.isDirectory()) {
      throw new FsError("invalid_argument", `\`${argument}\` is a directory, not a file.`, {
        argument,
        hint: "Use list_directory or directory_tree for directories.",
      });
    }
    if (!info.isFile()) {
      throw new FsError("invalid_argument", `\`${argument}\` is not a regular file (a device, FIFO or socket).`, {
        argument,
        hint: "Only regular files can be read.",
      });
    }
    return { handle, info, real: where };
  } catch (error) {
    await handle.close();
    throw error;
  }
}

/**
 * Metadata of a resolved path of any kind, taken from an open descriptor whose place was confirmed.
 * Sockets cannot be opened; their metadata comes from the path (they have no content to leak).
 */
export async function statResolved(real: string, guard: Guard, argument: string): Promise<Stats> {
  let handle: FileHandle;
  try {
    handle = await openChecked(real, O_READ, argument);
  } catch (error) {
    if (errnoOf(error) === "ENXIO" || errnoOf(error) === "EOPNOTSUPP") return lstat(real);
    throw error;
  }
  try {
    confirmDescriptor(handle.fd, real, guard, argument);
    return await handle.stat();
  } finally {
    await handle.close();
  }
}

/** Opens the directory `name` inside `parent` without following a link there. */
export function openChildDirectorySync(parent: PinnedDir, name: string): PinnedDir {
  const fd = openSync(parent.at(name), O_DIR);
  if (!pinsThroughProc()) {
    const opened = fstatSync(fd);
    const atPath = lstatSync(posix.join(parent.real, name), { throwIfNoEntry: false });
    if (!atPath || atPath.dev !== opened.dev || atPath.ino !== opened.ino) {
      closeSync(fd);
      throw Object.assign(new Error("directory changed while opening"), { code: "ELOOP" });
    }
  }
  return new PinnedDir(fd, posix.join(parent.real, name));
}

/**
 * Opens the directory `rel` below `start` and confirms it is exactly where it should be. Used by
 * breadth-first walks, which cannot keep every parent open. Returns undefined when it moved.
 */
export function openDescendantSync(start: PinnedDir, rel: string): PinnedDir | undefined {
  const expected = posix.join(start.real, rel);
  const path = pinsThroughProc() ? `${PROC_FD}/${start.fd}/${rel}` : expected;
  const fd = openSync(path, O_DIR);
  try {
    if (pinsThroughProc()) {
      if (readlinkSync(`${PROC_FD}/${fd}`) !== expected) {
        closeSync(fd);
        return undefined;
      }
    } else {
      const opened = fstatSync(fd);
      const atPath = lstatSync(expected, { throwIfNoEntry: false });
      if (!atPath || atPath.dev !== opened.dev || atPath.ino !== opened.ino) {
        closeSync(fd);
        return undefined;
      }
    }
  } catch (error) {
    closeSync(fd);
    throw error;
  }
  return new PinnedDir(fd, expected);
}

/**
 * Opens the regular file `rel` below `start` for reading and confirms it is exactly there. Returns
 * undefined when it is gone, is not a regular file, or was replaced by a link meanwhile: walks skip
 * such files rather than fail.
 */
export async function openDescendantFile(start: PinnedDir, rel: string): Promise<OpenedFile | undefined> {
  const expected = posix.join(start.real, rel);
  const path = pinsThroughProc() ? `${PROC_FD}/${start.fd}/${rel}` : expected;
  let handle: FileHandle;
  try {
    handle = await open(path, O_READ);
  } catch {
    return undefined;
  }
  try {
    let inPlace: boolean;
    if (pinsThroughProc()) {
      inPlace = readlinkSync(`${PROC_FD}/${handle.fd}`) === expected;
    } else {
      const opened = fstatSync(handle.fd);
      const atPath = lstatSync(expected, { throwIfNoEntry: false });
      inPlace = atPath !== undefined && atPath.dev === opened.dev && atPath.ino === opened.ino;
    }
    const info = await handle.stat();
    if (inPlace && info.isFile()) return { handle, info, real: expected };
  } catch {
    // fall through: treated as gone
  }
  await handle.close();
  return undefined;
}

export function listDirectorySync(dir: PinnedDir): Dirent[] {
  return readdirSync(dir.self, { withFileTypes: true });
}

/** Whether `dir` has an entry called `name` (of any kind; a link is not followed). */
export function hasEntrySync(dir: PinnedDir, name: string): boolean {
  try {
    return lstatSync(dir.at(name), { throwIfNoEntry: false }) !== undefined;
  } catch {
    return false;
  }
}

/** Reads a small file (≤ `maxBytes`) inside `dir` without following a link; undefined if absent. */
export function readSmallFileSync(dir: PinnedDir, name: string, maxBytes: number): string | undefined {
  let fd: number;
  try {
    fd = openSync(dir.at(name), O_READ);
  } catch {
    return undefined;
  }
  try {
    const info = fstatSync(fd);
    if (!info.isFile()) return undefined;
    const buffer = Buffer.allocUnsafe(Math.min(info.size, maxBytes));
    let filled = 0;
    while (filled < buffer.length) {
      const n = readSync(fd, buffer, filled, buffer.length - filled, filled);
      if (n === 0) break;
      filled += n;
    }
    return buffer.toString("utf8", 0, filled);
  } finally {
    closeSync(fd);
  }
}

/**
 * Opens `existing` (a resolved, existing directory) and creates `missing` below it one level at a
 * time, each through the open parent, so a link swapped in on the way is never followed.
 */
export async function ensureDirectory(
  existing: string,
  missing: readonly string[],
  guard: Guard,
  argument: string,
): Promise<PinnedDir> {
  let dir = await openDirectory(existing, guard, argument);
  try {
    for (const name of missing) {
      try {
        await mkdir(dir.at(name), 0o777);
      } catch (error) {
        if (errnoOf(error) !== "EEXIST") throw error;
      }
      let next: PinnedDir;
      try {
        next = openChildDirectorySync(dir, name);
      } catch (error) {
        if (errnoOf(error) === "ELOOP" || isLinkNow(dir.at(name))) throw raced(argument);
        if (errnoOf(error) === "ENOTDIR") {
          throw new FsError(
            "conflict",
            `\`${argument}\`: ${posix.join(dir.real, name)} exists and is not a directory.`,
            {
              argument,
              hint: "Choose a path whose parents are directories.",
            },
          );
        }
        throw error;
      }
      dir.close();
      dir = next;
    }
    return dir;
  } catch (error) {
    dir.close();
    throw error;
  }
}

function tempNameFor(name: string): string {
  return `.${name.slice(0, 40)}.${randomBytes(6).toString("hex")}.portside-tmp`;
}

export interface AtomicWriteOptions {
  /** Permission bits for the new file (default: 0666 less the umask). */
  mode?: number;
  /** Replace an existing entry; when false an existing entry is a conflict. */
  replace: boolean;
  argument: string;
  /** Runs after the content is on disk and before it takes the target's place; throw to abandon. */
  beforePlace?: () => Promise<void>;
}

/**
 * Writes `name` inside `dir` atomically: the content goes to a new temporary file in the same
 * directory, is flushed to disk, and is then renamed over the target (or linked, when replacing is
 * not allowed, so an existing file is never clobbered). A crash leaves the old file or the new one,
 * never half of one, and an existing file's inode is never written into (so a hard link to a file
 * elsewhere is not modified either).
 */
export async function writeAtomic(
  dir: PinnedDir,
  name: string,
  fill: (handle: FileHandle) => Promise<void>,
  options: AtomicWriteOptions,
): Promise<void> {
  const temp = tempNameFor(name);
  const tempPath = dir.at(temp);
  const handle = await open(tempPath, O_CREATE_NEW, 0o666);
  let handleOpen = true;
  let placed = false;
  try {
    await fill(handle);
    if (options.mode !== undefined) await handle.chmod(options.mode);
    await handle.datasync();
    await handle.close();
    handleOpen = false;
    await options.beforePlace?.();
    if (options.replace) {
      await rename(tempPath, dir.at(name)).catch((error: unknown) => {
        throw renameConflict(error, dir, name, options.argument);
      });
    } else {
      await placeWithoutReplacing(tempPath, dir, name, options.argument);
    }
    placed = true;
  } finally {
    if (handleOpen) await handle.close().catch(() => undefined);
    if (!placed || !options.replace) await unlink(tempPath).catch(() => undefined);
  }
}

/** Creates `name` as a second link to `tempPath`, failing if `name` exists (no check-then-act gap). */
async function placeWithoutReplacing(tempPath: string, dir: PinnedDir, name: string, argument: string): Promise<void> {
  try {
    await link(tempPath, dir.at(name));
  } catch (error) {
    const code = errnoOf(error);
    if (code === "EEXIST") throw exists(argument, posix.join(dir.real, name));
    // Filesystems without hard links: fall back to a check and a rename (a narrow race, inside the sandbox).
    if (code === "EPERM" || code === "ENOTSUP" || code === "EOPNOTSUPP" || code === "EMLINK") {
      if (
        await lstat(dir.at(name)).then(
          () => true,
          () => false,
        )
      )
        throw exists(argument, posix.join(dir.real, name));
      await rename(tempPath, dir.at(name));
      return;
    }
    throw error;
  }
}

function exists(argument: string, path: string): FsError {
  return new FsError("conflict", `\`${argument}\`: ${path} already exists.`, {
    argument,
    hint: "Pass overwrite: true to replace it, or choose another name.",
  });
}

function renameConflict(error: unknown, dir: PinnedDir, name: string, argument: string): unknown {
  const code = errnoOf(error);
  if (code === "EISDIR" || code === "ENOTEMPTY" || code === "EEXIST") {
    return new FsError(
      "conflict",
      `\`${argument}\`: ${posix.join(dir.real, name)} is a directory and cannot be replaced.`,
      {
        argument,
        hint: "Choose another name, or remove the directory first.",
      },
    );
  }
  if (code === "ENOTDIR") {
    return new FsError("conflict", `\`${argument}\`: cannot replace ${posix.join(dir.real, name)} with a directory.`, {
      argument,
      hint: "Choose another name.",
    });
  }
  return error;
}

const COPY_CHUNK = 1 << 20;

/** Copies an open source file into `name` inside `dir` atomically, keeping its permission bits. */
export async function copyInto(
  source: OpenedFile,
  dir: PinnedDir,
  name: string,
  options: { replace: boolean; argument: string; signal?: AbortSignal },
): Promise<void> {
  await writeAtomic(
    dir,
    name,
    async (handle) => {
      // Copy by hand into the descriptor created with O_EXCL: a copy by path could follow a link
      // planted at the temporary name.
      const buffer = Buffer.allocUnsafe(COPY_CHUNK);
      let position = 0;
      for (;;) {
        options.signal?.throwIfAborted();
        const { bytesRead } = await source.handle.read(buffer, 0, COPY_CHUNK, position);
        if (bytesRead === 0) break;
        let written = 0;
        while (written < bytesRead) {
          const { bytesWritten } = await handle.write(buffer, written, bytesRead - written);
          written += bytesWritten;
        }
        position += bytesRead;
      }
    },
    { mode: source.info.mode & 0o777, replace: options.replace, argument: options.argument },
  );
}

/**
 * Moves the entry `fromName` in `from` to `toName` in `to`. Without `overwrite`, an existing
 * destination is a conflict; files are moved with link + unlink so that check cannot race.
 */
export async function moveEntry(
  from: PinnedDir,
  fromName: string,
  to: PinnedDir,
  toName: string,
  options: { overwrite: boolean; argument: string },
): Promise<void> {
  const source = from.at(fromName);
  const target = to.at(toName);
  const info = await lstat(source);
  if (!options.overwrite) {
    if (!info.isDirectory()) {
      try {
        await link(source, target);
        await unlink(source);
        return;
      } catch (error) {
        const code = errnoOf(error);
        if (code === "EEXIST") throw exists(options.argument, posix.join(to.real, toName));
        if (code !== "EPERM" && code !== "ENOTSUP" && code !== "EOPNOTSUPP" && code !== "EMLINK" && code !== "EXDEV") {
          throw error;
        }
      }
    }
    if (
      await lstat(target).then(
        () => true,
        () => false,
      )
    )
      throw exists(options.argument, posix.join(to.real, toName));
  }
  try {
    await rename(source, target);
  } catch (error) {
    if (errnoOf(error) !== "EXDEV") throw renameConflict(error, to, toName, options.argument);
    await moveAcrossDevices(from, fromName, info, to, toName, options);
  }
}

/** Allowed directories on different filesystems: a file is copied, then the original removed. */
async function moveAcrossDevices(
  from: PinnedDir,
  fromName: string,
  info: Stats,
  to: PinnedDir,
  toName: string,
  options: { overwrite: boolean; argument: string },
): Promise<void> {
  if (!info.isFile()) {
    throw new FsError("invalid_argument", "Only files can be moved between different filesystems.", {
      argument: options.argument,
      hint: "Create the directory at the destination and move the files one by one.",
    });
  }
  const handle = await open(from.at(fromName), O_READ);
  try {
    const opened = { handle, info: await handle.stat(), real: posix.join(from.real, fromName) };
    await copyInto(opened, to, toName, { replace: options.overwrite, argument: options.argument });
  } finally {
    await handle.close();
  }
  await unlink(from.at(fromName));
}

/** Removes a file, a link or an empty directory named `name` in `dir`. */
export async function removeEntry(dir: PinnedDir, name: string, argument: string): Promise<"file" | "directory"> {
  const path = dir.at(name);
  const info = await lstat(path);
  if (info.isDirectory()) {
    await rmdir(path).catch((error: unknown) => {
      if (errnoOf(error) === "ENOTEMPTY" || errnoOf(error) === "EEXIST") {
        throw new FsError("conflict", `\`${argument}\` is a directory that is not empty.`, {
          argument,
          hint: "Delete the entries inside it first; only empty directories can be deleted.",
        });
      }
      throw error;
    });
    return "directory";
  }
  await unlink(path);
  return "file";
}
