/**
 * The parser guard on its own: no database, a fixed catalog. What it accepts, what it refuses (and
 * why, and where), and how it rewrites names so the database resolves them as the guard did.
 */
import { describe, expect, it } from "vitest";
import { TablePolicy } from "../src/sql/allowlist.ts";
import { GuardError } from "../src/sql/errors.ts";
import { DEFAULT_SAFE_FUNCTIONS, functionPolicy } from "../src/sql/functions.ts";
import { type GuardedQuery, type GuardPolicy, guardQuery, readIdentifier } from "../src/sql/guard.ts";
import { parseSql } from "../src/sql/parser.ts";

const RELATIONS = new Set([
  "public.orders",
  "public.customers",
  "public.order_items",
  "public.staff_salaries",
  "public.secret_view",
  "sales.orders",
  "sales.leads",
  "private.secrets",
  "pg_catalog.pg_class",
  "pg_catalog.pg_authid",
  "pg_catalog.pg_stat_activity",
]);

function policy(overrides: Partial<GuardPolicy> & { allow?: string[]; deny?: string[] } = {}): GuardPolicy {
  const { allow, deny, ...rest } = overrides;
  return {
    tables: new TablePolicy(
      allow ?? ["public.orders", "public.customers", "public.order_items", "sales.*"],
      deny ?? [],
      "public",
    ),
    functions: functionPolicy(),
    searchPath: ["public"],
    relationExists: (schema, name) => RELATIONS.has(`${schema}.${name}`),
    allowExplainAnalyze: false,
    ...rest,
  };
}

async function refusal(sql: string, p: GuardPolicy = policy()): Promise<GuardError> {
  try {
    const guarded = await guardQuery(sql, p);
    throw new Error(`expected a refusal, got ${guarded.text}`);
  } catch (error) {
    if (error instanceof GuardError) return error;
    throw error;
  }
}

/** A parse tree without positions and without schema qualifiers on table and function names. */
function shape(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(shape);
  if (value === null || typeof value !== "object") return value;
  const out: Record<string, unknown> = {};
  for (const [key, inner] of Object.entries(value)) {
    if (/location|^stmt_len$|list_start|list_end|^schemaname$/.test(key)) continue;
    if (key === "funcname" && Array.isArray(inner) && inner.length === 2) {
      out[key] = shape(inner.slice(1));
      continue;
    }
    out[key] = shape(inner);
  }
  return out;
}

/**
 * The rewrite must only qualify names: the rewritten text parses to the same tree (apart from the
 * qualifiers and positions), and guarding it again finds nothing left to qualify.
 */
async function expectFaithfulRewrite(sql: string, guarded: GuardedQuery, p: GuardPolicy): Promise<void> {
  expect(shape(await parseSql(guarded.text))).toEqual(shape(await parseSql(sql)));
  const again = await guardQuery(guarded.text, p);
  expect(again.text).toBe(guarded.text);
  const key = (g: GuardedQuery) => g.relations.map((r) => `${r.schema}.${r.name}`).sort();
  expect(key(again)).toEqual(key(guarded));
}

