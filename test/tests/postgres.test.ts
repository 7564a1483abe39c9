/**
 * The built PostgreSQL server driven by a real MCP client over stdio and Streamable HTTP, against a
 * real PostgreSQL (embedded, or DATABASE_URL) started here once for the whole file.
 */
import { spawn } from "node:child_process";
import { once } from "node:events";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestDatabase, type TestDatabase } from "../../servers/postgres/test/support/database.ts";
import { databaseState, type Shop, seedShop } from "../../servers/postgres/test/support/shop.ts";
import {
  type HttpServerProcess,
  type StdioServer,
  serverCli,
  startHttp,
  startStdio,
  structured,
  textOf,
} from "../src/harness.js";

let db: TestDatabase;
let shop: Shop;
let password: string;
let args: string[];
let env: Record<string, string>;

beforeAll(async () => {
  db = await startTestDatabase("portside_it");
  shop = await seedShop(db);
  password = decodeURIComponent(new URL(shop.readerUrl).password);
  args = ["--allow", shop.allow, "--deny", shop.deny, "--statement-timeout-ms", "3000"];
  env = { DATABASE_URL: shop.readerUrl };
}, 120_000);

afterAll(async () => {
  await db?.stop();
});

async function adminQuery<T extends pg.QueryResultRow>(sql: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: shop.adminUrl });
  await client.connect();
  try {
    return (await client.query<T>(sql)).rows;
  } finally {
    await client.end();
  }
}

describe("over stdio", () => {
  let server: StdioServer;
  beforeAll(async () => {
    server = await startStdio("postgres", args, { env });
  });
  afterAll(async () => {
    await server?.close();
  });

  it("answers a query with rows, columns and text", async () => {
    const result = await server.client.callTool({
      name: "query",
      arguments: {
        sql: "SELECT c.name, sum(o.total) AS spent FROM customers c JOIN orders o ON o.customer_id = c.id GROUP BY c.name ORDER BY spent DESC LIMIT 2",
      },
    });
    expect(result.isError).toBeFalsy();
    expect(structured(result)).toMatchObject({
      columns: [
        { name: "name", type: "text" },
        { name: "spent", type: "numeric" },
      ],
      rows: [
        ["Ada Lovelace", "257.50"],
        ["Grace Hopper", "129.00"],
      ],
      truncated: false,
    });
    expect(textOf(result)).toContain('["Ada Lovelace","257.50"]');
  });

  it("refuses a write and a hidden table, and the database is unchanged", async () => {
    const before = await databaseState(shop.adminUrl);
    for (const sql of [
      "COMMIT; DROP TABLE orders",
      "WITH d AS (DELETE FROM orders RETURNING *) SELECT * FROM d",
      "SELECT * FROM private.secrets",
      "SELECT * FROM public.leak()",
      "SELECT lo_import('/etc/passwd')",
    ]) {
      const result = await server.client.callTool({ name: "query", arguments: { sql } });
      expect(result.isError, sql).toBe(true);
      expect(textOf(result)).not.toMatch(/launch-codes|hunter2/);
    }
    expect(await databaseState(shop.adminUrl)).toEqual(before);
  });

  it("explores the schema", async () => {
    const tables = await server.client.callTool({ name: "list_tables", arguments: {} });
    expect(textOf(tables)).toContain("public.orders (table");
    expect(textOf(tables)).not.toMatch(/secret|salar/);
    const described = await server.client.callTool({ name: "describe_table", arguments: { table: "order_items" } });
    expect(structured(described)).toMatchObject({ primaryKey: ["order_id", "product_id"] });
    const { resources } = await server.client.listResources();
    expect(resources.map((r) => r.name)).toContain("public.products");
  });

  it("survives a database restart: the next call reconnects", async () => {
    const first = await server.client.callTool({ name: "query", arguments: { sql: "SELECT count(*) FROM orders" } });
    expect(structured(first)).toMatchObject({ rows: [[6]] });
    await db.restart();
    const second = await server.client.callTool({
      name: "query",
      arguments: { sql: "SELECT count(*) FROM customers" },
    });
    expect(second.isError, textOf(second)).toBeFalsy();
    expect(structured(second)).toMatchObject({ rows: [[5]] });
  });

  it("cancels the statement on the database when the client cancels the call", async () => {
    const controller = new AbortController();
    const call = server.client.callTool(
      { name: "query", arguments: { sql: "SELECT count(*) FROM events a, events b, events c" } },
      undefined,
      { signal: controller.signal },
    );
    await expect
      .poll(
        () =>
          adminQuery(
            "SELECT pid FROM pg_stat_activity WHERE application_name = 'portside-postgres' AND state = 'active'",
          ),
        {
          timeout: 5000,
        },
      )
      .toHaveLength(1);
    controller.abort();
    await expect(call).rejects.toThrow();
    await expect
      .poll(
        () =>
          adminQuery(
            "SELECT pid FROM pg_stat_activity WHERE application_name = 'portside-postgres' AND state = 'active'",
          ),
        {
          timeout: 2500,
        },
      )
      .toHaveLength(0);
  });

  it("keeps stdout to protocol and the password out of the log", () => {
    expect(server.transportErrors).toEqual([]);
    expect(server.stderr()).not.toContain(password);
  });
});

