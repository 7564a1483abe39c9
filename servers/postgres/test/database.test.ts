/**
 * The database layers on their own, with the guard out of the way: what the read-only transaction,
 * the extended protocol and the timeouts stop by themselves, the cursor caps, cancellation, and
 * reconnecting after the connections die.
 */
import pg from "pg";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { Database } from "../src/db/database.ts";
import { QueryFailure } from "../src/db/errors.ts";
import { streamRows } from "../src/db/stream.ts";
import { captureLog, database } from "./support/service.ts";
import { databaseState } from "./support/shop.ts";

const shop = inject("shop");
const caps = { maxRows: 100, maxBytes: 64 * 1024, maxValueChars: 1000 };

let db: Database;
let before: Record<string, unknown>;
const { log, lines } = captureLog();

beforeAll(async () => {
  db = database(shop.readerUrl, log, 2500);
  before = await databaseState(shop.adminUrl);
});

afterAll(async () => {
  await db.close();
});

/** Runs raw SQL (no guard) the way the server runs a query. */
function raw(sql: string, signal?: AbortSignal) {
  return db.readOnly((session) => streamRows(session, sql, [], caps, signal ? { signal } : {}), {
    lazyBegin: true,
    ...(signal ? { signal } : {}),
  });
}

async function failure(promise: Promise<unknown>): Promise<QueryFailure> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(QueryFailure);
    return error as QueryFailure;
  }
  throw new Error("expected the database to refuse");
}

describe("the read-only transaction refuses writes by itself", () => {
  it.each([
    "INSERT INTO public.orders (customer_id, status, ordered_at, total) VALUES (1, 'new', now(), 1)",
    "UPDATE public.orders SET total = 0",
    "DELETE FROM public.order_items",
    "CREATE TABLE public.stolen (x int)",
    "SELECT lo_create(0)",
    "WITH d AS (DELETE FROM public.orders RETURNING 1) SELECT * FROM d",
    "SELECT * FROM public.orders FOR UPDATE",
  ])("%s", async (sql) => {
    const error = await failure(raw(sql));
    expect(error.details.sqlstate).toBe("25006");
    expect(error.kind).toBe("denied");
    expect(await databaseState(shop.adminUrl)).toEqual(before);
  });

  it("cannot be switched to read-write from inside", async () => {
    for (const sql of ["SET TRANSACTION READ WRITE", "SELECT set_config('transaction_read_only', 'off', true)"]) {
      const error = await failure(raw(sql));
      expect(error.details.sqlstate).toBe("25001");
    }
    expect(await databaseState(shop.adminUrl)).toEqual(before);
  });

  it("survives a COMMIT sneaked in: nothing follows it in the same call", async () => {
    await raw("COMMIT");
    const rows = await raw("SHOW transaction_read_only");
    expect(rows.rows).toEqual([["on"]]);
    expect(await databaseState(shop.adminUrl)).toEqual(before);
  });
});

describe("the extended protocol runs exactly one statement", () => {
  it.each(["SELECT 1; DELETE FROM public.orders", "SELECT 1; COMMIT; DELETE FROM public.orders"])("%s", async (sql) => {
    const error = await failure(raw(sql));
    expect(error.details.sqlstate).toBe("42601");
    expect(error.message).toMatch(/cannot insert multiple commands into a prepared statement/);
    expect(await databaseState(shop.adminUrl)).toEqual(before);
  });
});

