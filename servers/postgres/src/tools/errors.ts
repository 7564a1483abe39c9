import { type ErrorCode, sanitizeText, ToolError } from "@portside/shared";
import { type FailureKind, QueryFailure } from "../db/errors.js";
import { RoleRefused } from "../service.js";
import { GuardError, lineAndColumn } from "../sql/errors.js";

const CODES: Record<FailureKind, ErrorCode> = {
  invalid: "invalid_argument",
  not_found: "not_found",
  denied: "permission_denied",
  timeout: "timeout",
  cancelled: "cancelled",
  unavailable: "unavailable",
  too_large: "too_large",
  upstream: "upstream_error",
};

const DEFAULT_HINTS: Partial<Record<FailureKind, string>> = {
  invalid: "Fix the query using PostgreSQL's message; describe_table shows the columns and their types.",
  not_found: "Call list_tables to see the tables you can query.",
  timeout:
    "Make the query cheaper: filter with WHERE on indexed columns, aggregate, or add LIMIT; explain_query shows the plan.",
  unavailable: "The database could not be reached; try again in a moment.",
  too_large: "Ask for less: aggregate, filter, or add LIMIT.",
  denied: "The database refused access; only the tables from list_tables can be queried.",
};

/**
 * Turns the guard's and the database's failures into tool errors that carry PostgreSQL's message,
 * SQLSTATE, hint and position (with the offending line and a caret), so the model can fix its query.
 */
export function toToolError(error: unknown, sql?: string): unknown {
  if (error instanceof GuardError) {
    return new ToolError(error.code, withSnippet(error.message, sql, error.position), {
      hint: error.hint,
      details: {
        rule: error.rule,
        ...(error.sqlstate ? { sqlstate: error.sqlstate } : {}),
        ...position(sql, error.position),
      },
    });
  }
  if (error instanceof QueryFailure) {
    const { sqlstate, detail, hint } = error.details;
    let message = sanitizeText(error.message);
    if (sqlstate) message += ` (SQLSTATE ${sqlstate})`;
    if (detail) message += `\nDETAIL: ${sanitizeText(detail)}`;
    return new ToolError(CODES[error.kind], withSnippet(message, sql, error.details.position), {
      hint: hint ? sanitizeText(hint) : (DEFAULT_HINTS[error.kind] ?? "Check the query and try again."),
      details: { ...(sqlstate ? { sqlstate } : {}), ...position(sql, error.details.position) },
    });
  }
  if (error instanceof RoleRefused) {
    return new ToolError("permission_denied", error.message, {
      hint: "The operator must connect with a read-only role (see the README), or start the server with --allow-privileged-role.",
    });
  }
  return error;
}

function position(sql: string | undefined, pos: number | undefined): Record<string, number> {
  if (pos === undefined) return {};
  if (sql === undefined) return { position: pos };
  return { position: pos, ...lineAndColumn(sql, pos) };
}

/** Appends PostgreSQL-style context: the line of the query at the position, and a caret under it. */
function withSnippet(message: string, sql: string | undefined, pos: number | undefined): string {
  if (sql === undefined || pos === undefined) return message;
  const { line, column } = lineAndColumn(sql, pos);
  const text = sql.split("\n")[line - 1] ?? "";
  // Keep long lines readable: show up to 60 characters either side of the caret.
  const start = Math.max(0, column - 61);
  const shown = `${start > 0 ? "…" : ""}${text.slice(start, column + 60)}${column + 60 < text.length ? "…" : ""}`;
  const caretAt = column - 1 - start + (start > 0 ? 1 : 0);
  const prefix = `LINE ${line}: `;
  return `${message}\n${prefix}${shown}\n${" ".repeat(prefix.length + caretAt)}^`;
}

/** Runs a handler body, converting domain failures to tool errors. */
export async function translated<T>(sql: string | undefined, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    throw toToolError(error, sql);
  }
}
