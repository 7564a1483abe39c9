/** Why a Chess.com call failed. Each kind maps to one way the caller can react. */
export type ChessComErrorKind =
  | "invalid_argument"
  | "not_found"
  | "gone"
  | "rate_limited"
  | "timeout"
  | "cancelled"
  | "too_large"
  | "upstream";

export interface ChessComErrorOptions {
  /** What the caller can do about it. */
  hint?: string;
  /** Facts worth showing: the argument at fault, the status, how long to wait. */
  details?: Record<string, unknown>;
  cause?: unknown;
}

/**
 * An expected failure of the Chess.com client, written for whoever called it: what went wrong and
 * how to fix it. Anything else thrown from the client is a bug.
 */
export class ChessComError extends Error {
  readonly kind: ChessComErrorKind;
  readonly hint: string | undefined;
  readonly details: Record<string, unknown> | undefined;

  constructor(kind: ChessComErrorKind, message: string, options: ChessComErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "ChessComError";
    this.kind = kind;
    this.hint = options.hint;
    this.details = options.details;
  }
}

export const isChessComError = (error: unknown): error is ChessComError => error instanceof ChessComError;

/** Refuses an argument before any request is made. */
export function invalidArgument(argument: string, message: string, hint?: string): ChessComError {
  return new ChessComError("invalid_argument", `\`${argument}\` ${message}`, {
    ...(hint ? { hint } : {}),
    details: { argument },
  });
}
