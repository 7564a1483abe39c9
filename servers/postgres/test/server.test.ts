/** The tools and resources through a real MCP client (in memory), on the shop database. */
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { createLogger, parseCommandLine, type ServerApp } from "@portside/shared";
import { connectInMemory, type InMemoryConnection } from "@portside/shared/testing";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { options } from "../src/config.ts";
import { postgresServer, resourceBase } from "../src/server.ts";
import { parseTableName } from "../src/tools/schema.ts";

const shop = inject("shop");
const password = decodeURIComponent(new URL(shop.readerUrl).password);
const logLines: string[] = [];

async function startApp(argv: string[], env: Record<string, string> = {}): Promise<ServerApp> {
  const parsed = parseCommandLine(options, argv, env);
  if (parsed.kind !== "run") throw new Error("expected settings");
  const log = createLogger({ level: "debug", write: (line) => logLines.push(line) });
  return postgresServer.start(parsed.config, { log, transport: "stdio" });
}

let app: ServerApp;
let connection: InMemoryConnection;
let client: Client;

beforeAll(async () => {
  app = await startApp(["--allow", shop.allow, "--deny", shop.deny, "--statement-timeout-ms", "2000"], {
    DATABASE_URL: shop.readerUrl,
  });
  connection = await connectInMemory(app);
  client = connection.client;
});

afterAll(async () => {
  await connection?.close();
  await app?.close?.();
});

const call = (name: string, args: Record<string, unknown>) =>
  client.callTool({ name, arguments: args }) as Promise<CallToolResult>;
const text = (result: CallToolResult) =>
  result.content.map((block) => (block.type === "text" ? block.text : "")).join("\n");

