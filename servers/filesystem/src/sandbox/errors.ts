/**
 * Why the sandbox refused a path. Every refusal names one of these, so a caller (and a test) can
 * tell a traversal from a symlink escape from a deny pattern.
 */
export type SandboxRule =
  | "nul_byte"
  | "control_character"
  | "invisible_character"
  | "invalid_unicode"
  | "unicode_lookalike"
  | "backslash"
  | "windows_path"
  | "outside_allowed_directories"
  | "symlink_escape"
  | "symlink_race"
  | "denied_by_pattern"
  | "glob_escape"
  | "allowed_directory_itself"
  | "no_allowed_directories"
  | "os_permission";

/** The error codes the filesystem domain uses; they are the same strings as the tool error codes. */
export type FsErrorCode =
  | "invalid_argument"
  | "not_found"
  | "permission_denied"
  | "conflict"
  | "too_large"
  | "unavailable"
  | "cancelled";

export interface FsErrorOptions {
  rule?: SandboxRule;
  /** The tool argument the error is about (`path`, `source`, `destination`, …). */
  argument?: string;
  hint?: string;
  details?: Record<string, unknown>;
}

/** An expected failure of a filesystem operation, with a message written for the caller. */
export class FsError extends Error {
  readonly code: FsErrorCode;
  readonly rule: SandboxRule | undefined;
  readonly argument: string | undefined;
  readonly hint: string | undefined;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: FsErrorCode, message: string, options: FsErrorOptions = {}) {
    super(message);
    this.name = "FsError";
    this.code = code;
    this.rule = options.rule;
    this.argument = options.argument;
    this.hint = options.hint;
    this.details = options.details;
  }
}

const RULE_HINTS: Record<SandboxRule, string> = {
  nul_byte: "Remove the NUL character from the path.",
  control_character: "Remove control characters (such as newlines or tabs) from the path.",
  invisible_character: "Remove invisible or bidirectional-control characters from the path.",
  invalid_unicode: "Send the path as well-formed Unicode text.",
  unicode_lookalike: "Use plain '/' as the separator and plain '.' characters; look-alike characters are refused.",
  backslash: "Use forward slashes ('/') to separate path components.",
  windows_path: "This server runs on a POSIX system: use an absolute POSIX path inside an allowed directory.",
  outside_allowed_directories: "Call list_allowed_directories and use a path inside one of them.",
  symlink_escape:
    "The path leads through a symbolic link to a place outside the allowed directories; use a real path inside them.",
  symlink_race: "The path changed while it was being opened (a symbolic link was swapped in); it was not touched.",
  denied_by_pattern: "The operator denied access to this path; choose another file.",
  glob_escape: "Write the pattern relative to the search directory, without '..' segments or a leading '/'.",
  allowed_directory_itself:
    "An allowed directory itself cannot be moved, deleted or replaced; act on the entries inside it.",
  no_allowed_directories:
    "The client's roots do not overlap the operator's directories; ask the user to open a folder inside them.",
  os_permission: "The operating system refused access to this path; the server's user lacks permission.",
};

/** A `permission_denied` error naming the rule that was broken. */
export function denied(rule: SandboxRule, argument: string, message: string, hint?: string): FsError {
  return new FsError("permission_denied", message, {
    rule,
    argument,
    hint: hint ?? RULE_HINTS[rule],
  });
}

/** The errno-style code of a Node.js system error, if it is one. */
export function errnoOf(error: unknown): string | undefined {
  if (typeof error === "object" && error !== null && "code" in error) {
    const code = (error as { code: unknown }).code;
    return typeof code === "string" ? code : undefined;
  }
  return undefined;
}