/** Runs the CLI until it exits (for startup refusals). */
async function runToExit(cliArgs: string[], extraEnv: Record<string, string>) {
  const child = spawn(process.execPath, [serverCli("postgres"), ...cliArgs], {
    env: { ...process.env, DATABASE_URL: "", ...extraEnv },
    stdio: ["pipe", "pipe", "pipe"],
  });
  let stderr = "";
  let stdout = "";
  child.stderr.on("data", (c: Buffer) => {
    stderr += c.toString();
  });
  child.stdout.on("data", (c: Buffer) => {
    stdout += c.toString();
  });
  const [code] = (await once(child, "exit")) as [number | null];
  return { code, stderr, stdout };
}

describe("startup", () => {
  it("refuses a role that can write, naming the tables, without the password", async () => {
    const writerPassword = decodeURIComponent(new URL(shop.writerUrl).password);
    const { code, stderr, stdout } = await runToExit([shop.writerUrl, "--allow", shop.allow], {});
    expect(code).toBe(2);
    expect(stderr).toMatch(/can write to allowed tables \(public\.orders\)/);
    expect(stderr).toMatch(/--allow-privileged-role/);
    expect(stderr).not.toContain(writerPassword);
    expect(stdout).toBe("");
  });

  it("refuses a superuser", async () => {
    const { code, stderr } = await runToExit([], { DATABASE_URL: shop.adminUrl });
    expect(code).toBe(2);
    expect(stderr).toMatch(/is a superuser/);
  });

  it("needs a connection URL", async () => {
    const { code, stderr } = await runToExit([], {});
    expect(code).toBe(2);
    expect(stderr).toMatch(/connection URL is required/);
  });
});

describe("over HTTP", () => {
  let server: HttpServerProcess;
  beforeAll(async () => {
    server = await startHttp("postgres", args, { env });
  });
  afterAll(async () => {
    await server?.stop();
  });

  it("serves queries, refusals and resources to a real client", async () => {
    const client = await server.connect();
    const result = await client.callTool({
      name: "query",
      arguments: { sql: "SELECT name FROM products WHERE price < $1 ORDER BY price", params: [50] },
    });
    expect(structured(result)).toMatchObject({ rows: [["Coffee beans"], ["SQL book"]] });
    const refused = await client.callTool({ name: "query", arguments: { sql: "SELECT * FROM staff_salaries" } });
    expect(refused.isError).toBe(true);
    expect(textOf(refused)).toMatch(/does not exist or is not available/);
    const { resources } = await client.listResources();
    for (const resource of resources) expect(resource.uri).not.toContain(password);
    const read = await client.readResource({ uri: resources[0]?.uri as string });
    expect(read.contents[0]?.mimeType).toBe("application/json");
  });

  it("gives each session its own answers while they run at once", async () => {
    const [a, b] = await Promise.all([server.connect(), server.connect()]);
    const [ra, rb] = await Promise.all([
      a?.callTool({ name: "query", arguments: { sql: "SELECT count(*) FROM events WHERE kind = 'buy'" } }),
      b?.callTool({ name: "query", arguments: { sql: "SELECT count(*) FROM events WHERE kind = 'view'" } }),
    ]);
    expect(structured(ra)).toMatchObject({ rows: [[6667]] });
    expect(structured(rb)).toMatchObject({ rows: [[6666]] });
    expect(server.stderr()).not.toContain(password);
  });
});