describe("settings are set locally for every call", () => {
  it("has the statement, lock and idle timeouts and the search path", async () => {
    const settings = await db.readOnly(async ({ client }) => {
      const out: Record<string, string> = {};
      for (const name of [
        "statement_timeout",
        "lock_timeout",
        "idle_in_transaction_session_timeout",
        "transaction_read_only",
        "search_path",
      ]) {
        out[name] = (await client.query(`SHOW ${name}`)).rows[0]?.[name];
      }
      return out;
    });
    expect(settings).toEqual({
      statement_timeout: "2500ms",
      lock_timeout: "2s",
      idle_in_transaction_session_timeout: "12500ms",
      transaction_read_only: "on",
      search_path: '"pg_catalog", "public"',
    });
  });

  it("leaves nothing behind on the connection after the call", async () => {
    const single = database(shop.readerUrl, log, 2500);
    try {
      await single.readOnly((session) => streamRows(session, "SELECT 1", [], caps), { lazyBegin: true });
      // Same pooled connection, outside any transaction: the settings were local to the last one.
      const outside = await single.readOnly(async ({ client }) => {
        await client.query("ROLLBACK");
        return (
          await client.query("SELECT current_setting('statement_timeout') AS t, current_setting('search_path') AS p")
        ).rows[0];
      });
      expect(outside).toEqual({ t: "0", p: '"$user", public' });
    } finally {
      await single.close();
    }
  });

  it("ends a statement at the statement timeout", async () => {
    const error = await failure(raw("SELECT pg_sleep(10)"));
    expect(error.kind).toBe("timeout");
    expect(error.details.sqlstate).toBe("57014");
  });

  it("gives up on a lock at the lock timeout", async () => {
    const admin = new pg.Client({ connectionString: shop.adminUrl });
    await admin.connect();
    try {
      await admin.query("BEGIN");
      await admin.query("LOCK TABLE public.products IN ACCESS EXCLUSIVE MODE");
      const error = await failure(raw("SELECT * FROM public.products"));
      expect(error.details.sqlstate).toBe("55P03");
      expect(error.kind).toBe("timeout");
    } finally {
      await admin.query("ROLLBACK");
      await admin.end();
    }
  });
});

describe("the cursor caps", () => {
  it("returns the first rows of an endless result and says it was cut", async () => {
    const result = await raw("SELECT a.id FROM public.events a CROSS JOIN public.events b");
    expect(result.rows).toHaveLength(100);
    expect(result.truncated).toBe("rows");
  });

  it("returns everything when it fits, with column names and types", async () => {
    const result = await raw(
      "SELECT id, name, price, stock > 0 AS in_stock FROM public.products WHERE category = 'hardware' ORDER BY id",
    );
    expect(result.truncated).toBe(false);
    expect(result.columns).toEqual([
      { name: "id", type: "integer" },
      { name: "name", type: "text" },
      { name: "price", type: "numeric" },
      { name: "in_stock", type: "boolean" },
    ]);
    expect(result.rows).toEqual([
      [1, "Mechanical keyboard", "129.00", true],
      [2, "Trackball", "89.50", true],
      [3, "Monitor arm", "59.99", false],
    ]);
  });

  it("keeps timestamps, numerics and big integers exact", async () => {
    const result = await raw(
      "SELECT '2024-03-01 10:00+00'::timestamptz AT TIME ZONE 'UTC', 9007199254740993::bigint, 42::bigint, 0.1::numeric + 0.2, '\\x0102'::bytea, ARRAY[1,2], ARRAY['a', NULL, 'b,c'], '{\"a\": [1]}'::jsonb, 'NaN'::float8",
    );
    expect(result.rows[0]).toEqual([
      "2024-03-01 10:00:00",
      "9007199254740993",
      42,
      "0.3",
      "\\x0102",
      [1, 2],
      ["a", null, "b,c"],
      { a: [1] },
      "NaN",
    ]);
  });

  it("stops at the byte cap but always returns the first row", async () => {
    const small = { maxRows: 100, maxBytes: 2048, maxValueChars: 1000 };
    const result = await db.readOnly((session) =>
      streamRows(session, "SELECT repeat('z', 900) FROM generate_series(1, 50)", [], small),
    );
    expect(result.truncated).toBe("bytes");
    expect(result.rows.length).toBe(2);
    const one = await db.readOnly((session) =>
      streamRows(session, "SELECT repeat('z', 900), repeat('w', 900), repeat('v', 900)", [], small),
    );
    expect(one.rows).toHaveLength(1);
  });

  it("leaves the connection usable after an error mid-stream", async () => {
    const error = await failure(raw("SELECT 1 / (g - 50) FROM generate_series(1, 1000) g"));
    expect(error.details.sqlstate).toBe("22012");
    expect((await raw("SELECT 2")).rows).toEqual([[2]]);
  });
});