describe("tools", () => {
  it("lists the five tools, all read-only", async () => {
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name).sort()).toEqual([
      "describe_table",
      "explain_query",
      "list_schemas",
      "list_tables",
      "query",
    ]);
    for (const tool of tools) {
      expect(tool.annotations?.readOnlyHint).toBe(true);
      expect(tool.annotations?.destructiveHint).toBe(false);
    }
    const query = tools.find((t) => t.name === "query");
    expect(query?.inputSchema.required).toEqual(["sql"]);
  });

  it("query returns rows with columns, as structured content and text", async () => {
    const result = await call("query", {
      sql: "SELECT name, country FROM customers WHERE country = $1 ORDER BY name",
      params: ["US"],
    });
    expect(result.isError).toBeFalsy();
    expect(result.structuredContent).toEqual({
      columns: [
        { name: "name", type: "text" },
        { name: "country", type: "text" },
      ],
      rows: [
        ["Barbara Liskov", "US"],
        ["Grace Hopper", "US"],
      ],
      rowCount: 2,
      truncated: false,
    });
    expect(text(result)).toBe(
      'columns: name (text), country (text)\n["Barbara Liskov","US"]\n["Grace Hopper","US"]\n(2 rows)',
    );
    expect(result._meta?.["io.portside/untrusted-content"]).toBe(true);
  });

  it("query says when a result was cut and how to narrow it", async () => {
    const result = await call("query", { sql: "SELECT id, kind FROM events ORDER BY id", maxRows: 5 });
    const data = result.structuredContent as { rowCount: number; truncated: boolean; note: string };
    expect(data.rowCount).toBe(5);
    expect(data.truncated).toBe(true);
    expect(data.note).toMatch(/More rows exist: only the first 5 were returned/);
    expect(text(result)).toMatch(/\(5 rows, truncated\)/);
  });

  it("query cuts rows to fit a small response budget, between rows", async () => {
    const small = await connectInMemory(app, { maxResponseChars: 5000 });
    try {
      const result = (await small.client.callTool({
        name: "query",
        arguments: { sql: "SELECT id, payload FROM events ORDER BY id" },
      })) as CallToolResult;
      const data = result.structuredContent as { truncatedBy: string; note: string; rowCount: number };
      expect(data.truncatedBy).toBe("bytes");
      expect(text(result)).not.toContain("[Truncated:");
      expect(text(result).length).toBeLessThanOrEqual(5000);
      expect(text(result)).toContain(`(${data.rowCount} rows, truncated)`);
    } finally {
      await small.close();
    }
  });

  it("query refuses writes with a reason and a fix", async () => {
    const result = await call("query", { sql: "DELETE FROM orders" });
    expect(result.isError).toBe(true);
    expect(text(result)).toMatch(/^Error \[permission_denied\]: This server is read-only: DELETE statements/);
    expect(text(result)).toMatch(/How to fix:/);
  });

  it("query hides tables that are not allowed", async () => {
    const result = await call("query", { sql: "SELECT * FROM\n  private.secrets" });
    expect(result.isError).toBe(true);
    expect(text(result)).toContain('Relation "private.secrets" does not exist or is not available on this server.');
    expect(text(result)).toContain(`LINE 2:   private.secrets\n${" ".repeat(10)}^`);
    expect(result._meta?.["io.portside/error"]).toMatchObject({ code: "not_found", line: 2, column: 3 });
  });

  it("query passes PostgreSQL's message, SQLSTATE, hint and position through", async () => {
    const result = await call("query", { sql: "SELECT nmae FROM customers" });
    expect(result.isError).toBe(true);
    const message = text(result);
    expect(message).toMatch(/column "nmae" does not exist \(SQLSTATE 42703\)/);
    expect(message).toMatch(/How to fix: Perhaps you meant to reference the column "customers.name"/);
    expect(result._meta?.["io.portside/error"]).toMatchObject({ sqlstate: "42703", position: 8 });
  });

  it("query reports a syntax error at the parser's position", async () => {
    const result = await call("query", { sql: "SELECT * FORM orders" });
    expect(text(result)).toMatch(/syntax error at or near "FORM"/);
    expect(result._meta?.["io.portside/error"]).toMatchObject({ code: "invalid_argument", position: 10 });
  });

  it("query checks the number of parameters", async () => {
    const result = await call("query", { sql: "SELECT $1::int + $2::int", params: [1] });
    expect(result.isError).toBe(true);
    expect(text(result)).toMatch(/uses 2 parameter\(s\).*1 value\(s\) were given/);
  });

  it("query refuses bad arguments by name", async () => {
    const result = await call("query", { sql: "SELECT 1", maxRows: 5000 });
    expect(result.isError).toBe(true);
    expect(text(result)).toMatch(/`maxRows`/);
  });

  it("query times out at the statement timeout", async () => {
    const result = await call("query", { sql: "SELECT count(*) FROM events a, events b, events c" });
    expect(result._meta?.["io.portside/error"]).toMatchObject({ code: "timeout", sqlstate: "57014" });
  });

  it("list_schemas counts only allowed relations", async () => {
    const result = await call("list_schemas", {});
    expect(result.structuredContent).toEqual({ schemas: [{ name: "public", tables: 5, views: 0 }] });
  });

  it("list_tables lists, filters and pages", async () => {
    const all = await call("list_tables", {});
    const names = (all.structuredContent as { tables: Array<{ name: string }> }).tables.map((t) => t.name);
    expect(names).toEqual(["customers", "events", "order_items", "orders", "products"]);
    expect(text(all)).toContain("public.customers (table, ~5 rows) — People who bought something");
    const page = await call("list_tables", { limit: 2, offset: 1 });
    expect(page.structuredContent).toMatchObject({ total: 5, nextOffset: 3 });
    expect(text(page)).toMatch(/\[2 more: call again with offset=3\]/);
    const filtered = await call("list_tables", { pattern: "ORDER*" });
    expect((filtered.structuredContent as { tables: unknown[] }).tables).toHaveLength(2);
  });

  it("describe_table shows columns, keys and indexes, and hides links to hidden tables", async () => {
    const result = await call("describe_table", { table: "customers" });
    expect(result.isError).toBeFalsy();
    const d = result.structuredContent as Record<string, unknown> & {
      columns: Array<{ name: string; nullable: boolean; comment: string | null }>;
      referencedBy: Array<{ schema: string; table: string }>;
    };
    expect(d.primaryKey).toEqual(["id"]);
    expect(d.columns.map((c) => c.name)).toEqual(["id", "name", "email", "country", "created_at"]);
    expect(d.columns.find((c) => c.name === "email")).toMatchObject({
      nullable: true,
      comment: "Contact address, unique",
    });
    // private.audit references customers too, but the model may not know it exists.
    expect(d.referencedBy).toEqual([expect.objectContaining({ schema: "public", table: "orders" })]);
    expect(JSON.stringify(d)).not.toContain("audit");

    const orders = await call("describe_table", { table: "public.orders" });
    expect(text(orders)).toContain("foreign key orders_customer_id_fkey: (customer_id) → public.customers(id)");
    expect(text(orders)).toContain("index CREATE INDEX orders_status_date_idx");
    expect(text(orders)).toMatch(/check orders_status_check/);
  });

  it("describe_table treats hidden tables as missing", async () => {
    for (const table of ["private.secrets", "secret_view", "staff_salaries", "nope"]) {
      const result = await call("describe_table", { table });
      expect(result._meta?.["io.portside/error"], table).toMatchObject({ code: "not_found" });
    }
  });

  it("explain_query shows the plan without running the query", async () => {
    const result = await call("explain_query", { sql: "SELECT * FROM orders WHERE customer_id = 1" });
    expect(result.isError).toBeFalsy();
    expect(text(result)).toMatch(/Scan on orders/);
    const json = await call("explain_query", { sql: "SELECT count(*) FROM orders", format: "json" });
    expect((json.structuredContent as { plan: Array<{ Plan: unknown }> }).plan[0]?.Plan).toBeDefined();
    const analyze = await call("explain_query", { sql: "SELECT 1", analyze: true });
    expect(analyze._meta?.["io.portside/error"]).toMatchObject({ code: "permission_denied", argument: "analyze" });
    const denied = await call("explain_query", { sql: "SELECT * FROM private.secrets" });
    expect(denied._meta?.["io.portside/error"]).toMatchObject({ code: "not_found" });
  });
});

