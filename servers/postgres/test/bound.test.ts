/** Row bounds proven from the parse tree (used to answer small queries in one round trip). */
import { describe, expect, it } from "vitest";
import { resultRowBound } from "../src/sql/bound.ts";
import { parseSql } from "../src/sql/parser.ts";

const UNIQUE: Record<string, string[][]> = {
  "public.orders": [["id"]],
  "public.order_items": [["order_id", "product_id"]],
  "public.customers": [["id"], ["email"]],
};

async function bound(sql: string): Promise<number | undefined> {
  const parsed = await parseSql(sql);
  const stmt = parsed.stmts?.[0]?.stmt as { SelectStmt: Record<string, unknown> } | undefined;
  if (!stmt) throw new Error(`no statement in ${sql}`);
  const select = stmt.SelectStmt;
  return resultRowBound(
    select,
    (schema, name) => UNIQUE[`${schema}.${name}`] ?? [],
    (rangeVar) => ({ schema: String(rangeVar.schemaname ?? "public"), name: String(rangeVar.relname) }),
  );
}

describe("resultRowBound", () => {
  it.each([
    ["SELECT * FROM orders WHERE id = 42", 1],
    ["SELECT * FROM orders o WHERE o.id = $1", 1],
    ["SELECT * FROM public.orders WHERE 42 = id AND total > 3", 1],
    ["SELECT * FROM orders WHERE id = '42'::int", 1],
    ["SELECT * FROM order_items WHERE order_id = 1 AND product_id = 2", 1],
    ["SELECT * FROM customers WHERE email = 'a@b.c'", 1],
    ["SELECT * FROM orders LIMIT 10", 10],
    ["SELECT * FROM orders ORDER BY id LIMIT 5 OFFSET 100", 5],
    ["SELECT count(*) FROM orders", 1],
    ["SELECT count(*), max(total), 'x' FROM orders WHERE total > 1", 1],
    ["VALUES (1), (2), (3)", 3],
    ["SELECT id FROM orders UNION SELECT id FROM customers LIMIT 7", 7],
  ])("%s → %s", async (sql, expected) => {
    expect(await bound(sql)).toBe(expected);
  });

  it.each([
    "SELECT * FROM orders",
    "SELECT * FROM orders WHERE id > 42",
    "SELECT * FROM orders WHERE id = 42 OR id = 43",
    "SELECT * FROM order_items WHERE order_id = 1",
    "SELECT * FROM orders o JOIN customers c ON c.id = o.customer_id WHERE o.id = 1",
    "SELECT * FROM orders WHERE customer_id = 1",
    "SELECT * FROM orders WHERE id = customer_id",
    "SELECT generate_series(1, 10) FROM orders WHERE id = 1",
    "SELECT unnest(ARRAY[1,2]), count(*) FROM orders",
    "SELECT 1 FROM orders",
    "SELECT status, count(*) FROM orders GROUP BY status",
    "SELECT count(*) OVER () FROM orders",
    "SELECT * FROM orders ORDER BY total FETCH FIRST 3 ROWS WITH TIES",
    "SELECT * FROM orders LIMIT $1",
    "SELECT id FROM orders UNION SELECT id FROM customers",
    "SELECT * FROM generate_series(1, 10)",
  ])("%s → unknown", async (sql) => {
    expect(await bound(sql)).toBeUndefined();
  });
});