describe("accepts plain reads", () => {
  it.each([
    "SELECT 1",
    "SELECT 1;",
    "select * from orders",
    "TABLE orders",
    "SELECT o.id, c.name FROM orders o JOIN customers c ON c.id = o.customer_id WHERE o.total > 10",
    "SELECT * FROM orders o LEFT JOIN LATERAL (SELECT * FROM order_items i WHERE i.order_id = o.id LIMIT 1) x ON true",
    "SELECT id FROM orders UNION SELECT id FROM customers INTERSECT SELECT order_id FROM order_items EXCEPT SELECT 1",
    "WITH big AS MATERIALIZED (SELECT * FROM orders WHERE total > 100) SELECT count(*) FROM big",
    "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < 5) SELECT * FROM r",
    "SELECT status, count(*), sum(total), avg(total)::numeric(10,2) FROM orders GROUP BY ROLLUP (status) HAVING count(*) > 0",
    "SELECT id, rank() OVER (PARTITION BY status ORDER BY total DESC) FROM orders",
    "SELECT id, sum(total) OVER w FROM orders WINDOW w AS (ORDER BY id ROWS BETWEEN 1 PRECEDING AND CURRENT ROW)",
    "SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY total) FROM orders",
    "SELECT count(*) FILTER (WHERE total > 10) FROM orders",
    "SELECT DISTINCT ON (status) status, id FROM orders ORDER BY status, id DESC NULLS LAST",
    "SELECT * FROM orders WHERE status IN ('paid', 'shipped') AND total BETWEEN 1 AND 2 AND id = ANY(ARRAY[1,2])",
    "SELECT * FROM orders WHERE EXISTS (SELECT 1 FROM customers c WHERE c.id = orders.customer_id)",
    "SELECT CASE WHEN total > 100 THEN 'big' ELSE 'small' END, coalesce(status, '?'), nullif(id, 0), greatest(1, 2)",
    "SELECT extract(year FROM now()), date_trunc('month', now()), now() - interval '1 day', CURRENT_DATE, current_user",
    "SELECT substring('abc' FROM 2), trim(both ' ' FROM ' x '), position('b' IN 'abc'), 'x' SIMILAR TO 'x'",
    "SELECT name FROM customers WHERE name LIKE 'a!%%' ESCAPE '!' OR name ILIKE '%x%'",
    "SELECT now() AT TIME ZONE 'UTC', 'x' IS DISTINCT FROM 'y', 1 BETWEEN SYMMETRIC 2 AND 0",
    "SELECT string_agg(name, ', ' ORDER BY name) FILTER (WHERE id > 1) FROM customers",
    "SELECT * FROM (VALUES (1, 'a'), (2, 'b')) AS v(n, s) NATURAL JOIN (SELECT 1 AS n) x",
    "(SELECT id FROM orders) UNION (SELECT id FROM customers) ORDER BY 1 LIMIT 3",
    "SELECT o.*, (o).id, o FROM orders o WHERE o.total >= ALL (SELECT total FROM orders)",
    "SELECT jsonb_build_object('a', 1) -> 'a', '{\"a\":[1,2]}'::jsonb #> '{a,0}', to_jsonb(o) FROM orders o",
    "SELECT * FROM generate_series(1, 10) g(n)",
    "SELECT * FROM unnest(ARRAY[1,2]) WITH ORDINALITY AS u(v, i)",
    "SELECT * FROM ROWS FROM (generate_series(1, 2), unnest(ARRAY['a','b'])) AS t(a, b)",
    "SELECT x.* FROM jsonb_to_recordset('[{\"a\":1}]') AS x(a int, b text)",
    "SELECT json_object('a' : 1 RETURNING jsonb), json_array(1, 2), JSON_VALUE('{\"a\":1}', '$.a' RETURNING int)",
    "SELECT '[1,2]'::jsonb IS JSON ARRAY",
    "SELECT * FROM orders TABLESAMPLE BERNOULLI (10) REPEATABLE (1)",
    "SELECT * FROM orders ORDER BY id LIMIT 10 OFFSET 5",
    "SELECT * FROM orders ORDER BY total FETCH FIRST 3 ROWS WITH TIES",
    "VALUES (1, 'a'), (2, 'b')",
    "SELECT $1::int + $2::int",
    'SELECT name COLLATE "C" FROM customers ORDER BY 1',
    "SELECT ROW(1, 2), (ROW(1, 2)).f1",
    "SELECT pg_catalog.lower('X'), \"lower\"('Y'), LOWER('Z')",
    "SELECT * FROM sales.orders JOIN sales.leads USING (id)",
    "SELECT 1 /* ; DROP TABLE orders; */",
    "SELECT $$; DROP TABLE orders; $$",
    "SELECT $tag$ $$ ; DELETE FROM orders; -- $tag$",
    "SELECT 'it''s; DROP TABLE orders; --'",
    "SELECT E'\\';DROP TABLE orders;--'",
    "SELECT 1 /* nested /* comment */ ; DROP TABLE orders; */",
    "EXPLAIN SELECT * FROM orders",
    "EXPLAIN (FORMAT JSON, COSTS false, VERBOSE) SELECT * FROM orders",
  ])("%s", async (sql) => {
    const p = policy();
    const guarded = await guardQuery(sql, p);
    await expectFaithfulRewrite(sql, guarded, p);
  });
});

