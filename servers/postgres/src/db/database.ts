import { connect as netConnect } from "node:net";
import type { Logger } from "@portside/shared";
import type { Pool, PoolClient } from "pg";
import { quoteAlways } from "../sql/allowlist.js";
import { ExtendedBatch, type Statement } from "./batch.js";
import { classifyError, isConnectionError, QueryFailure } from "./errors.js";
import { CallWatcher } from "./watch.js";

export interface DatabaseSettings {
  connectionString: string;
  poolSize: number;
  statementTimeoutMs: number;
  connectTimeoutMs: number;
  /** Schemas after pg_catalog on the search path while a query runs (for operators of extensions). */
  searchPath: readonly string[];
  applicationName: string;
}

export interface RunOptions {
  signal?: AbortSignal;
  /** Maps a position in the SQL that ran back to the caller's SQL. */
  originalPosition?: (position: number) => number | undefined;
  /**
   * Let the work send the transaction's opening statements with its own first query (one round
   * trip instead of two); otherwise they run before the work starts.
   */
  lazyBegin?: boolean;
}

/** One call's connection, inside (or about to open) its read-only transaction. */
export interface ReadOnlySession {
  client: PoolClient;
  /**
   * The statements that open the read-only transaction, the first time they are asked for; the
   * caller must send them before its own statement in the same batch. Empty afterwards.
   */
  takeBegin(): readonly Statement[];
  /** The caller ended the transaction itself (a ROLLBACK in its last batch): nothing to roll back. */
  ended(): void;
  /** After `ended`, lets the next statement open a new transaction (takeBegin gives it again). */
  reopen(): void;
}

/** The rollback still running on a pooled connection, which its next user must wait for. */
const pendingRollback = new WeakMap<object, Promise<Error | undefined>>();

/**
 * Each connection gets one error listener, for good, instead of one per call: it hands the error to
 * the call using the connection (ON_ERROR), or drops the connection if it was parked.
 */
const ON_ERROR = Symbol("portside.onError");
const LISTENED = Symbol("portside.listened");
type RoutedClient = PoolClient & { [ON_ERROR]?: ((error: Error) => void) | undefined; [LISTENED]?: true };

/**
 * How long the last used connection stays checked out for the next call before it goes back to the
 * pool (whose own idle timeout then applies).
 */
const WARM_IDLE_MS = 10_000;

/** How long to keep retrying a lost connection (e.g. while the database restarts). */
const RECONNECT_BACKOFF_MS = [50, 150, 300, 600, 1000, 1500, 2000];

/**
 * A pool of connections that runs every piece of work inside `BEGIN READ ONLY` with the statement,
 * lock and idle-in-transaction timeouts set locally, always rolls back, cancels the query on the
 * server when the caller gives up, and reconnects when the database went away in between.
 */
export class Database {
  private pool: Pool | undefined;
  private poolLoading: Promise<Pool> | undefined;
  private readonly begin: readonly Statement[];
  /**
   * The last connection a call gave back, kept for the next one. Taking a connection from the pool
   * and returning it costs two timers, a tick and several events per call, as much as a tenth of a
   * point lookup; calls one after another, the usual pattern, skip all of that.
   */
  private warm: PoolClient | undefined;
  private warmSince = 0;
  private warmTimer: NodeJS.Timeout | undefined;
  private readonly watcher = new CallWatcher();

  constructor(
    private readonly settings: DatabaseSettings,
    private readonly log: Logger,
  ) {
    const timeout = settings.statementTimeoutMs;
    const lockTimeout = Math.min(timeout, 2000);
    // A safety net if this process stalls mid-transaction: the server ends the session itself.
    const idleTimeout = timeout + 10_000;
    const searchPath = ["pg_catalog", ...settings.searchPath].map(quoteAlways).join(", ");
    // Both are prepared once per connection: parsing them on every call costs the database more
    // than the point lookup they precede (measured: a third of a lookup's round trip).
    this.begin = [
      { name: "portside_begin_read_only", text: "BEGIN TRANSACTION READ ONLY" },
      {
        // set_config(…, true) is SET LOCAL. Being a SELECT, it also takes the transaction's first
        // snapshot, after which PostgreSQL refuses to switch the transaction to read-write.
        name: "portside_read_only_settings",
        text: [
          "SELECT pg_catalog.set_config('statement_timeout', $1, true)",
          "pg_catalog.set_config('lock_timeout', $2, true)",
          "pg_catalog.set_config('idle_in_transaction_session_timeout', $3, true)",
          "pg_catalog.set_config('search_path', $4, true)",
        ].join(", "),
        values: [String(timeout), String(lockTimeout), String(idleTimeout), searchPath],
      },
    ];
  }

