/**
 * The attack suite: every way we know to write, escape the allowlist, or do harm from a "read-only"
 * query, run through the whole server stack (guard, read-only transaction, cursor caps) against a
 * real PostgreSQL. Each attack must be refused or be harmless, must not show a secret, and must leave
 * the database exactly as it was. The role here can SELECT every table, private ones included, so
 * only the server's own layers stand between the model and the secrets.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { QueryFailure } from "../src/db/errors.ts";
import type { PostgresService } from "../src/service.ts";
import { GuardError } from "../src/sql/errors.ts";
import { service } from "./support/service.ts";
import { databaseState } from "./support/shop.ts";

const shop = inject("shop");
const SECRETS = /launch-codes|hunter2|120000|95000|hijacked/;
const caps = { maxRows: 1000, maxBytes: 32 * 1024, maxValueChars: 2000 };

let server: PostgresService;
let before: Record<string, unknown>;

beforeAll(async () => {
  server = service(shop.readerUrl, { allow: shop.allow, deny: shop.deny, statementTimeoutMs: 1500 });
  await server.ready();
  before = await databaseState(shop.adminUrl);
});

afterAll(async () => {
  await server.close();
});

interface Outcome {
  refused: boolean;
  kind?: string;
  message?: string;
  rows?: unknown[][];
  truncated?: false | "rows" | "bytes";
}

async function attempt(sql: string): Promise<Outcome> {
  try {
    const { result } = await server.query(sql, [], caps);
    return { refused: false, rows: result.rows, truncated: result.truncated };
  } catch (error) {
    if (error instanceof GuardError) return { refused: true, kind: `guard:${error.rule}`, message: error.message };
    if (error instanceof QueryFailure) return { refused: true, kind: `db:${error.kind}`, message: error.message };
    throw error;
  }
}

async function expectRefusedAndUnchanged(sql: string): Promise<Outcome> {
  const outcome = await attempt(sql);
  expect(outcome.refused, `${sql} was not refused: ${JSON.stringify(outcome.rows)?.slice(0, 200)}`).toBe(true);
  expect(JSON.stringify(outcome)).not.toMatch(SECRETS);
  expect(await databaseState(shop.adminUrl)).toEqual(before);
  return outcome;
}

const attacks: Record<string, string[]> = {
  "stacked statements": [
    "SELECT 1; DROP TABLE public.orders",
    "SELECT 1;DELETE FROM orders",
    "SELECT 1; -- \n DROP TABLE orders",
    "/* ; */ SELECT 1; UPDATE orders SET total = 0",
    "SELECT * FROM orders; SELECT * FROM private.secrets",
    "SELECT 1; COPY orders TO '/tmp/stolen'",
    // The parser would stop at the NUL and check only the first statement.
    "SELECT 1\u0000; DROP TABLE orders",
  ],
  "transaction control": [
    "COMMIT; DROP TABLE orders",
    "ROLLBACK; INSERT INTO orders (customer_id, status, ordered_at, total) VALUES (1, 'new', now(), 1)",
    "COMMIT",
    "BEGIN",
    "END",
    "ABORT",
    "START TRANSACTION READ WRITE",
    "SET TRANSACTION READ WRITE",
    "SET SESSION CHARACTERISTICS AS TRANSACTION READ WRITE",
    "SAVEPOINT s",
    "RELEASE SAVEPOINT s",
    "PREPARE TRANSACTION 'x'",
    "COMMIT PREPARED 'x'",
  ],
  writes: [
    "INSERT INTO orders (customer_id, status, ordered_at, total) VALUES (1, 'new', now(), 1)",
    "UPDATE orders SET total = 0",
    "DELETE FROM orders",
    "TRUNCATE orders",
    "MERGE INTO orders o USING customers c ON o.id = c.id WHEN MATCHED THEN DELETE",
    "DROP TABLE orders",
    "ALTER TABLE orders ADD COLUMN x int",
    "CREATE TABLE stolen AS SELECT * FROM private.secrets",
    "CREATE TEMP TABLE t (x int)",
    "CREATE FUNCTION f() RETURNS int LANGUAGE sql AS 'SELECT 1'",
    "GRANT ALL ON orders TO PUBLIC",
    "COMMENT ON TABLE orders IS 'owned'",
    "ALTER SYSTEM SET work_mem = '1GB'",
    "ALTER ROLE CURRENT_USER SET statement_timeout = 0",
    "VACUUM orders",
    "ANALYZE orders",
    "REINDEX TABLE orders",
    "CLUSTER orders USING orders_pkey",
    "REFRESH MATERIALIZED VIEW anything",
    "CHECKPOINT",
  ],
  "writable WITH queries": [
    "WITH d AS (DELETE FROM orders RETURNING *) SELECT * FROM d",
    "WITH u AS (UPDATE orders SET total = 0 RETURNING id) SELECT count(*) FROM u",
    "WITH i AS (INSERT INTO customers (name) VALUES ('x') RETURNING id) SELECT * FROM i",
    "SELECT * FROM (WITH d AS (DELETE FROM orders RETURNING 1) SELECT * FROM d) s",
    "WITH a AS (SELECT 1), d AS (DELETE FROM order_items RETURNING 1) SELECT * FROM a",
    "WITH m AS (MERGE INTO orders o USING customers c ON o.id = c.id WHEN MATCHED THEN DELETE RETURNING o.id) SELECT 1",
  ],
  "SELECT INTO": [
    "SELECT * INTO stolen FROM customers",
    "SELECT 1 INTO TEMP t",
    "SELECT * INTO UNLOGGED t FROM orders",
    "SELECT secret INTO public.copy FROM private.secrets",
  ],
  COPY: [
    "COPY orders TO STDOUT",
    "COPY orders TO '/tmp/orders.csv'",
    "COPY (SELECT * FROM private.secrets) TO STDOUT",
    "COPY orders FROM PROGRAM 'id'",
    "COPY orders FROM STDIN",
  ],
  "DO and CALL": [
    "DO $$BEGIN DELETE FROM orders; END$$",
    "DO LANGUAGE plpgsql 'BEGIN PERFORM pg_sleep(1); END'",
    "CALL some_procedure()",
  ],
  "file access": [
    "SELECT pg_read_file('/etc/passwd')",
    "SELECT pg_read_binary_file('PG_VERSION')",
    "SELECT * FROM pg_ls_dir('.')",
    "SELECT pg_stat_file('PG_VERSION')",
    "SELECT pg_catalog.pg_read_file('postgresql.auto.conf')",
    "SELECT lo_import('/etc/passwd')",
    "SELECT lo_export(1, '/tmp/x')",
  ],
  sleep: [
    "SELECT pg_sleep(5)",
    "SELECT pg_sleep_for('5 seconds')",
    "SELECT pg_sleep_until(now() + interval '5 seconds')",
    "SELECT * FROM orders WHERE pg_sleep(1) IS NULL",
  ],
  configuration: [
    "SELECT set_config('statement_timeout', '0', false)",
    "SELECT set_config('transaction_read_only', 'off', true)",
    "SELECT current_setting('data_directory')",
    "SELECT * FROM pg_settings",
    "SET statement_timeout = 0",
    "SET ROLE postgres",
    "SET SESSION AUTHORIZATION postgres",
    "RESET ALL",
    "SHOW data_directory",
    "SELECT pg_reload_conf()",
    "LOAD 'auto_explain'",
  ],
  "backend signals": [
    "SELECT pg_cancel_backend(1)",
    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity",
    "SELECT pg_catalog.pg_terminate_backend(1)",
  ],
  "large objects": [
    "SELECT lo_create(0)",
    "SELECT lo_from_bytea(0, 'x')",
    "SELECT lo_unlink(1)",
    "SELECT loread(lo_open(1, 262144), 10)",
    "SELECT * FROM pg_largeobject",
  ],
  sequences: [
    "SELECT nextval('invoice_seq')",
    "SELECT nextval('public.orders_id_seq'::regclass)",
    "SELECT setval('orders_id_seq', 1)",
    "SELECT currval('orders_id_seq')",
    "SELECT * FROM invoice_seq",
    "SELECT last_value FROM public.orders_id_seq",
  ],
  "advisory locks": [
    "SELECT pg_advisory_lock(1)",
    "SELECT pg_try_advisory_lock(1)",
    "SELECT pg_advisory_xact_lock(1)",
    "SELECT pg_advisory_lock_shared(1)",
  ],
  "dblink and SQL in strings": [
    "SELECT * FROM dblink('host=127.0.0.1', 'DELETE FROM orders') AS t(x text)",
    "SELECT dblink_exec('host=127.0.0.1', 'DROP TABLE orders')",
    "SELECT query_to_xml('SELECT * FROM private.secrets', true, true, '')",
    "SELECT * FROM ts_stat('SELECT secret::tsvector FROM private.secrets')",
    "SELECT ts_rewrite('a'::tsquery, 'SELECT secret::tsquery, secret::tsquery FROM private.secrets')",
  ],
  "functions in FROM": [
    "SELECT * FROM public.leak()",
    "SELECT * FROM leak()",
    "SELECT * FROM ROWS FROM (generate_series(1, 2), leak())",
    "SELECT * FROM orders, LATERAL pg_read_file('/etc/passwd') f",
    "SELECT * FROM pg_catalog.pg_ls_dir('.') AS d",
    "SELECT * FROM orders o CROSS JOIN LATERAL public.leak() l",
  ],
  "functions anywhere else": [
    "SELECT public.leak()",
    "SELECT 1 FROM orders ORDER BY pg_sleep(1)",
    "SELECT count(*) FROM orders GROUP BY pg_backend_pid()",
    "SELECT count(*) FROM orders HAVING pg_sleep(1) IS NULL",
    "SELECT 1 WHERE EXISTS (SELECT leak())",
    "SELECT coalesce(NULL, pg_sleep(1)::text)",
    "SELECT ARRAY[leak()]",
    "SELECT sum(id) FILTER (WHERE pg_sleep(0) IS NULL) FROM orders",
    "SELECT (SELECT pg_read_file('x'))",
    "SELECT CASE WHEN true THEN leak() END",
    "SELECT json_object('a' : leak())",
    "SELECT id, sum(total) OVER (ORDER BY pg_sleep(0)) FROM orders",
    "WITH x AS (SELECT leak()) SELECT * FROM x",
    "SELECT public.lower('x')",
    "SELECT txid_current()",
    "SELECT pg_current_xact_id()",
    "SELECT pg_notify('ch', 'x')",
  ],
  "locking clauses": [
    "SELECT * FROM orders FOR UPDATE",
    "SELECT * FROM orders FOR SHARE",
    "SELECT * FROM orders FOR NO KEY UPDATE SKIP LOCKED",
    "SELECT * FROM orders FOR KEY SHARE NOWAIT",
    "SELECT * FROM (SELECT * FROM orders FOR UPDATE) s",
    "WITH x AS (SELECT * FROM orders FOR UPDATE) SELECT 1",
    "LOCK TABLE orders IN ACCESS EXCLUSIVE MODE",
  ],
  "PREPARE, EXECUTE and cursors": [
    "PREPARE p AS DELETE FROM orders",
    "EXECUTE p",
    "DEALLOCATE ALL",
    "DECLARE c CURSOR WITH HOLD FOR SELECT * FROM private.secrets",
    "FETCH ALL FROM c",
    "CLOSE ALL",
  ],
  "LISTEN and NOTIFY": ["LISTEN ch", "NOTIFY ch, 'x'", "UNLISTEN *"],
  "comment and dollar-quote tricks": [
    "SELECT 1 -- \n; DROP TABLE orders",
    "SELECT $$ $$; DROP TABLE orders; SELECT $$ $$",
    "SELECT 'x'; DROP TABLE orders; --'",
    "SELECT 1 /* /* */ */; DROP TABLE orders",
    "SELECT/**/*/**/FROM/**/private.secrets",
    "SELECT * FROM private . secrets",
    "SELECT * FROM private.--\nsecrets",
    "SELECT * FROM private./* x */secrets",
  ],
  "quoted and schema-qualified names": [
    'SELECT * FROM "private"."secrets"',
    "SELECT * FROM PRIVATE.SECRETS",
    'SELECT * FROM private.U&"\\0073ecrets"',
    'SELECT * FROM U&"\\006Frders"',
    'SELECT * FROM "public.orders"',
    "SELECT * FROM ONLY private.secrets",
    "TABLE private.secrets",
    "SELECT * FROM private.secrets*",
    "SELECT * FROM public.staff_salaries",
    'SELECT * FROM "staff_salaries"',
    "SELECT * FROM postgres.private.secrets",
    "SELECT NULL::private.secrets",
    "SELECT 'private.secrets'::regclass::oid",
  ],
  "denied tables through views, subqueries, WITH and catalogs": [
    "SELECT * FROM secret_view",
    "SELECT * FROM public.secret_view",
    "SELECT * FROM orders WHERE id IN (SELECT id FROM private.secrets)",
    "SELECT (SELECT secret FROM private.secrets LIMIT 1)",
    "SELECT * FROM orders o JOIN LATERAL (SELECT * FROM private.secrets) s ON true",
    "WITH s AS (SELECT * FROM private.secrets) SELECT * FROM s",
    "WITH RECURSIVE r AS (SELECT 1 UNION ALL SELECT 1 FROM staff_salaries) SELECT * FROM r",
    "SELECT id::text FROM orders UNION ALL SELECT secret FROM private.secrets",
    "WITH customers AS (SELECT * FROM private.secrets) SELECT * FROM customers",
    "WITH orders AS (SELECT secret AS total FROM private.secrets) SELECT * FROM orders",
    "SELECT * FROM (WITH secrets AS (SELECT 1) SELECT 1) x, secrets",
    "SELECT jsonb_agg(s) FROM private.secrets s",
    "SELECT * FROM customer_totals",
    "SELECT * FROM pg_catalog.pg_class",
    "SELECT relname FROM pg_class",
    "SELECT * FROM pg_authid",
    "SELECT * FROM pg_shadow",
    "SELECT * FROM pg_stat_activity",
    "SELECT * FROM information_schema.tables",
    "SELECT * FROM information_schema.columns WHERE table_schema = 'private'",
    "SELECT pg_get_viewdef('public.secret_view')",
    "SELECT has_table_privilege('private.secrets', 'SELECT')",
    "SELECT to_regclass('private.secrets')",
    "EXPLAIN SELECT * FROM private.secrets",
    "EXPLAIN ANALYZE SELECT * FROM orders",
    "EXPLAIN ANALYZE DELETE FROM orders",
    "EXPLAIN DELETE FROM orders",
  ],
  "long-running queries": [
    "SELECT count(*) FROM generate_series(1, 10000000000)",
    "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r) SELECT count(*) FROM r",
    "SELECT count(*) FROM events a, events b, events c",
  ],
};

