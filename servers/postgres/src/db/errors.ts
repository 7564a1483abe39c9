import { redact } from "@portside/shared";

/** What kind of failure a database error is, for the caller to decide how to report it. */
export type FailureKind =
  | "invalid"
  | "not_found"
  | "denied"
  | "timeout"
  | "cancelled"
  | "unavailable"
  | "too_large"
  | "upstream";

export interface FailureDetails {
  sqlstate?: string;
  /** 1-based character position in the caller's SQL. */
  position?: number;
  /** PostgreSQL's DETAIL and HINT lines. */
  detail?: string;
  hint?: string;
}

/** A failed database call, with PostgreSQL's own message, SQLSTATE, hint and position. */
export class QueryFailure extends Error {
  readonly kind: FailureKind;
  readonly details: FailureDetails;
  /** Whether the failure happened at the connection level, so a retry on a fresh connection may work. */
  readonly connectionLost: boolean;

  constructor(kind: FailureKind, message: string, details: FailureDetails = {}, connectionLost = false) {
    super(message);
    this.name = "QueryFailure";
    this.kind = kind;
    this.details = details;
    this.connectionLost = connectionLost;
  }
}

interface PgErrorLike {
  code?: string;
  message?: string;
  detail?: string;
  hint?: string;
  position?: string;
  severity?: string;
}

const CONNECTION_CODES = new Set(["ECONNREFUSED", "ECONNRESET", "EPIPE", "ETIMEDOUT", "EHOSTUNREACH", "ENOTFOUND"]);

/** True for errors that mean the connection is gone (server restart, network), not the query. */
export function isConnectionError(error: unknown): boolean {
  // A failed transaction setup leaves the connection in an unknown state: replace it and retry.
  if ((error as Error)?.name === "SetupFailed") return true;
  const e = error as PgErrorLike & { code?: string };
  const code = e?.code ?? "";
  if (CONNECTION_CODES.has(code)) return true;
  // admin_shutdown, crash_shutdown, cannot_connect_now, and the connection exception class.
  if (/^(57P0[1-3]|08)/.test(code)) return true;
  const message = e?.message ?? "";
  return /Connection terminated|connection timeout|Client has encountered a connection error|not queryable|socket hang up/i.test(
    message,
  );
}

/**
 * Turns anything the driver threw into a QueryFailure. `originalPosition` maps a position in the text
 * that ran back to the caller's SQL (the guard inserted schema names).
 */
export function classifyError(
  error: unknown,
  originalPosition: (position: number) => number | undefined = (p) => p,
  cancelledByCaller = false,
): QueryFailure {
  if (error instanceof QueryFailure) return error;
  const e = (error ?? {}) as PgErrorLike;
  const message = redact(String(e.message ?? error));
  const code = typeof e.code === "string" && /^[0-9A-Z]{5}$/.test(e.code) ? e.code : undefined;
  const details: FailureDetails = {};
  if (code) details.sqlstate = code;
  if (e.detail) details.detail = redact(e.detail);
  if (e.hint) details.hint = redact(e.hint);
  if (e.position) {
    const mapped = originalPosition(Number(e.position));
    if (mapped !== undefined) details.position = mapped;
  }

  if (isConnectionError(error)) {
    return new QueryFailure("unavailable", `The database connection failed: ${message}`, details, true);
  }
  if (!code) return new QueryFailure("upstream", message, details);
  if (code === "57014") {
    if (cancelledByCaller) return new QueryFailure("cancelled", "The query was cancelled.", details);
    return new QueryFailure("timeout", message, details);
  }
  if (code === "55P03" || code === "25P03") return new QueryFailure("timeout", message, details);
  if (code === "42P01" || code === "3F000") {
    return new QueryFailure("not_found", message, details);
  }
  if (code === "42501" || code === "25006") return new QueryFailure("denied", message, details);
  if (code.startsWith("53") || code.startsWith("54")) return new QueryFailure("too_large", message, details);
  if (code.startsWith("28")) return new QueryFailure("unavailable", message, details);
  if (code.startsWith("42") || code.startsWith("22") || code.startsWith("0A") || code.startsWith("21")) {
    return new QueryFailure("invalid", message, details);
  }
  return new QueryFailure("upstream", message, details);
}
