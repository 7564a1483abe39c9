import { randomBytes } from "node:crypto";

/** The fixed set of reasons a tool call can fail. Clients and tests match on these. */
export const ERROR_CODES = [
  "invalid_argument",
  "not_found",
  "permission_denied",
  "conflict",
  "rate_limited",
  "timeout",
  "cancelled",
  "upstream_error",
  "unavailable",
  "too_large",
  "internal",
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

export interface ToolErrorOptions {
  /** Machine-readable extra facts (an argument name, a limit, a retry time). Shown to the model. */
  details?: Record<string, unknown>;
  /** What the caller can do about it. Appended to the message. */
  hint?: string;
  cause?: unknown;
}

/**
 * An expected failure with a message written for the model: what went wrong and how to fix it.
 * Anything else thrown from a handler is treated as a bug and reported as `internal`.
 */
export class ToolError extends Error {
  readonly code: ErrorCode;
  readonly details: Record<string, unknown> | undefined;
  readonly hint: string | undefined;

  constructor(code: ErrorCode, message: string, options: ToolErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "ToolError";
    this.code = code;
    this.details = options.details;
    this.hint = options.hint;
  }

  /** The text the model reads. */
  render(): string {
    let text = `Error [${this.code}]: ${this.message}`;
    if (this.hint) text += `\nHow to fix: ${this.hint}`;
    if (this.details && Object.keys(this.details).length > 0) text += `\nDetails: ${JSON.stringify(this.details)}`;
    return text;
  }
}

export const isToolError = (error: unknown): error is ToolError => error instanceof ToolError;

/** A short id that ties an `internal` error shown to the model to the full stack in the log. */
export const newErrorId = (): string => randomBytes(6).toString("hex");

/** Wraps an unexpected error: the model sees only the id, the log gets the stack. */
export function internalError(id: string): ToolError {
  return new ToolError(
    "internal",
    `The server hit an unexpected error (id ${id}). This is a bug in the server, not in your request.`,
    { hint: "Try again; if it keeps failing, report the error id to the operator.", details: { errorId: id } },
  );
}