describe("refuses every statement but SELECT", () => {
  it.each([
    ["SELECT 1; DROP TABLE orders", "multiple_statements"],
    ["SELECT 1;DELETE FROM orders", "multiple_statements"],
    ["COMMIT; DROP TABLE orders", "multiple_statements"],
    ["SELECT 1 -- \n; DROP TABLE orders", "multiple_statements"],
    ["/* ; */ SELECT 1; UPDATE orders SET total = 0", "multiple_statements"],
    ["BEGIN", "statement_type"],
    ["COMMIT", "statement_type"],
    ["ROLLBACK", "statement_type"],
    ["START TRANSACTION READ WRITE", "statement_type"],
    ["SET TRANSACTION READ WRITE", "statement_type"],
    ["SAVEPOINT a", "statement_type"],
    ["PREPARE TRANSACTION 'x'", "statement_type"],
    ["INSERT INTO orders (id) VALUES (1)", "statement_type"],
    ["UPDATE orders SET total = 0", "statement_type"],
    ["DELETE FROM orders", "statement_type"],
    ["MERGE INTO orders o USING customers c ON o.id = c.id WHEN MATCHED THEN DELETE", "statement_type"],
    ["TRUNCATE orders", "statement_type"],
    ["DROP TABLE orders", "statement_type"],
    ["CREATE TABLE t AS SELECT 1", "statement_type"],
    ["ALTER SYSTEM SET work_mem = '1GB'", "statement_type"],
    ["COPY orders TO STDOUT", "statement_type"],
    ["COPY orders FROM PROGRAM 'id'", "statement_type"],
    ["DO $$BEGIN DELETE FROM orders; END$$", "statement_type"],
    ["CALL some_procedure()", "statement_type"],
    ["PREPARE p AS SELECT 1", "statement_type"],
    ["EXECUTE p", "statement_type"],
    ["LISTEN ch", "statement_type"],
    ["NOTIFY ch, 'x'", "statement_type"],
    ["SET statement_timeout = 0", "statement_type"],
    ["SHOW data_directory", "statement_type"],
    ["LOCK TABLE orders", "statement_type"],
    ["DECLARE c CURSOR FOR SELECT 1", "statement_type"],
    ["VACUUM orders", "statement_type"],
    ["EXPLAIN DELETE FROM orders", "statement_type"],
    ["EXPLAIN ANALYZE SELECT * FROM orders", "explain_option"],
    ["EXPLAIN (ANALYZE true) SELECT * FROM orders", "explain_option"],
    ["EXPLAIN (ANALYZE, FORMAT JSON) SELECT 1", "explain_option"],
    ["", "empty"],
    ["  \n ", "empty"],
    [";", "empty"],
    ["-- just a comment", "empty"],
  ])("%s", async (sql, rule) => {
    const error = await refusal(sql);
    expect(error.rule).toBe(rule);
  });

  it("allows EXPLAIN ANALYZE only when enabled", async () => {
    await expect(
      guardQuery("EXPLAIN ANALYZE SELECT * FROM orders", policy({ allowExplainAnalyze: true })),
    ).resolves.toBeDefined();
    await expect(guardQuery("EXPLAIN (ANALYZE false) SELECT 1", policy())).resolves.toBeDefined();
  });

  it("names the second statement's position", async () => {
    const error = await refusal("SELECT 1; DROP TABLE orders");
    expect(error.position).toBe(11);
    expect(error.code).toBe("permission_denied");
  });
});

describe("refuses constructs that write, lock or escape", () => {
  it.each([
    ["WITH d AS (DELETE FROM orders RETURNING *) SELECT * FROM d", "construct"],
    ["WITH u AS (UPDATE orders SET total = 0 RETURNING id) SELECT count(*) FROM u", "construct"],
    ["WITH i AS (INSERT INTO customers (name) VALUES ('x') RETURNING id) SELECT * FROM i", "construct"],
    ["SELECT * FROM (WITH d AS (DELETE FROM orders RETURNING 1) SELECT * FROM d) s", "construct"],
    ["SELECT * INTO stolen FROM customers", "construct"],
    ["SELECT 1 INTO TEMP t", "construct"],
    ["SELECT * FROM orders FOR UPDATE", "construct"],
    ["SELECT * FROM orders FOR SHARE", "construct"],
    ["SELECT * FROM orders FOR NO KEY UPDATE SKIP LOCKED", "construct"],
    ["SELECT * FROM orders FOR KEY SHARE NOWAIT", "construct"],
    ["SELECT * FROM (SELECT * FROM orders FOR UPDATE) s", "construct"],
    ["WITH x AS (SELECT * FROM orders FOR UPDATE) SELECT 1", "construct"],
    ["SELECT xmlelement(name a)", "construct"],
    ["SELECT * FROM XMLTABLE('/a' PASSING '<a/>' COLUMNS x int)", "construct"],
    ["SELECT * FROM JSON_TABLE('[1]', '$[*]' COLUMNS (x int PATH '$'))", "construct"],
    ["SELECT * FROM orders TABLESAMPLE system_rows(10)", "function"],
  ])("%s", async (sql, rule) => {
    expect((await refusal(sql)).rule).toBe(rule);
  });
});

