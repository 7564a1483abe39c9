import { startTestDatabase } from "../../../servers/postgres/test/support/database.ts";
import { seedShop } from "../../../servers/postgres/test/support/shop.ts";
import { startStdio } from "../../src/harness.ts";
import type { Transcript } from "../transcript.ts";

/**
 * A model exploring a small shop database (customers, products, orders, order items, events) on a
 * real PostgreSQL: it finds its way around, answers questions with SQL, gets an error it can fix,
 * and is refused when it tries to write.
 */
export async function run(t: Transcript): Promise<void> {
  t.heading("read-only SQL over an embedded PostgreSQL with a small shop database");
  const db = await startTestDatabase("portside_demo");
  try {
    const shop = await seedShop(db, { attackFixtures: false });
    t.note("Connected as a role that may only SELECT; allowed: public.* (the server's default).");
    const server = await startStdio("postgres", [], { env: { DATABASE_URL: shop.readerUrl } });
    try {
      const c = server.client;
      await t.call(c, "list_tables", {}, "What is in this database?");
      await t.call(c, "describe_table", { table: "orders" }, "Columns, keys and indexes of orders");
      await t.call(
        c,
        "query",
        {
          sql: `SELECT c.name, c.country, count(o.id) AS orders, sum(o.total) AS spent
                  FROM customers c JOIN orders o ON o.customer_id = c.id
                 WHERE o.status <> 'cancelled'
                 GROUP BY c.name, c.country ORDER BY spent DESC LIMIT 3`,
        },
        "Who are the best customers?",
      );
      await t.call(
        c,
        "query",
        {
          sql: "SELECT p.name, sum(i.quantity) AS sold FROM order_items i JOIN products p ON p.id = i.product_id JOIN orders o ON o.id = i.order_id WHERE o.ordered_at >= $1 GROUP BY p.name ORDER BY sold DESC",
          params: ["2024-04-01"],
        },
        "Best sellers since April, with the date as a parameter",
      );
      await t.call(
        c,
        "query",
        { sql: "SELECT id, stauts FROM orders WHERE customer_id = 1" },
        "A typo: PostgreSQL's message, hint and position come back so the model can fix it",
      );
      await t.call(
        c,
        "explain_query",
        { sql: "SELECT * FROM orders WHERE status = 'paid' ORDER BY ordered_at DESC" },
        "How would PostgreSQL run this?",
      );
      await t.call(
        c,
        "query",
        { sql: "SELECT kind, payload FROM events ORDER BY id", maxRows: 3 },
        "A big table: the answer is cut and says how to narrow it",
      );
      await t.call(
        c,
        "query",
        { sql: "UPDATE orders SET status = 'shipped' WHERE id = 4" },
        "Trying to write is refused",
      );
      await t.call(
        c,
        "query",
        { sql: "SELECT 1; UPDATE orders SET total = 0" },
        "So is hiding a write behind a first statement",
      );
    } finally {
      await server.close();
    }
  } finally {
    await db.stop();
  }
}