  /**
   * Runs `work` in a read-only transaction on one connection. Connection failures are retried on a
   * fresh connection (the work is read-only, so running it again is harmless).
   */
  async readOnly<T>(work: (session: ReadOnlySession) => Promise<T>, options: RunOptions = {}): Promise<T> {
    const deadline = Date.now() + Math.max(this.settings.connectTimeoutMs, 2000);
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.attempt(work, options);
      } catch (error) {
        const failure = classifyError(error, options.originalPosition, options.signal?.aborted ?? false);
        const wait = RECONNECT_BACKOFF_MS[Math.min(attempt, RECONNECT_BACKOFF_MS.length - 1)] as number;
        if (!failure.connectionLost || options.signal?.aborted || Date.now() + wait > deadline) throw failure;
        this.log.debug("database connection lost; retrying on a new connection", { attempt: attempt + 1 });
        await sleep(wait, options.signal);
      }
    }
  }

  private async attempt<T>(work: (session: ReadOnlySession) => Promise<T>, options: RunOptions): Promise<T> {
    const pool = await this.getPool();
    if (options.signal?.aborted) throw new QueryFailure("cancelled", "The call was cancelled.");
    const client: RoutedClient = this.takeWarm() ?? (await pool.connect());
    this.routeErrors(client);
    const previous = pendingRollback.get(client);
    if (previous) {
      pendingRollback.delete(client);
      const failed = await previous;
      if (failed) {
        client.release(failed);
        throw failed;
      }
    }
    let broken: Error | undefined;
    client[ON_ERROR] = (error) => {
      broken = error;
    };
    let hardStop: NodeJS.Timeout | undefined;
    // The server ends a statement at its timeout; "stalled" catches a server that stopped answering.
    let stalled = false;
    const unwatch = this.watcher.watch(options.signal, this.settings.statementTimeoutMs + 10_000, (reason) => {
      stalled = reason === "stalled";
      void cancelBackend(client, this.log);
      // If the server does not answer the cancel (network gone), drop the connection.
      hardStop = setTimeout(() => {
        broken ??= new Error("connection dropped after cancellation");
        void client.end().catch(() => undefined);
      }, 3000);
      hardStop.unref();
    });
    let begun = false;
    let closed = false;
    const session: ReadOnlySession = {
      client,
      takeBegin: () => {
        if (begun) return [];
        begun = true;
        closed = false;
        return this.begin;
      },
      ended: () => {
        closed = true;
      },
      reopen: () => {
        begun = false;
      },
    };
    try {
      if (!options.lazyBegin) {
        const batch = new ExtendedBatch({ setup: session.takeBegin() });
        client.query(batch);
        await batch.done;
      }
      return await work(session);
    } catch (error) {
      if (isConnectionError(error) || isFatal(error)) broken ??= error as Error;
      if (stalled) {
        broken ??= error as Error;
        throw new QueryFailure("timeout", "The database stopped answering; the call was abandoned.");
      }
      throw error;
    } finally {
      unwatch();
      if (hardStop) clearTimeout(hardStop);
      client[ON_ERROR] = undefined;
      if (begun && !closed && !broken) {
        // Nothing to keep: roll back, but only after the answer went out (setImmediate runs once
        // the response has been written), so the caller never waits for it. The connection goes
        // back to the pool at once; its next user waits for this rollback before sending anything
        // (see the start of attempt).
        const rollback = new Promise<Error | undefined>((resolve) => {
          setImmediate(() => {
            client.query("ROLLBACK").then(
              () => resolve(undefined),
              (error: Error) => {
                this.log.debug("rollback failed; the connection will be replaced", { error });
                resolve(error);
              },
            );
          });
        });
        pendingRollback.set(client, rollback);
        this.giveBack(client, pool);
      } else if (broken) {
        client.release(broken);
      } else {
        this.giveBack(client, pool);
      }
    }
  }

  private takeWarm(): PoolClient | undefined {
    const client = this.warm;
    this.warm = undefined;
    return client;
  }

  private routeErrors(client: RoutedClient): void {
    if (client[LISTENED]) return;
    client[LISTENED] = true;
    client.on("error", (error: Error) => {
      const onError = client[ON_ERROR];
      if (onError) onError(error);
      else if (client === this.warm) {
        // Checked out but idle, it has no pool listener: drop it here.
        this.log.warn("an idle database connection was lost", { error });
        this.takeWarm()?.release(error);
      }
      // Otherwise it is idle in the pool, whose own listener drops it.
    });
  }

  /** Keeps a healthy connection for the next call, unless someone is waiting for one. */
  private giveBack(client: PoolClient, pool: Pool): void {
    if (this.warm || pool !== this.pool || pool.waitingCount > 0) {
      client.release();
      return;
    }
    this.warm = client;
    this.warmSince = Date.now();
    this.warmTimer ??= setTimeout(this.coolDown, WARM_IDLE_MS).unref();
  }

  /** One timer for the parked connection, not one per call: it re-arms while calls keep coming. */
  private readonly coolDown = () => {
    this.warmTimer = undefined;
    if (!this.warm) return;
    const idle = Date.now() - this.warmSince;
    if (idle < WARM_IDLE_MS) {
      this.warmTimer = setTimeout(this.coolDown, WARM_IDLE_MS - idle).unref();
      return;
    }
    this.takeWarm()?.release();
  };

  private getPool(): Promise<Pool> {
    if (this.pool) return Promise.resolve(this.pool);
    this.poolLoading ??= import("pg").then(({ default: pg }) => {
      const pool = new pg.Pool({
        connectionString: this.settings.connectionString,
        max: this.settings.poolSize,
        connectionTimeoutMillis: this.settings.connectTimeoutMs,
        idleTimeoutMillis: 30_000,
        application_name: this.settings.applicationName,
      });
      // An idle connection that dies (database restart) is dropped by the pool; the next call reconnects.
      pool.on("error", (error) => this.log.warn("an idle database connection was lost", { error }));
      this.pool = pool;
      return pool;
    });
    return this.poolLoading;
  }

  async close(): Promise<void> {
    const pool = this.pool;
    this.pool = undefined;
    this.poolLoading = undefined;
    clearTimeout(this.warmTimer);
    this.warmTimer = undefined;
    this.takeWarm()?.release();
    await pool?.end();
  }
}