describe("refuses functions off the safe list, wherever they are called", () => {
  it.each([
    "SELECT pg_sleep(1)",
    "SELECT pg_catalog.pg_sleep(1)",
    'SELECT "pg_sleep"(1)',
    "SELECT PG_SLEEP(1)",
    'SELECT U&"\\0070g_sleep"(1)',
    "SELECT pg_sleep_for('1s')",
    "SELECT pg_read_file('/etc/passwd')",
    "SELECT pg_read_binary_file('PG_VERSION')",
    "SELECT * FROM pg_ls_dir('.')",
    "SELECT pg_stat_file('PG_VERSION')",
    "SELECT lo_import('/etc/passwd')",
    "SELECT lo_create(0)",
    "SELECT lo_from_bytea(0, 'x')",
    "SELECT loread(lo_open(1, 262144), 10)",
    "SELECT set_config('statement_timeout', '0', false)",
    "SELECT current_setting('data_directory')",
    "SELECT pg_reload_conf()",
    "SELECT pg_cancel_backend(1)",
    "SELECT pg_terminate_backend(pid) FROM orders",
    "SELECT nextval('invoice_seq')",
    "SELECT setval('orders_id_seq', 1)",
    "SELECT currval('orders_id_seq')",
    "SELECT pg_advisory_lock(1)",
    "SELECT pg_try_advisory_xact_lock(1)",
    "SELECT * FROM dblink('host=127.0.0.1', 'DELETE FROM orders') AS t(x text)",
    "SELECT dblink_exec('host=127.0.0.1', 'DROP TABLE orders')",
    "SELECT query_to_xml('SELECT * FROM private.secrets', true, true, '')",
    "SELECT * FROM ts_stat('SELECT secret::tsvector FROM private.secrets')",
    "SELECT txid_current()",
    "SELECT pg_notify('ch', 'x')",
    "SELECT pg_get_viewdef('public.secret_view')",
    "SELECT has_table_privilege('private.secrets', 'SELECT')",
    "SELECT to_regclass('private.secrets')",
    "SELECT pg_relation_size('orders')",
    "SELECT public.leak()",
    "SELECT * FROM public.leak()",
    "SELECT * FROM leak()",
    "SELECT public.lower('x')",
    "SELECT * FROM ROWS FROM (generate_series(1, 2), pg_sleep(1))",
    "SELECT * FROM orders, LATERAL pg_read_file('/etc/passwd') f",
    "SELECT 1 FROM orders ORDER BY pg_sleep(1)",
    "SELECT count(*) FROM orders GROUP BY pg_backend_pid()",
    "SELECT count(*) FROM orders HAVING pg_sleep(1) IS NULL",
    "SELECT 1 WHERE EXISTS (SELECT pg_sleep(1))",
    "SELECT coalesce(NULL, pg_sleep(1)::text)",
    "SELECT ARRAY[pg_sleep(1)]",
    "SELECT sum(id) FILTER (WHERE pg_sleep(0) IS NULL) FROM orders",
    "SELECT (SELECT pg_read_file('x'))",
    "SELECT CASE WHEN true THEN pg_sleep(1) END",
    "SELECT json_object('a' : pg_sleep(1))",
    "SELECT id, sum(total) OVER (ORDER BY pg_sleep(0)) FROM orders",
    "WITH x AS (SELECT pg_sleep(1)) SELECT * FROM x",
    "SELECT * FROM orders WHERE id = (SELECT max(pg_backend_pid()))",
    "SELECT f(a => 1)",
    "SELECT lower(x => 'a', y => pg_sleep(1))",
    "SELECT system_user",
  ])("%s", async (sql) => {
    const error = await refusal(sql);
    expect(error.rule).toBe("function");
    expect(error.code).toBe("permission_denied");
  });

  it("allows extra functions the operator named, qualified to their schema", async () => {
    const p = policy({ functions: functionPolicy(["public.similarity"]) });
    const guarded = await guardQuery("SELECT similarity(name, 'x') FROM customers", p);
    expect(guarded.text).toBe('SELECT  "public".similarity(name, \'x\') FROM  "public".customers');
    expect((await refusal("SELECT other.similarity('a', 'b')", p)).rule).toBe("function");
  });

  it("keeps pure built-ins and leaves out everything that touches files, settings or the catalog", () => {
    for (const name of ["pg_sleep", "pg_read_file", "set_config", "current_setting", "nextval", "lo_import"]) {
      expect(DEFAULT_SAFE_FUNCTIONS.has(name)).toBe(false);
    }
    for (const name of ["lower", "count", "jsonb_build_object", "date_trunc", "generate_series"]) {
      expect(DEFAULT_SAFE_FUNCTIONS.has(name)).toBe(true);
    }
  });
});