for (const [category, list] of Object.entries(attacks)) {
  describe(category, () => {
    it.each(list)("%s", async (sql) => {
      await expectRefusedAndUnchanged(sql);
    });
  });
}

describe("long-running queries end at the statement timeout", () => {
  it("reports a timeout with PostgreSQL's SQLSTATE", async () => {
    const outcome = await expectRefusedAndUnchanged("SELECT count(*) FROM generate_series(1, 10000000000)");
    expect(outcome.kind).toBe("db:timeout");
  });
});

describe("tricks that are harmless run, and change nothing", () => {
  it.each([
    ["SELECT 1 /* ; DROP TABLE orders; */", [[1]]],
    ["SELECT $$; DROP TABLE orders; $$", [["; DROP TABLE orders; "]]],
    ["SELECT $a$ $$ ; DELETE FROM orders; -- $a$", [[" $$ ; DELETE FROM orders; -- "]]],
    ["SELECT 'x'';DROP TABLE orders;--'", [["x';DROP TABLE orders;--"]]],
    ["SELECT E'\\';DROP TABLE orders;--'", [["';DROP TABLE orders;--"]]],
    ["SELECT 1 /* nested /* comment */ ; DROP TABLE orders; */", [[1]]],
    ["SELECT lower(name::varchar) FROM customers WHERE id = 1", [["ada lovelace"]]],
    ["SELECT lower('ABC'::character varying)", [["abc"]]],
    ['SELECT "lower"(name) FROM "customers" WHERE id = 1', [["ada lovelace"]]],
  ])("%s", async (sql, expected) => {
    const outcome = await attempt(sql);
    expect(outcome.refused, outcome.message).toBe(false);
    expect(outcome.rows).toEqual(expected);
    expect(await databaseState(shop.adminUrl)).toEqual(before);
  });
});