describe("small results in one round trip", () => {
  it("answers a proven-small query and ends its transaction in the same batch", async () => {
    const result = await db.readOnly(
      (s) => streamRows(s, "SELECT id, name FROM public.customers WHERE id = 2", [], caps, { rowBound: 1 }),
      { lazyBegin: true },
    );
    expect(result.rows).toEqual([[2, "Grace Hopper"]]);
    expect(result.truncated).toBe(false);
  });

  it("prepares the transaction's own statements once per connection, then only binds them", async () => {
    const fresh = database(shop.readerUrl, log);
    try {
      const lookup = (sql: string) =>
        fresh.readOnly((s) => streamRows(s, sql, [], caps, { rowBound: 100 }), { lazyBegin: true });
      expect((await lookup("SELECT id FROM public.customers WHERE id = 1")).rows).toEqual([[1]]);
      // Sequential calls reuse the one idle connection: a second Parse of a name would fail there.
      const prepared = await lookup("SELECT name, statement FROM pg_catalog.pg_prepared_statements ORDER BY name");
      expect(prepared.rows).toEqual([
        ["portside_begin_read_only", "BEGIN TRANSACTION READ ONLY"],
        ["portside_read_only_settings", expect.stringContaining("set_config('statement_timeout'")],
        ["portside_rollback", "ROLLBACK"],
      ]);
      expect((await lookup("SELECT current_setting('transaction_read_only')")).rows).toEqual([["on"]]);
    } finally {
      await fresh.close();
    }
  });

  it("falls back to streaming when the bound was wrong, and still answers right", async () => {
    const result = await db.readOnly(
      (s) => streamRows(s, "SELECT id FROM public.customers ORDER BY id", [], caps, { rowBound: 1 }),
      { lazyBegin: true },
    );
    expect(result.rows).toEqual([[1], [2], [3], [4], [5]]);
  });

  it("still rolls back when the statement fails", async () => {
    const logged = lines.length;
    const error = await failure(
      db.readOnly((s) => streamRows(s, "SELECT 1 / 0", [], caps, { rowBound: 1 }), { lazyBegin: true }),
    );
    expect(error.details.sqlstate).toBe("22012");
    expect((await raw("SHOW transaction_read_only")).rows).toEqual([["on"]]);
    // The next call found its connection clean: no failed setup, no retry.
    expect(lines.slice(logged).join("")).not.toMatch(/retrying/);
    expect(await databaseState(shop.adminUrl)).toEqual(before);
  });
});

describe("cancellation", () => {
  it("cancels the statement on the server when the caller gives up", async () => {
    const slow = database(shop.readerUrl, log, 60_000);
    try {
      const controller = new AbortController();
      const running = slow.readOnly((session) => streamRows(session, "SELECT pg_sleep(30)", [], caps), {
        signal: controller.signal,
        lazyBegin: true,
      });
      setTimeout(() => controller.abort(), 300);
      const error = await failure(running);
      expect(error.kind).toBe("cancelled");
      // The connection went back to the pool clean: the next call on it works.
      const next = await slow.readOnly((session) => streamRows(session, "SELECT 3", [], caps), { lazyBegin: true });
      expect(next.rows).toEqual([[3]]);
    } finally {
      await slow.close();
    }
  });
});

