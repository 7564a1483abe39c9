import type { PoolClient } from "pg";
import { type BatchResult, ExtendedBatch, type Field, type Statement } from "./batch.js";
import type { ReadOnlySession } from "./database.js";
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
  /** Each returned row as JSON (computed for the byte cap; reusable for rendering). */
  rowsJson: string[];
  /** Why the result was cut, if it was: more rows exist than were returned. */
  truncated: false | "rows" | "bytes";
  /** How many values were cut to `maxValueChars`. */
  cutValues: number;
  /** JSON bytes of the returned rows. */
  bytes: number;
  /** The command tag when the whole result was read. */
  command: string | undefined;
}

export type Parameter = string | number | boolean | null;

const FIRST_BATCH = 50;
const MAX_BATCH = 1000;
/** Largest proven result answered in one round trip (its rows are all in memory at once). */
const ONE_TRIP_MAX_ROWS = 100;
/** Prepared once per connection, like the statements that open the transaction. */
const ROLLBACK: Statement = { name: "portside_rollback", text: "ROLLBACK" };

/**
 * Runs one statement and reads its rows in batches, stopping at the row or byte cap. The first
 * batch carries the transaction's opening statements, so a small result costs one round trip; at
 * most one batch is in memory beyond the rows kept, whatever the size of the full result.
 */
export async function streamRows(
  session: ReadOnlySession,
  text: string,
  params: readonly Parameter[],
  caps: RowCaps,
  options: {
    signal?: AbortSignal;
    prepareValue?: (value: unknown) => unknown;
    /** At most this many rows, as proven from the query (see sql/bound.ts). */
    rowBound?: number;
  } = {},
): Promise<RowSet> {
  const { signal, prepareValue, rowBound } = options;
  const { client } = session;
  const statement = { text, values: params.map(toWire) };
  let batch: BatchResult | undefined;
  if (rowBound !== undefined && rowBound <= Math.min(caps.maxRows, ONE_TRIP_MAX_ROWS)) {
    // A small result, proven: fetch it and end the transaction in the same round trip.
    const oneTrip = await run(
      client,
      new ExtendedBatch({ setup: session.takeBegin(), statement, rows: rowBound + 1, teardown: [ROLLBACK] }),
    );
    if (oneTrip.teardownRan > 0) session.ended();
    if (!oneTrip.suspended && oneTrip.rows.length <= rowBound) batch = oneTrip;
    // Otherwise the bound was wrong: run it again the streaming way, in a new transaction.
    else session.reopen();
  }
  let batchSize = Math.min(FIRST_BATCH, caps.maxRows + 1);
  batch ??= await run(client, new ExtendedBatch({ setup: session.takeBegin(), statement, rows: batchSize }));
  const fields = batch.fields ?? [];
  const parsers = fields.map((f) => typeParsers.getTypeParser(f.dataTypeID));
  const rows: unknown[][] = [];
  const rowsJson: string[] = [];
  let bytes = 0;
  let cutValues = 0;
  let truncated: RowSet["truncated"] = false;
  let fetched = 0;
  for (;;) {
    fetched += batch.rows.length;
    for (const raw of batch.rows) {
      if (rows.length >= caps.maxRows) {
        truncated = "rows";
        break;
      }
      const row = raw.map((value, i) => {
        if (value === null) return null;
        const [capped, cut] = capValue((parsers[i] as (text: string) => unknown)(value), caps.maxValueChars);
        if (cut) cutValues++;
        return prepareValue ? prepareValue(capped) : capped;
      });
      const json = JSON.stringify(row);
      const size = Buffer.byteLength(json, "utf8") + 1;
      if (rows.length > 0 && bytes + size > caps.maxBytes) {
        truncated = "bytes";
        break;
      }
      rows.push(row);
      rowsJson.push(json);
      bytes += size;
    }
    if (truncated || !batch.suspended || signal?.aborted) break;
    // Size the next batch from what rows cost so far, so wide rows are fetched a few at a time.
    const average = rows.length ? bytes / rows.length : 1024;
    const byBytes = Math.ceil((caps.maxBytes - bytes) / average) + 1;
    batchSize = Math.max(1, Math.min(MAX_BATCH, caps.maxRows + 1 - fetched, byBytes));
    batch = await run(client, new ExtendedBatch({ continueRows: batchSize }));
  }
  return {
    columns: fields.every(isNamedType) ? namedColumns(fields) : await columnsOf(client, fields),
    rows,
    rowsJson,
    truncated,
    cutValues,
    bytes,
    command: truncated ? undefined : batch.command,
  };
}

function run(client: PoolClient, batch: ExtendedBatch): Promise<BatchResult> {
  client.query(batch);
  return batch.done;
}

/** Parameters travel as text; PostgreSQL infers their types from the query. */
function toWire(value: Parameter): string | null {
  if (value === null) return null;
  return typeof value === "string" ? value : String(value);
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

const isNamedType = (field: Field) =>
  BUILTIN_TYPE_NAMES[field.dataTypeID] !== undefined || typeNameCache.has(field.dataTypeID);

const namedColumns = (fields: readonly Field[]): Column[] =>
  fields.map((f) => ({
    name: f.name,
    type: BUILTIN_TYPE_NAMES[f.dataTypeID] ?? typeNameCache.get(f.dataTypeID) ?? `oid ${f.dataTypeID}`,
  }));

/** Column types by name, asking the catalog (once per type) for those not built in. */
async function columnsOf(client: PoolClient, fields: readonly Field[]): Promise<Column[]> {
  const unknown = [...new Set(fields.filter((f) => !isNamedType(f)).map((f) => f.dataTypeID))];
  const result = await client.query<{ oid: number; name: string }>(
    "SELECT oid::int AS oid, pg_catalog.format_type(oid, NULL) AS name FROM pg_catalog.pg_type WHERE oid = ANY($1::oid[])",
    [unknown],
  );
  for (const row of result.rows) typeNameCache.set(row.oid, row.name);
  return namedColumns(fields);
}