describe("huge results are cut, never loaded whole", () => {
  it("stops a 400-million-row result at the row cap, well inside the statement timeout", async () => {
    // Producing this whole result would take far longer than the 1.5 s timeout: only streaming answers.
    const outcome = await attempt("SELECT a.id, b.id, a.payload FROM events a CROSS JOIN events b");
    expect(outcome.refused, outcome.message).toBe(false);
    expect(outcome.rows).toHaveLength(1000);
    expect(outcome.truncated).toBe("rows");
    expect(await databaseState(shop.adminUrl)).toEqual(before);
  });

  it("stops wide rows at the byte cap", async () => {
    const outcome = await attempt("SELECT g, repeat('x', 1000) FROM generate_series(1, 1000000) g");
    expect(outcome.truncated).toBe("bytes");
    const bytes = Buffer.byteLength(JSON.stringify(outcome.rows));
    expect(bytes).toBeLessThanOrEqual(caps.maxBytes);
    expect(outcome.rows?.length).toBeGreaterThan(10);
  });

  it("cuts a single huge value", async () => {
    const outcome = await attempt("SELECT repeat('y', 5000000) AS big");
    const value = outcome.rows?.[0]?.[0] as string;
    expect(value.length).toBeLessThan(2100);
    expect(value).toMatch(/…\[4998000 more characters\]$/);
  });
});