describe("refuses casts that look objects up or describe hidden tables", () => {
  it.each([
    "SELECT 'private.secrets'::regclass",
    "SELECT '1'::regproc",
    "SELECT 'pg_sleep'::regprocedure",
    "SELECT NULL::private.secrets",
    "SELECT ROW(1, 'x')::secret_view",
    "SELECT CAST('<a/>' AS xml)",
    "SELECT '1'::public.my_type",
    "SELECT JSON_VALUE('{\"a\":1}', '$.a' RETURNING regclass)",
  ])("%s", async (sql) => {
    expect((await refusal(sql)).rule).toBe("type");
  });
});

describe("sees only allowed relations, wherever they appear", () => {
  it.each([
    "SELECT * FROM private.secrets",
    'SELECT * FROM "private"."secrets"',
    "SELECT * FROM PRIVATE.SECRETS",
    "SELECT * FROM ONLY private.secrets",
    "TABLE private.secrets",
    "SELECT * FROM private.secrets*",
    'SELECT * FROM private.U&"\\0073ecrets"',
    "SELECT/**/*/**/FROM/**/private.secrets",
    "SELECT * FROM secret_view",
    "SELECT * FROM public.secret_view",
    "SELECT * FROM staff_salaries",
    'SELECT * FROM "public.orders"',
    'SELECT * FROM "Orders"',
    "SELECT * FROM orders WHERE id IN (SELECT id FROM private.secrets)",
    "SELECT (SELECT secret FROM private.secrets LIMIT 1)",
    "SELECT * FROM orders o JOIN LATERAL (SELECT * FROM private.secrets) s ON true",
    "WITH s AS (SELECT * FROM private.secrets) SELECT * FROM s",
    "WITH RECURSIVE r AS (SELECT 1 UNION ALL SELECT 1 FROM staff_salaries) SELECT * FROM r",
    "SELECT id FROM orders UNION ALL SELECT id FROM private.secrets",
    "SELECT * FROM orders o, LATERAL (SELECT * FROM (SELECT * FROM private.secrets) a) b",
    "SELECT * FROM (WITH secrets AS (SELECT 1) SELECT 1) x, secrets",
    "SELECT * FROM pg_catalog.pg_class",
    "SELECT relname FROM pg_class",
    "SELECT * FROM pg_authid",
    "SELECT * FROM information_schema.tables",
    "SELECT * FROM pg_stat_activity",
    "SELECT * FROM orders TABLESAMPLE SYSTEM (10), private.secrets",
    "EXPLAIN SELECT * FROM private.secrets",
    "SELECT * FROM orders WHERE EXISTS (SELECT 1 FROM sales.orders s JOIN private.secrets p ON true)",
    "SELECT jsonb_agg(s) FROM private.secrets s",
  ])("%s", async (sql) => {
    const error = await refusal(sql);
    expect(error.rule).toBe("relation");
    expect(error.code).toBe("not_found");
    expect(error.message).toMatch(/does not exist or is not available/);
  });

  it("refuses database-qualified names", async () => {
    expect((await refusal("SELECT * FROM mydb.private.secrets")).rule).toBe("relation");
  });

  it("honours the denylist over the allowlist", async () => {
    const p = policy({ allow: ["public.*"], deny: ["public.staff_*", "public.secret_view"] });
    await expect(guardQuery("SELECT * FROM orders", p)).resolves.toBeDefined();
    expect((await refusal("SELECT * FROM staff_salaries", p)).rule).toBe("relation");
    expect((await refusal("SELECT * FROM secret_view", p)).rule).toBe("relation");
  });

  it("opens system catalogs only when named explicitly", async () => {
    const wildcard = policy({ allow: ["*.*"] });
    expect((await refusal("SELECT * FROM pg_class", wildcard)).rule).toBe("relation");
    expect((await refusal("SELECT * FROM information_schema.tables", wildcard)).rule).toBe("relation");
    const explicit = policy({ allow: ["pg_catalog.pg_stat_activity"] });
    const guarded = await guardQuery("SELECT pid FROM pg_stat_activity", explicit);
    expect(guarded.text).toBe('SELECT pid FROM  "pg_catalog".pg_stat_activity');
  });
});

