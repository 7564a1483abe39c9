/**
 * One round trip of PostgreSQL's extended query protocol, as a query object pg can run: setup
 * statements, then (optionally) one statement whose rows are fetched up to a limit, then Sync; or
 * more rows of the portal a previous batch left open.
 *
 * The extended protocol is what makes "exactly one statement" a property of the wire: a Parse
 * message holds one statement and the server refuses a second. Because the messages of a batch run
 * in order and an error skips everything up to Sync, the query only ever runs after the setup
 * (BEGIN READ ONLY and the local timeouts) succeeded.
 */
import type { Connection, Submittable } from "pg";
import { serialize } from "pg-protocol";

export interface Statement {
  text: string;
  values?: readonly (string | null)[];
  /**
   * Prepare it once per connection under this name and only bind it afterwards (it is parsed and
   * planned once, not on every call). A named statement's text and values must never change.
   */
  name?: string;
}

/**
 * A statement that opens or ends the transaction failed: the connection is in an unknown state and
 * must be replaced (the call is then retried on a fresh one).
 */
export class SetupFailed extends Error {
  constructor(cause: unknown, step: "open" | "end" = "open") {
    super(`could not ${step} the read-only transaction: ${(cause as Error)?.message ?? String(cause)}`, { cause });
    this.name = "SetupFailed";
  }
}

/** Named statements known to be prepared on each connection. */
const prepared = new WeakMap<object, Set<string>>();

const SYNC = serialize.sync();

/** Bind and Execute of a named statement, serialized once (its text and values never change). */
const boundMessages = new WeakMap<Statement, Buffer>();

const DESCRIBE_PORTAL = serialize.describe({ type: "P", name: "" });

/**
 * Parse, Bind, Describe (of the portal) and Execute of one unnamed statement, in a single buffer:
 * what pg-protocol's serializer produces message by message, without its four intermediate copies.
 * Parameters and results travel as text. The test suite compares the bytes with pg-protocol's.
 */
export function statementMessages(text: string, values: readonly (string | null)[], rows: number): Buffer {
  const textBytes = Buffer.byteLength(text, "utf8");
  let valueBytes = 0;
  for (const value of values) valueBytes += 4 + (value === null ? 0 : Buffer.byteLength(value, "utf8"));
  // Parse: name "", text, no parameter types. Bind: portal "", statement "", a text format code
  // per value, the values, one text result format. Describe: portal "". Execute: portal "", rows.
  const parseLength = 4 + 1 + textBytes + 1 + 2;
  const bindLength = 4 + 1 + 1 + 2 + 2 * values.length + 2 + valueBytes + 2 + 2;
  const out = Buffer.allocUnsafe(1 + parseLength + 1 + bindLength + DESCRIBE_PORTAL.length + 10);
  let at = 0;
  out[at++] = 0x50; // 'P'
  at = out.writeInt32BE(parseLength, at);
  out[at++] = 0;
  at += out.write(text, at, "utf8");
  out[at++] = 0;
  at = out.writeInt16BE(0, at);
  out[at++] = 0x42; // 'B'
  at = out.writeInt32BE(bindLength, at);
  out[at++] = 0;
  out[at++] = 0;
  at = out.writeInt16BE(values.length, at);
  for (let i = 0; i < values.length; i++) at = out.writeInt16BE(0, at);
  at = out.writeInt16BE(values.length, at);
  for (const value of values) {
    if (value === null) {
      at = out.writeInt32BE(-1, at);
      continue;
    }
    const length = out.write(value, at + 4, "utf8");
    at = out.writeInt32BE(length, at) + length;
  }
  at = out.writeInt16BE(1, at);
  at = out.writeInt16BE(0, at);
  at += DESCRIBE_PORTAL.copy(out, at);
  out[at++] = 0x45; // 'E'
  at = out.writeInt32BE(9, at);
  out[at++] = 0;
  out.writeUInt32BE(rows, at);
  return out;
}

/**
 * The messages that run a setup or teardown statement: a named one is parsed once per connection
 * (PostgreSQL keeps it for the session, so it is neither parsed nor planned again), then only bound.
 */
function run(statement: Statement, known: ReadonlySet<string> | undefined): Buffer[] {
  const name = statement.name;
  if (!name) {
    return [
      serialize.parse({ text: statement.text }),
      serialize.bind({ values: [...(statement.values ?? [])] }),
      serialize.execute({ rows: 0 }),
    ];
  }
  let bound = boundMessages.get(statement);
  if (!bound) {
    bound = Buffer.concat([
      serialize.bind({ statement: name, values: [...(statement.values ?? [])] }),
      serialize.execute({ rows: 0 }),
    ]);
    boundMessages.set(statement, bound);
  }
  return known?.has(name) ? [bound] : [serialize.parse({ text: statement.text, name }), bound];
}