/** Server errors that end the session: the connection must not go back to the pool. */
function isFatal(error: unknown): boolean {
  const severity = (error as { severity?: string })?.severity;
  return severity === "FATAL" || severity === "PANIC";
}

/** Asks the server to cancel the running statement of `client` (PostgreSQL's CancelRequest). */
function cancelBackend(client: PoolClient, log: Logger): Promise<void> {
  const c = client as unknown as { processID: number | null; secretKey: number | null; host: string; port: number };
  if (c.processID === null || c.secretKey === null) return Promise.resolve();
  return new Promise((resolve) => {
    const socket = c.host.startsWith("/") ? netConnect(`${c.host}/.s.PGSQL.${c.port}`) : netConnect(c.port, c.host);
    const done = () => {
      socket.destroy();
      resolve();
    };
    socket.setTimeout(2000, done);
    socket.once("error", (error) => {
      log.debug("could not send a cancel request", { error });
      done();
    });
    socket.once("connect", () => {
      const message = Buffer.alloc(16);
      message.writeInt32BE(16, 0);
      message.writeInt32BE(80877102, 4);
      message.writeInt32BE(c.processID as number, 8);
      message.writeInt32BE(c.secretKey as number, 12);
      socket.end(message, done);
    });
  });
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener(
      "abort",
      () => {
        clearTimeout(timer);
        resolve();
      },
      { once: true },
    );
  });
}
