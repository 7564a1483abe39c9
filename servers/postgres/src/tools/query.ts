import { defineTool, sanitizeDeep, sanitizeText, type Tool } from "@portside/shared";
import { z } from "zod";
import type { RowSet } from "../db/stream.js";
import type { PostgresService } from "../service.js";
import { translated } from "./errors.js";

export interface QueryLimits {
  maxRows: number;
  maxResponseBytes: number;
  maxValueChars: number;
  statementTimeoutMs: number;
}

const READ_ONLY = { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false };

const paramValue = z.union([z.string().max(100_000), z.number(), z.boolean(), z.null()]);

const queryOutput = z.object({
  columns: z.array(z.object({ name: z.string(), type: z.string() })),
  rows: z.array(z.array(z.unknown())),
  rowCount: z.number().int(),
  truncated: z.boolean(),
  truncatedBy: z.enum(["rows", "bytes"]).optional(),
  valuesCut: z.number().int().optional(),
  note: z.string().optional(),
});

type QueryOutput = z.infer<typeof queryOutput>;

export function queryTool(service: PostgresService, limits: QueryLimits): Tool {
  return defineTool({
    name: "query",
    title: "Run a read-only SQL query",
    description: [
      "Runs one read-only SQL query (a SELECT, or EXPLAIN of one) against PostgreSQL and returns the rows.",
      "Only the tables from list_tables exist; only built-in functions that compute over their arguments may be called.",
      "Use $1, $2… placeholders with `params` for values instead of quoting them into the SQL.",
      `Results stop at ${limits.maxRows} rows or ${Math.round(limits.maxResponseBytes / 1024)} KiB (the answer says when, and how to narrow it); values longer than ${limits.maxValueChars} characters are cut.`,
      `Each query has ${limits.statementTimeoutMs / 1000} s. Errors carry PostgreSQL's message, SQLSTATE, hint and position.`,
    ].join(" "),
    input: z.object({
      sql: z.string().min(1).max(100_000).describe("One SELECT statement (or EXPLAIN SELECT …)."),
      params: z.array(paramValue).max(100).optional().describe("Values for the $1, $2… placeholders, in order."),
      maxRows: z
        .number()
        .int()
        .min(1)
        .max(limits.maxRows)
        .optional()
        .describe(`Return at most this many rows (default and maximum ${limits.maxRows}).`),
    }),
    output: queryOutput,
    annotations: READ_ONLY,
    async handler({ sql, params, maxRows }, ctx) {
      return translated(sql, async () => {
        // The rows must also fit the answer's text budget (with room for the header and the note),
        // so a result is cut between rows by this tool, never mid-row by the budget.
        const maxBytes = Math.min(limits.maxResponseBytes, Math.max(1024, ctx.budget.maxChars - 2000));
        const { result } = await service.query(
          sql,
          params ?? [],
          { maxRows: maxRows ?? limits.maxRows, maxBytes, maxValueChars: limits.maxValueChars },
          // Row values are third-party text: strip invisible and control characters as they stream.
          { signal: ctx.signal, prepareValue: sanitizeDeep },
        );
        const data = toOutput(result, maxRows ?? limits.maxRows, maxBytes);
        return { data, text: renderRows(data, result.rowsJson), untrusted: true };
      });
    },
  });
}

function toOutput(result: RowSet, maxRows: number, maxBytes: number): QueryOutput {
  const rows = result.rows;
  const out: QueryOutput = {
    // Names come from the query or the catalog (third-party text); the keys are ours.
    columns: result.columns.map((c) => ({ name: sanitizeText(c.name), type: sanitizeText(c.type) })),
    rows,
    rowCount: rows.length,
    truncated: result.truncated !== false,
  };
  if (result.truncated) {
    out.truncatedBy = result.truncated;
    out.note =
      result.truncated === "rows"
        ? `More rows exist: only the first ${maxRows} were returned. Narrow the query with WHERE, aggregate it, or page with ORDER BY … LIMIT/OFFSET.`
        : `The result was cut at ${Math.round(maxBytes / 1024)} KiB after ${rows.length} rows. Select fewer columns, filter, aggregate, or page with ORDER BY … LIMIT/OFFSET.`;
  }
  if (result.cutValues > 0) {
    out.valuesCut = result.cutValues;
    const cut = `${result.cutValues} long value(s) were cut; select substring(column, start, length) to read more of one.`;
    out.note = out.note ? `${out.note} ${cut}` : cut;
  }
  return out;
}

/** Compact text: a header of column names and types, then one JSON array per row. */
export function renderRows(data: QueryOutput, rowsJson?: readonly string[]): string {
  const header = data.columns.map((c) => `${c.name} (${c.type})`).join(", ");
  const lines = [`columns: ${header || "(none)"}`];
  if (rowsJson) lines.push(...rowsJson);
  else for (const row of data.rows) lines.push(JSON.stringify(row));
  lines.push(`(${data.rowCount} row${data.rowCount === 1 ? "" : "s"}${data.truncated ? ", truncated" : ""})`);
  if (data.note) lines.push(data.note);
  return lines.join("\n");
}
