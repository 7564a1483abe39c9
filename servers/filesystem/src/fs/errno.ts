import { denied, errnoOf, FsError } from "../sandbox/errors.js";

/**
 * Turns a system error into an FsError that says what happened to which argument, or returns
 * undefined for errors that are not expected (those are bugs and are reported as internal).
 */
export function fromSystemError(error: unknown, argument: string, shown: string): FsError | undefined {
  if (error instanceof FsError) return error;
  const where = `\`${argument}\` (${JSON.stringify(shown)})`;
  switch (errnoOf(error)) {
    case "ENOENT":
      return new FsError("not_found", `${where} does not exist.`, {
        argument,
        hint: "Check the path with list_directory or search_files.",
      });
    case "ENOTDIR":
      return new FsError("not_found", `${where} does not exist: a part of it is a file, not a directory.`, {
        argument,
        hint: "Check the path with list_directory.",
      });
    case "EACCES":
    case "EPERM":
      return denied("os_permission", argument, `The operating system refused access to ${where}.`);
    case "EROFS":
      return denied("os_permission", argument, `${where} is on a read-only filesystem.`);
    case "EISDIR":
      return new FsError("invalid_argument", `${where} is a directory.`, {
        argument,
        hint: "Use list_directory or directory_tree for directories.",
      });
    case "EEXIST":
      return new FsError("conflict", `${where} already exists.`, { argument, hint: "Choose another name." });
    case "ENOTEMPTY":
      return new FsError("conflict", `${where} is a directory that is not empty.`, {
        argument,
        hint: "Choose another name.",
      });
    case "EBUSY":
      return new FsError("conflict", `${where} is busy (in use by the system).`, { argument });
    case "ELOOP":
      return new FsError("invalid_argument", `${where} has too many levels of symbolic links.`, {
        argument,
        hint: "Use a direct path without link loops.",
      });
    case "ENAMETOOLONG":
      return new FsError("invalid_argument", `${where} has a name that is too long.`, {
        argument,
        hint: "Use names of at most 255 bytes.",
      });
    case "EINVAL":
      return new FsError(
        "invalid_argument",
        `${where} cannot be used that way (for example, moving a directory into itself).`,
        {
          argument,
        },
      );
    case "EXDEV":
      return new FsError("invalid_argument", `${where} is on another filesystem.`, { argument });
    case "ENOSPC":
    case "EDQUOT":
      return new FsError("unavailable", "The disk is full (or the quota is used up).", {
        argument,
        hint: "Free some space and try again.",
      });
    case "EMFILE":
    case "ENFILE":
      return new FsError("unavailable", "The server has too many files open right now.", {
        argument,
        hint: "Try again in a moment.",
      });
    default:
      return undefined;
  }
}
