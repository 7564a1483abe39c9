import type { PoolClient } from "pg";
import type CursorType from "pg-cursor";
import { BUILTIN_TYPE_NAMES, typeParsers } from "./values.js";

export interface RowCaps {
  /** Rows returned at most; one more is read to know whether the result was cut. */
  maxRows: number;
  /** Bytes of JSON-encoded rows returned at most (the first row is always returned). */
  maxBytes: number;
  /** Characters kept of a single value; longer values are cut with a marker. */
  maxValueChars: number;
}

export interface Column {
  name: string;
  type: string;
}

export interface RowSet {
  columns: Column[];
  rows: unknown[][];
  /** Why the result was cut, if it was: more rows exist than were returned. */
  truncated: false | "rows" | "bytes";
  /** How many values were cut to `maxValueChars`. */
  cutValues: number;
  /** JSON bytes of the returned rows. */
  bytes: number;
  /** The command tag's row count when the whole result was read (e.g. for EXPLAIN: undefined). */
  command: string | undefined;
}

interface Field {
  name: string;
  dataTypeID: number;
}

let cursorClass: Promise<typeof CursorType> | undefined;
const loadCursor = () => {
  cursorClass ??= import("pg-cursor").then((m) => m.default);
  return cursorClass;
};

const FIRST_BATCH = 50;
const MAX_BATCH = 1000;

/**
 * Runs one statement through a cursor (the extended protocol: the server accepts exactly one
 * statement) and reads it in batches, stopping at the row or byte cap. At most one batch is in
 * memory beyond the rows kept, whatever the size of the full result.
 */
export async function streamRows(
  client: PoolClient,
  text: string,
  params: readonly unknown[],
  caps: RowCaps,
  signal?: AbortSignal,
): Promise<RowSet> {
  const Cursor = await loadCursor();
  const cursor = client.query(
    new Cursor(text, params.length ? [...params] : undefined, { rowMode: "array", types: typeParsers }),
  );
  const rows: unknown[][] = [];
  let fields: Field[] | undefined;
  let bytes = 0;
  let cutValues = 0;
  let truncated: RowSet["truncated"] = false;
  let command: string | undefined;
  let fetched = 0;
  let batch = Math.min(FIRST_BATCH, caps.maxRows + 1);
  let failed = false;
  try {
    read: for (;;) {
      const [batchRows, result] = await readBatch(cursor, batch);
      fields ??= result?.fields as Field[] | undefined;
      fetched += batchRows.length;
      for (const raw of batchRows) {
        if (rows.length >= caps.maxRows) {
          truncated = "rows";
          break read;
        }
        const row = (raw as unknown[]).map((value) => {
          const [capped, cut] = capValue(value, caps.maxValueChars);
          if (cut) cutValues++;
          return capped;
        });
        const size = Buffer.byteLength(JSON.stringify(row), "utf8") + 1;
        if (rows.length > 0 && bytes + size > caps.maxBytes) {
          truncated = "bytes";
          break read;
        }
        rows.push(row);
        bytes += size;
      }
      if (batchRows.length < batch) {
        command = result?.command ?? undefined;
        break;
      }
      if (signal?.aborted) break;
      // Size the next batch from what rows cost so far, so wide rows are fetched a few at a time.
      const average = rows.length ? bytes / rows.length : 1024;
      const byBytes = Math.max(1, Math.ceil((caps.maxBytes - bytes) / average) + 1);
      batch = Math.max(1, Math.min(MAX_BATCH, caps.maxRows + 1 - fetched, byBytes));
    }
  } catch (error) {
    // The cursor already ended the statement with a Sync; closing it again would desynchronise.
    failed = true;
    throw error;
  } finally {
    if (!failed) await cursor.close().catch(() => undefined);
  }
  return {
    columns: await columnsOf(client, fields ?? []),
    rows,
    truncated,
    cutValues,
    bytes,
    command,
  };
}

function readBatch(cursor: CursorType, count: number): Promise<[unknown[], { fields?: unknown; command?: string }]> {
  return new Promise((resolve, reject) => {
    cursor.read(count, (error, rows, result) => {
      if (error) reject(error);
      else resolve([rows, result as unknown as { fields?: unknown; command?: string }]);
    });
  });
}

/** Cuts long text (and large JSON) to `max` characters, saying how much was left out. */
export function capValue(value: unknown, max: number): [unknown, boolean] {
  if (typeof value === "string") {
    if (value.length <= max) return [value, false];
    return [`${value.slice(0, max)}…[${value.length - max} more characters]`, true];
  }
  if (value !== null && typeof value === "object") {
    const json = JSON.stringify(value);
    if (json.length <= max) return [value, false];
    return [`${json.slice(0, max)}…[${json.length - max} more characters of JSON]`, true];
  }
  return [value, false];
}

const typeNameCache = new Map<number, string>();

async function columnsOf(client: PoolClient, fields: Field[]): Promise<Column[]> {
  const unknown = [
    ...new Set(fields.map((f) => f.dataTypeID).filter((oid) => !BUILTIN_TYPE_NAMES[oid] && !typeNameCache.has(oid))),
  ];
  if (unknown.length) {
    const result = await client.query<{ oid: number; name: string }>(
      "SELECT oid::int AS oid, format_type(oid, NULL) AS name FROM pg_catalog.pg_type WHERE oid = ANY($1::oid[])",
      [unknown],
    );
    for (const row of result.rows) typeNameCache.set(row.oid, row.name);
  }
  return fields.map((f) => ({
    name: f.name,
    type: BUILTIN_TYPE_NAMES[f.dataTypeID] ?? typeNameCache.get(f.dataTypeID) ?? `oid ${f.dataTypeID}`,
  }));
}