describe("resources", () => {
  it("lists a schema resource per allowed table, with no credentials in the URI", async () => {
    const { resources } = await client.listResources();
    expect(resources).toHaveLength(5);
    for (const resource of resources) {
      expect(resource.uri).toMatch(/^postgres:\/\/127\.0\.0\.1:\d+\/portside_unit_[0-9a-f]+\/public\/\w+\/schema$/);
      expect(resource.uri).not.toContain(password);
      expect(resource.uri).not.toContain("reader");
    }
  });

  it("reads a table's schema and refuses hidden ones", async () => {
    const { resources } = await client.listResources();
    const orders = resources.find((r) => r.name === "public.orders");
    const read = await client.readResource({ uri: orders?.uri as string });
    const json = JSON.parse((read.contents[0] as { text: string }).text);
    expect(json.primaryKey).toEqual(["id"]);
    const hidden = String(orders?.uri).replace("/public/orders/", "/private/secrets/");
    await expect(client.readResource({ uri: hidden })).rejects.toThrow(/No such table/);
  });
});

describe("settings and secrets", () => {
  it("never logs the password", () => {
    expect(logLines.length).toBeGreaterThan(0);
    expect(logLines.join("")).not.toContain(password);
  });

  it("refuses bad patterns as a setting error", async () => {
    await expect(startApp(["--allow", "a.b.c"], { DATABASE_URL: shop.readerUrl })).rejects.toThrow(
      /invalid table pattern "a\.b\.c"/,
    );
  });

  it("refuses to start with a role that can write", async () => {
    await expect(startApp([shop.writerUrl, "--allow", shop.allow])).rejects.toThrow(
      /can write to allowed tables \(public\.orders\).*--allow-privileged-role/,
    );
  });

  it("requires a connection URL", () => {
    expect(() => parseCommandLine(options, [], {})).toThrow(/connection URL is required/);
  });

  it("builds resource URIs without credentials", () => {
    expect(resourceBase("postgresql://u:secret@db.example.com:6543/shop?sslmode=require")).toBe(
      "postgres://db.example.com:6543/shop",
    );
    expect(resourceBase("postgres://u@localhost")).toBe("postgres://localhost/postgres");
  });

  it("parses table names like SQL does", () => {
    expect(parseTableName("Orders")).toEqual({ name: "orders" });
    expect(parseTableName('"My Schema"."Order ""Lines"""')).toEqual({ schema: "My Schema", name: 'Order "Lines"' });
    expect(parseTableName("a.b.c")).toBeUndefined();
    expect(parseTableName("a.")).toBeUndefined();
  });
});