describe("reconnecting", () => {
  it("survives every connection being killed between calls", async () => {
    expect((await raw("SELECT 1")).rows).toEqual([[1]]);
    const admin = new pg.Client({ connectionString: shop.adminUrl });
    await admin.connect();
    try {
      const killed = await admin.query(
        "SELECT count(pg_terminate_backend(pid))::int AS n FROM pg_stat_activity WHERE application_name = 'portside-postgres-test'",
      );
      expect(killed.rows[0]?.n).toBeGreaterThan(0);
    } finally {
      await admin.end();
    }
    expect((await raw("SELECT 2")).rows).toEqual([[2]]);
  });

  it("keeps the last connection for the next call, and drops it when it dies while parked", async () => {
    const single = database(shop.readerUrl, log, 2500);
    try {
      const backend = async () =>
        (await single.readOnly((s) => streamRows(s, "SELECT pg_backend_pid()", [], caps), { lazyBegin: true }))
          .rows[0]?.[0];
      const first = await backend();
      expect(await backend()).toBe(first);
      const logged = lines.length;
      const admin = new pg.Client({ connectionString: shop.adminUrl });
      await admin.connect();
      try {
        await admin.query("SELECT pg_terminate_backend($1)", [first]);
      } finally {
        await admin.end();
      }
      // The parked connection hears of its end by itself (an unhandled error would crash the process).
      await expect.poll(() => lines.slice(logged).join(""), { timeout: 5000 }).toMatch(/connection was lost/);
      const next = await backend();
      expect(next).not.toBe(first);
      // It was dropped before the call, not found dead by it.
      expect(lines.slice(logged).join("")).not.toMatch(/retrying/);
    } finally {
      await single.close();
    }
  });

  it("serves more concurrent calls than connections, none left waiting behind a parked one", async () => {
    // One connection, nine calls at once: the connection must not sit parked while calls wait.
    const one = new Database(
      {
        connectionString: shop.readerUrl,
        poolSize: 1,
        statementTimeoutMs: 2500,
        connectTimeoutMs: 2000,
        searchPath: ["public"],
        applicationName: "portside-postgres-test",
      },
      log,
    );
    try {
      const call = (i: number) =>
        one.readOnly((s) => streamRows(s, `SELECT ${i}, pg_sleep(0.01)`, [], caps, { rowBound: 1 }), {
          lazyBegin: true,
        });
      for (let round = 0; round < 3; round++) {
        const results = await Promise.all(Array.from({ length: 9 }, (_, i) => call(i)));
        expect(results.map((r) => r.rows[0]?.[0])).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
      }
    } finally {
      await one.close();
    }
  });

  it("replaces a connection whose prepared transaction setup went missing", async () => {
    const single = database(shop.readerUrl, log, 2500);
    try {
      expect((await single.readOnly((s) => streamRows(s, "SELECT 1", [], caps), { lazyBegin: true })).rows).toEqual([
        [1],
      ]);
      // Only reachable with the guard out of the way: drop the prepared settings statement.
      await single.readOnly(async ({ client }) => {
        await client.query("DEALLOCATE ALL");
      });
      expect((await single.readOnly((s) => streamRows(s, "SELECT 2", [], caps), { lazyBegin: true })).rows).toEqual([
        [2],
      ]);
    } finally {
      await single.close();
    }
  });

  it("replaces a connection whose prepared ROLLBACK went missing", async () => {
    const single = database(shop.readerUrl, log, 2500);
    try {
      const lookup = (sql: string) =>
        single.readOnly((s) => streamRows(s, sql, [], caps, { rowBound: 1 }), { lazyBegin: true });
      expect((await lookup("SELECT 1")).rows).toEqual([[1]]);
      await single.readOnly(async ({ client }) => {
        await client.query("DEALLOCATE portside_rollback");
      });
      const logged = lines.length;
      expect((await lookup("SELECT 2")).rows).toEqual([[2]]);
      expect(lines.slice(logged).join("")).toMatch(/retrying/);
      expect((await lookup("SELECT current_setting('transaction_read_only')")).rows).toEqual([["on"]]);
    } finally {
      await single.close();
    }
  });

  it("reports an unreachable database as unavailable, without the password", async () => {
    const url = new URL(shop.readerUrl);
    url.port = "1";
    const { log: quiet, lines: quietLines } = captureLog();
    const dead = database(url.href, quiet, 1500, 500);
    try {
      const error = await failure(
        dead.readOnly((session) => streamRows(session, "SELECT 1", [], caps), { lazyBegin: true }),
      );
      expect(error.kind).toBe("unavailable");
      expect(error.message).not.toContain(decodeURIComponent(url.password));
      expect(quietLines.join("")).not.toContain(decodeURIComponent(url.password));
    } finally {
      await dead.close();
    }
  });

  it("never logs the password", () => {
    const password = decodeURIComponent(new URL(shop.readerUrl).password);
    expect(lines.join("")).not.toContain(password);
  });
});