describe("WITH queries", () => {
  it("may not take the name of a real table", async () => {
    for (const sql of [
      "WITH customers AS (SELECT * FROM private.secrets) SELECT * FROM customers",
      "WITH orders AS (SELECT 1) SELECT * FROM orders",
      "WITH secret_view AS (SELECT 1) SELECT * FROM secret_view",
      "WITH pg_class AS (SELECT 1) SELECT * FROM pg_class",
    ]) {
      const error = await refusal(sql);
      expect(error.rule, sql).toMatch(/cte_shadows_table|relation/);
    }
    expect((await refusal("WITH orders AS (SELECT 1) SELECT * FROM orders")).rule).toBe("cte_shadows_table");
  });

  it("are scoped as PostgreSQL scopes them", async () => {
    // A later WITH query sees an earlier one; an inner WITH is not visible outside its query.
    await expect(
      guardQuery("WITH a AS (SELECT 1 AS x), b AS (SELECT * FROM a) SELECT * FROM b", policy()),
    ).resolves.toBeDefined();
    expect((await refusal("WITH b AS (SELECT * FROM a), a AS (SELECT 1) SELECT * FROM b")).rule).toBe("relation");
    expect((await refusal("SELECT * FROM (WITH q AS (SELECT 1) SELECT * FROM q) s, q")).rule).toBe("relation");
    await expect(
      guardQuery(
        "WITH RECURSIVE a AS (SELECT 1 AS n UNION ALL SELECT n FROM b), b AS (SELECT * FROM a) SELECT 1",
        policy(),
      ),
    ).resolves.toBeDefined();
    await expect(
      guardQuery("WITH q AS (SELECT 1 AS n) SELECT * FROM orders WHERE id IN (SELECT n FROM q)", policy()),
    ).resolves.toBeDefined();
  });

  it("never stand in for a schema-qualified name", async () => {
    expect((await refusal("WITH secrets AS (SELECT 1) SELECT * FROM private.secrets")).rule).toBe("relation");
  });
});