describe("small results", () => {
  it("are recognised from the catalog's unique keys, so they take one round trip", async () => {
    expect((await server.guard("SELECT * FROM orders WHERE id = 3")).rowBound).toBe(1);
    expect((await server.guard("SELECT * FROM order_items WHERE order_id = 1 AND product_id = 4")).rowBound).toBe(1);
    expect((await server.guard("SELECT * FROM customers WHERE email = 'ada@example.com'")).rowBound).toBe(1);
    expect((await server.guard("SELECT * FROM orders WHERE customer_id = 1")).rowBound).toBeUndefined();
    // A set-returning function multiplies the one row, in the select list or in FROM.
    expect((await server.guard("SELECT unnest(ARRAY[1, 2]) FROM orders WHERE id = 3")).rowBound).toBeUndefined();
    expect((await server.guard("SELECT lower(status) FROM orders WHERE id = 3")).rowBound).toBe(1);
    const outcome = await attempt("SELECT id, status FROM orders WHERE id = 3");
    expect(outcome.rows).toEqual([[3, "shipped"]]);
    expect(await databaseState(shop.adminUrl)).toEqual(before);
  });
});

describe("the model's view of a real table is unaffected by a same-named function in public", () => {
  it("calls pg_catalog.lower, never public.lower", async () => {
    const outcome = await attempt("SELECT lower(email::varchar) FROM customers ORDER BY id LIMIT 2");
    expect(outcome.rows).toEqual([["ada@example.com"], ["grace@example.com"]]);
  });
});