export interface Field {
  name: string;
  dataTypeID: number;
}

export interface BatchResult {
  /** How many teardown statements ran (they are skipped when the statement failed). */
  teardownRan: number;
  /** Set when the batch described the statement (the first batch of a query). */
  fields: Field[] | undefined;
  /** Raw text values, one array per row (null for SQL NULL). */
  rows: Array<Array<string | null>>;
  /** The portal has more rows: run a continuation batch to read them. */
  suspended: boolean;
  /** The command tag when the statement finished (e.g. `SELECT 3`). */
  command: string | undefined;
}

type BatchSpec =
  | { setup: readonly Statement[]; statement?: Statement; rows?: number; teardown?: readonly Statement[] }
  | { continueRows: number };

/** The part of pg's Connection a batch writes to. */
interface WireConnection {
  stream: { writable: boolean; write(data: Buffer): boolean };
}

/** A pg `Submittable`: `client.query(batch)` sends it; `batch.done` settles when it is answered. */
export class ExtendedBatch implements Submittable {
  readonly done: Promise<BatchResult>;
  private resolve!: (result: BatchResult) => void;
  private reject!: (error: unknown) => void;
  private setupLeft: number;
  /** Whether the caller's statement is still to answer (its rows go to the result). */
  private inStatement: boolean;
  private settled = false;
  private connection: object | undefined;
  private readonly result: BatchResult = {
    fields: undefined,
    rows: [],
    suspended: false,
    command: undefined,
    teardownRan: 0,
  };

  constructor(private readonly spec: BatchSpec) {
    this.done = new Promise((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
    // The promise may be awaited late (after a network error); never let it become unhandled.
    this.done.catch(() => undefined);
    this.setupLeft = "setup" in spec ? spec.setup.length : 0;
    this.inStatement = !("setup" in spec) || spec.statement !== undefined;
  }

  submit(connection: Connection): void {
    this.connection = connection;
    const messages: Buffer[] = [];
    if ("setup" in this.spec) {
      const known = prepared.get(connection);
      for (const statement of this.spec.setup) messages.push(...run(statement, known));
      const statement = this.spec.statement;
      if (statement) messages.push(statementMessages(statement.text, statement.values ?? [], this.spec.rows ?? 0));
      // Teardown runs only if everything before it succeeded (an error skips to Sync).
      for (const teardown of this.spec.teardown ?? []) messages.push(...run(teardown, known));
    } else {
      messages.push(serialize.execute({ portal: "", rows: this.spec.continueRows }));
    }
    messages.push(SYNC);
    // One write for the whole batch: one packet, one system call.
    const { stream } = connection as unknown as WireConnection;
    if (stream.writable) stream.write(Buffer.concat(messages));
  }

  handleRowDescription(message: { fields: Field[] }): void {
    if (this.setupLeft > 0 || !this.inStatement) return;
    this.result.fields = message.fields.map((f) => ({ name: f.name, dataTypeID: f.dataTypeID }));
  }

  handleDataRow(message: { fields: Array<string | null> }): void {
    // Rows of a setup statement (the set_config SELECT) are not the caller's.
    if (this.setupLeft > 0 || !this.inStatement) return;
    this.result.rows.push(message.fields);
  }

  handlePortalSuspended(): void {
    this.result.suspended = true;
    this.inStatement = false;
  }

  handleCommandComplete(message: { text?: string; command?: string }): void {
    if (this.setupLeft > 0 && "setup" in this.spec) {
      this.ran(this.spec.setup[this.spec.setup.length - this.setupLeft]);
      this.setupLeft--;
      return;
    }
    if (this.inStatement) {
      this.result.command = message.text ?? message.command;
      this.inStatement = false;
      return;
    }
    if ("setup" in this.spec) this.ran(this.spec.teardown?.[this.result.teardownRan]);
    this.result.teardownRan++;
  }

  /** A named statement that ran is prepared on this connection from now on. */
  private ran(statement: Statement | undefined): void {
    if (!statement?.name || !this.connection) return;
    const known = prepared.get(this.connection) ?? new Set<string>();
    known.add(statement.name);
    prepared.set(this.connection, known);
  }

  handleEmptyQuery(): void {
    this.result.command = "";
    this.inStatement = false;
  }

  handleError(error: unknown): void {
    // The server skips to Sync after an error; pg stops routing this batch's messages here.
    if (this.settled) return;
    this.settled = true;
    if (this.setupLeft > 0) this.reject(new SetupFailed(error));
    else if (!this.inStatement && "setup" in this.spec && this.spec.teardown?.length) {
      this.reject(new SetupFailed(error, "end"));
    } else this.reject(error);
  }

  handleReadyForQuery(): void {
    if (this.settled) return;
    this.settled = true;
    this.resolve(this.result);
  }
}