describe("rewrites names so the database resolves them as the guard did", () => {
  it("qualifies unqualified tables and functions, and nothing else", async () => {
    const guarded = await guardQuery(
      'select lower(c.name), count(*) from customers c join "orders" o on o.customer_id = c.id group by 1',
      policy(),
    );
    expect(guarded.text).toBe(
      'select  "pg_catalog".lower(c.name),  "pg_catalog".count(*) from  "public".customers c join  "public"."orders" o on o.customer_id = c.id group by 1',
    );
    expect(guarded.relations).toEqual(
      expect.arrayContaining([
        { schema: "public", name: "customers" },
        { schema: "public", name: "orders" },
      ]),
    );
  });

  it("resolves on the search path in order, pg_catalog first", async () => {
    const p = policy({ searchPath: ["sales", "public"] });
    expect((await guardQuery("SELECT * FROM orders", p)).text).toBe('SELECT * FROM  "sales".orders');
    expect((await guardQuery("SELECT * FROM customers", p)).text).toBe('SELECT * FROM  "public".customers');
    expect((await guardQuery("SELECT * FROM not_yet_created", policy({ allow: ["public.*"] }))).text).toBe(
      'SELECT * FROM  "public".not_yet_created',
    );
  });

  it("leaves WITH references and already qualified names alone", async () => {
    const guarded = await guardQuery("WITH x AS (SELECT 1) SELECT * FROM x, public.orders", policy());
    expect(guarded.text).toBe("WITH x AS (SELECT 1) SELECT * FROM x, public.orders");
  });

  it("maps database error positions back to the caller's text", async () => {
    const sql = "SELECT nme, lower(name) FROM customers";
    const guarded = await guardQuery(sql, policy());
    const inRewritten = guarded.text.indexOf("customers") + 1;
    expect(guarded.originalPosition(inRewritten)).toBe(sql.indexOf("customers") + 1);
    expect(guarded.originalPosition(guarded.text.indexOf("nme") + 1)).toBe(8);
    // A position inside an inserted schema name points at the name it qualifies.
    expect(guarded.originalPosition(guarded.text.indexOf('"public"') + 2)).toBe(sql.indexOf("customers") + 1);
    expect(guarded.originalPosition(guarded.text.indexOf(' "public"') + 1)).toBe(sql.indexOf("customers") + 1);
  });

  it("handles multi-byte text before names", async () => {
    const sql = "SELECT 'ünïcödé ✓', name FROM customers WHERE name <> '日本'";
    const guarded = await guardQuery(sql, policy());
    await expectFaithfulRewrite(sql, guarded, policy());
    expect(guarded.text).toBe(`SELECT 'ünïcödé ✓', name FROM  "public".customers WHERE name <> '日本'`);
  });

  it("adds EXPLAIN for explain requests and maps positions past it", async () => {
    const guarded = await guardQuery("SELECT * FROM orders", policy(), { format: "json" });
    expect(guarded.kind).toBe("explain");
    expect(guarded.text).toBe('EXPLAIN (FORMAT JSON) SELECT * FROM  "public".orders');
    expect(guarded.originalPosition(guarded.text.indexOf("*") + 1)).toBe(8);
    await expect(guardQuery("EXPLAIN SELECT 1", policy(), {})).rejects.toMatchObject({ rule: "statement_type" });
    await expect(guardQuery("SELECT 1", policy(), { analyze: true })).rejects.toMatchObject({ rule: "explain_option" });
  });

  it("never lets an inserted name fuse with the text before it", async () => {
    // Without the leading space, U& followed by a quote would read as a Unicode identifier.
    const guarded = await guardQuery("SELECT u&lower('X') FROM customers", policy());
    await expectFaithfulRewrite("SELECT u&lower('X') FROM customers", guarded, policy());
    expect(guarded.text).toBe(`SELECT u& "pg_catalog".lower('X') FROM  "public".customers`);
  });

  it("counts parameters", async () => {
    expect((await guardQuery("SELECT $1, $3", policy())).parameterCount).toBe(3);
  });

  it("fails closed when a name cannot be located in the text", async () => {
    expect((await refusal('SELECT * FROM U&"\\006Frders"')).rule).toBe("unverifiable");
  });
});

describe("syntax errors", () => {
  it("carry the parser's 1-based position", async () => {
    const error = await refusal("SELECT * FORM orders");
    expect(error.rule).toBe("syntax");
    expect(error.sqlstate).toBe("42601");
    expect(error.position).toBe(10);
    expect(error.message).toMatch(/syntax error at or near "FORM"/);
  });

  it("count characters, not bytes", async () => {
    expect((await refusal("SELECT 'éééé' FROM WHERE")).position).toBe(20);
  });

  it.each(["SELECT 'unterminated", "SELECT $$unterminated", "SELECT 1 /* unterminated"])("%s", async (sql) => {
    expect((await refusal(sql)).rule).toBe("syntax");
  });

  // The parser stops reading at a NUL: whatever follows would never be checked.
  it.each([
    "SELECT 1\u0000; DROP TABLE orders",
    "SELECT 1 -- \u0000\n, pg_sleep(1)",
    "SELECT * FROM orders\u0000 JOIN private.secrets ON true",
  ])("refuses a NUL character: %j", async (sql) => {
    const error = await refusal(sql);
    expect(error.rule).toBe("syntax");
    expect(error.position).toBe(sql.indexOf("\u0000") + 1);
  });
});

describe("readIdentifier", () => {
  it("reads identifiers as PostgreSQL does", () => {
    expect(readIdentifier("Orders x", 0)).toBe("orders");
    expect(readIdentifier('"Orders" x', 0)).toBe("Orders");
    expect(readIdentifier('"a""b"', 0)).toBe('a"b');
    expect(readIdentifier("ÄBC", 0)).toBe("Äbc");
    expect(readIdentifier("x".repeat(70), 0)).toBe("x".repeat(63));
    expect(readIdentifier("(x", 0)).toBeUndefined();
    expect(readIdentifier('"open', 0)).toBeUndefined();
  });
});
