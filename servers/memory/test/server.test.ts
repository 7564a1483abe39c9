import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { ResourceUpdatedNotificationSchema } from "@modelcontextprotocol/sdk/types.js";
import { createLogger, hostOptions, parseCommandLine, type ServerApp, UNTRUSTED_META_KEY } from "@portside/shared";
import { connectInMemory, type InMemoryConnection } from "@portside/shared/testing";
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from "vitest";
import { type EmbeddingsServer, startEmbeddingsServer } from "../../../test/fixtures/memory/embedder.ts";
import { freshSchema } from "../../../test/fixtures/memory/pglite.ts";
import { memoryOptions } from "../src/config.ts";
import { memoryServer } from "../src/server.ts";
import { STORE_KINDS, type StoreKind } from "./support/stores.ts";

const OFFICIAL_TOOLS = [
  "create_entities",
  "create_relations",
  "add_observations",
  "delete_entities",
  "delete_observations",
  "delete_relations",
  "read_graph",
  "search_nodes",
  "open_nodes",
];

let embeddings: EmbeddingsServer;
const dirs: string[] = [];
beforeAll(async () => {
  embeddings = await startEmbeddingsServer();
});
afterAll(async () => {
  await embeddings.close();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

async function startApp(kind: StoreKind, args: string[] = [], env: Record<string, string> = {}): Promise<ServerApp> {
  const dir = mkdtempSync(join(tmpdir(), "memory-server-"));
  dirs.push(dir);
  const storeArgs =
    kind === "sqlite"
      ? ["--store", join(dir, "memory.db")]
      : ["--database-url", inject("postgresUrl"), "--pg-schema", freshSchema("srv")];
  const parsed = parseCommandLine({ ...hostOptions, ...memoryOptions }, [...storeArgs, ...args], env);
  if (parsed.kind !== "run") throw new Error("unexpected help");
  return memoryServer.start(parsed.config, { log: createLogger({ level: "critical" }), transport: "stdio" });
}

const semanticArgs = () => ["--embedding-base-url", embeddings.baseUrl, "--embedding-model", "fixture-embed"];

async function call(c: InMemoryConnection, name: string, args: Record<string, unknown>): Promise<CallToolResult> {
  return (await c.client.callTool({ name, arguments: args })) as CallToolResult;
}
const text = (r: CallToolResult) => r.content.map((b) => (b.type === "text" ? b.text : "")).join("\n");
const data = <T = Record<string, unknown>>(r: CallToolResult) => r.structuredContent as T;

describe.each(STORE_KINDS)("memory tools on %s", (kind) => {
  let app: ServerApp | undefined;
  let conn: InMemoryConnection | undefined;
  const connect = async (args: string[] = [], options: { maxResponseChars?: number } = {}) => {
    app = await startApp(kind, args);
    conn = await connectInMemory(app, options);
    return conn;
  };
  afterEach(async () => {
    await conn?.close();
    await app?.close?.();
    conn = undefined;
    app = undefined;
  });

  it("offers the official tools with the official parameters, plus memory and upkeep tools", async () => {
    const c = await connect();
    const { tools } = await c.client.listTools();
    const byName = new Map(tools.map((t) => [t.name, t]));
    for (const name of OFFICIAL_TOOLS) expect(byName.has(name), name).toBe(true);
    expect(Object.keys(byName.get("create_entities")!.inputSchema.properties ?? {})).toEqual(["entities"]);
    expect(Object.keys(byName.get("create_relations")!.inputSchema.properties ?? {})).toEqual(["relations"]);
    expect(Object.keys(byName.get("add_observations")!.inputSchema.properties ?? {})).toEqual(["observations"]);
    expect(Object.keys(byName.get("delete_entities")!.inputSchema.properties ?? {})).toEqual(["entityNames"]);
    expect(Object.keys(byName.get("delete_observations")!.inputSchema.properties ?? {})).toEqual(["deletions"]);
    expect(Object.keys(byName.get("delete_relations")!.inputSchema.properties ?? {})).toEqual(["relations"]);
    expect(byName.get("search_nodes")!.inputSchema.required).toEqual(["query"]);
    expect(byName.get("open_nodes")!.inputSchema.required).toEqual(["names"]);
    expect(byName.get("read_graph")!.inputSchema.required ?? []).toEqual([]);
    for (const name of [
      "store_memory",
      "recall",
      "update_memory",
      "forget_memory",
      "list_memories",
      "memory_status",
      "reembed_memories",
      "import_graph",
    ]) {
      expect(byName.has(name), name).toBe(true);
    }
    for (const tool of tools) expect(tool.annotations?.readOnlyHint, tool.name).toBeTypeOf("boolean");
    const instructions = c.client.getInstructions();
    expect(instructions).toMatch(/Search by meaning is OFF/);
  });

  it("runs the official workflow end to end", async () => {
    const c = await connect();
    const created = await call(c, "create_entities", {
      entities: [
        { name: "Alice", entityType: "person", observations: ["Speaks French"] },
        { name: "Acme", entityType: "company", observations: [] },
      ],
    });
    expect(data(created)).toEqual({
      entities: [
        { name: "Alice", entityType: "person", observations: ["Speaks French"] },
        { name: "Acme", entityType: "company", observations: [] },
      ],
    });
    expect(
      data(await call(c, "create_entities", { entities: [{ name: "Alice", entityType: "x", observations: [] }] })),
    ).toEqual({ entities: [] });
    await call(c, "create_relations", { relations: [{ from: "Alice", to: "Acme", relationType: "works_at" }] });
    const added = await call(c, "add_observations", {
      observations: [{ entityName: "Alice", contents: ["Likes tea", "Speaks French"] }],
    });
    expect(data(added)).toEqual({ results: [{ entityName: "Alice", addedObservations: ["Likes tea"] }] });
    const missing = await call(c, "add_observations", { observations: [{ entityName: "Nobody", contents: ["x"] }] });
    expect(missing.isError).toBe(true);
    expect(text(missing)).toMatch(/not_found.*Nobody/s);
    const opened = await call(c, "open_nodes", { names: ["Alice", "Ghost"] });
    expect(data(opened)).toMatchObject({
      entities: [{ name: "Alice", observations: ["Speaks French", "Likes tea"] }],
      relations: [{ from: "Alice", to: "Acme", relationType: "works_at" }],
      missing: ["Ghost"],
    });
    expect(opened._meta?.[UNTRUSTED_META_KEY]).toBe(true);
    const found = await call(c, "search_nodes", { query: "FRENCH" });
    expect(data<{ entities: Array<{ name: string }> }>(found).entities.map((e) => e.name)).toEqual(["Alice"]);
    expect(data(found)).toMatchObject({ semanticSearch: false });
    await call(c, "delete_observations", { deletions: [{ entityName: "Alice", observations: ["Likes tea"] }] });
    const deleted = await call(c, "delete_entities", { entityNames: ["Acme"] });
    expect(data(deleted)).toMatchObject({ success: true, deleted: 1 });
    const graph = data(await call(c, "read_graph", {}));
    expect(graph).toMatchObject({
      entities: [{ name: "Alice", entityType: "person", observations: ["Speaks French"] }],
      relations: [],
      totals: { entities: 1, relations: 0 },
    });
    expect(graph.nextCursor).toBeUndefined();
  });

  it("pages read_graph within a small response budget and never repeats or skips", async () => {
    const c = await connect([], { maxResponseChars: 3000 });
    const entities = Array.from({ length: 60 }, (_, i) => ({
      name: `Entity ${i}`,
      entityType: "thing",
      observations: [`fact ${i} `.repeat(5)],
    }));
    await call(c, "create_entities", { entities });
    await call(c, "create_relations", {
      relations: Array.from({ length: 30 }, (_, i) => ({
        from: `Entity ${i}`,
        to: `Entity ${i + 1}`,
        relationType: "next",
      })),
    });
    const names: string[] = [];
    let relations = 0;
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await call(c, "read_graph", cursor ? { cursor } : {});
      expect(page.isError).toBeFalsy();
      expect(text(page).length).toBeLessThanOrEqual(3000);
      const d = data<{ entities: Array<{ name: string }>; relations: unknown[]; nextCursor?: string }>(page);
      names.push(...d.entities.map((e) => e.name));
      relations += d.relations.length;
      cursor = d.nextCursor;
      pages++;
    } while (cursor && pages < 100);
    expect(names).toEqual(entities.map((e) => e.name));
    expect(relations).toBe(30);
    expect(pages).toBeGreaterThan(3);
    const bad = await call(c, "read_graph", { cursor: "bm90LWEtY3Vyc29y" });
    expect(bad.isError).toBe(true);
    expect(text(bad)).toMatch(/cursor/);
  });

  it("keeps a huge entity inside the budget and says observations were left out", async () => {
    const c = await connect([], { maxResponseChars: 4000 });
    const observations = Array.from({ length: 200 }, (_, i) => `observation number ${i} with some words`);
    await call(c, "create_entities", { entities: [{ name: "Big", entityType: "t", observations }] });
    const opened = await call(c, "open_nodes", { names: ["Big"] });
    const d = data<{ entities: Array<{ observations: string[]; observationsOmitted?: number }>; note?: string }>(
      opened,
    );
    expect(text(opened).length).toBeLessThanOrEqual(4000);
    expect(d.entities[0]!.observations.length + (d.entities[0]!.observationsOmitted ?? 0)).toBe(200);
    expect(d.note).toMatch(/left out/);
  });

  it("pages search_nodes results with a cursor tied to the query", async () => {
    const c = await connect();
    await call(c, "create_entities", {
      entities: Array.from({ length: 12 }, (_, i) => ({
        name: `Project ${i}`,
        entityType: "project",
        observations: [],
      })),
    });
    const first = data<{ entities: Array<{ name: string }>; nextCursor?: string }>(
      await call(c, "search_nodes", { query: "project", limit: 5 }),
    );
    expect(first.entities).toHaveLength(5);
    const second = data<{ entities: Array<{ name: string }>; nextCursor?: string }>(
      await call(c, "search_nodes", { query: "project", limit: 10, cursor: first.nextCursor }),
    );
    expect(second.entities).toHaveLength(7);
    expect(second.nextCursor).toBeUndefined();
    expect(new Set([...first.entities, ...second.entities].map((e) => e.name)).size).toBe(12);
    const reused = await call(c, "search_nodes", { query: "other", cursor: first.nextCursor });
    expect(reused.isError).toBe(true);
  });

  it("stores, recalls, updates, lists and forgets memories by meaning", async () => {
    const c = await connect(semanticArgs());
    expect(c.client.getInstructions()).toMatch(/Search by meaning is ON/);
    const stored = await call(c, "store_memory", {
      content: "Alice drinks a double espresso every morning",
      tags: ["Preference", "person:alice"],
      metadata: { confidence: "high" },
      entities: ["Alice"],
    });
    expect(data(stored)).toMatchObject({
      duplicate: false,
      searchableByMeaning: true,
      memory: {
        tags: ["person:alice", "preference"],
        entities: ["Alice"],
        metadata: { confidence: "high" },
        source: "portside-test-client",
      },
    });
    const id = data<{ memory: { id: number } }>(stored).memory.id;
    await call(c, "store_memory", { content: "The deploy pipeline runs every Friday", tags: ["work"] });
    const again = await call(c, "store_memory", {
      content: "Alice drinks a double espresso every morning",
      tags: ["coffee"],
    });
    expect(data(again)).toMatchObject({
      duplicate: true,
      memory: { id, tags: ["coffee", "person:alice", "preference"] },
    });

    const recalled = await call(c, "recall", { query: "what coffee does Alice like?", k: 3 });
    const r = data<{
      results: Array<{ id: number; score: number; similarity?: number; createdAt: string }>;
      semanticSearch: boolean;
    }>(recalled);
    expect(r.semanticSearch).toBe(true);
    expect(r.results[0]).toMatchObject({ id });
    expect(r.results[0]!.similarity).toBeGreaterThan(0.3);
    expect(Date.parse(r.results[0]!.createdAt)).toBeGreaterThan(0);
    expect(text(recalled)).toMatch(/#\d+ \[score/);
    expect(recalled._meta?.[UNTRUSTED_META_KEY]).toBe(true);

    const filtered = data<{ results: unknown[] }>(await call(c, "recall", { query: "coffee", tags: ["work"] }));
    expect(filtered.results).toEqual([]);

    const updated = await call(c, "update_memory", {
      id,
      content: "Alice switched to green tea",
      removeTags: ["coffee"],
      metadata: { confidence: null },
    });
    expect(data(updated)).toMatchObject({
      memory: { content: "Alice switched to green tea", metadata: {} },
      searchableByMeaning: true,
    });
    const tea = data<{ results: Array<{ id: number }> }>(await call(c, "recall", { query: "tea", k: 1 }));
    expect(tea.results[0]?.id).toBe(id);

    const listed = data<{ memories: Array<{ id: number }>; total: number }>(
      await call(c, "list_memories", { limit: 1 }),
    );
    expect(listed.total).toBe(2);
    expect(listed.memories).toHaveLength(1);

    const forgot = await call(c, "forget_memory", { ids: [id, 424242] });
    expect(data(forgot)).toEqual({ deleted: [id], notFound: [424242] });
    const missing = await call(c, "update_memory", { id, tags: ["x"] });
    expect(missing.isError).toBe(true);
    expect(text(missing)).toMatch(/not_found/);

    const status = data<{ counts: { memories: number }; semanticSearch: { enabled: boolean; model?: string } }>(
      await call(c, "memory_status", {}),
    );
    expect(status.counts.memories).toBe(1);
    expect(status.semanticSearch).toMatchObject({ enabled: true, model: "fixture-embed" });
  });

  it("caps recall by a token budget and shows how many results were left out", async () => {
    const c = await connect();
    for (let i = 0; i < 5; i++)
      await call(c, "store_memory", { content: `Espresso note ${i}: ${"details ".repeat(60)}` });
    const r = data<{ results: unknown[]; omitted?: number; note?: string }>(
      await call(c, "recall", { query: "espresso", k: 5, maxTokens: 250 }),
    );
    expect(r.results.length).toBeLessThan(5);
    expect(r.results.length).toBeGreaterThan(0);
    expect(r.omitted).toBe(5 - r.results.length);
    expect(r.note).toMatch(/maxTokens/);
  });

  it("refuses hostile input with errors that name the argument", async () => {
    const c = await connect();
    const fifoDir = mkdtempSync(join(tmpdir(), "memory-fifo-"));
    dirs.push(fifoDir);
    const fifo = join(fifoDir, "pipe.jsonl");
    execFileSync("mkfifo", [fifo]);
    const cases: Array<[string, Record<string, unknown>, RegExp]> = [
      ["create_entities", { entities: [{ name: "", entityType: "t", observations: [] }] }, /entities\.0\.name/],
      ["create_entities", { entities: [{ name: "x".repeat(300), entityType: "t", observations: [] }] }, /at most 256/],
      ["create_entities", { entities: "not an array" }, /entities/],
      ["store_memory", { content: "x", tags: ["bad tag!"] }, /tags\.0/],
      ["store_memory", { content: "   " }, /blank/],
      ["store_memory", { content: "x", metadata: { big: "y".repeat(5000) } }, /metadata/],
      ["store_memory", { content: "x", metadata: { constructor: "y" } }, /metadata\.constructor/],
      ["recall", { query: "x", k: 1000 }, /`k`/],
      ["recall", { query: "x", since: "yesterday-ish" }, /since/],
      ["update_memory", { id: 1, tags: ["a"], addTags: ["b"] }, /cannot be combined/],
      ["list_memories", { cursor: "!!" }, /cursor/],
      ["import_graph", {}, /exactly one/],
      ["import_graph", { path: "relative/file.jsonl" }, /absolute/],
      ["import_graph", { path: "/dev/zero" }, /not a regular file/],
      ["import_graph", { path: fifo }, /not a regular file/],
    ];
    // A __proto__ key is dropped, never merged into any prototype.
    const sneaky = await call(c, "store_memory", {
      content: "proto",
      metadata: JSON.parse('{"__proto__": {"polluted": true}}'),
    });
    expect(data(sneaky)).toMatchObject({ memory: { metadata: {} } });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    for (const [tool, args, pattern] of cases) {
      const result = await call(c, tool, args);
      expect(result.isError, `${tool} ${JSON.stringify(args).slice(0, 60)}`).toBe(true);
      expect(text(result)).toMatch(pattern);
      expect(text(result)).not.toMatch(/\n\s+at /);
    }
  });

  it("imports an official memory.jsonl by path and reports bad lines without quoting them", async () => {
    const c = await connect();
    const dir = mkdtempSync(join(tmpdir(), "memory-import-"));
    dirs.push(dir);
    const file = join(dir, "memory.jsonl");
    writeFileSync(
      file,
      [
        JSON.stringify({ type: "entity", name: "Alice", entityType: "person", observations: ["a"] }),
        JSON.stringify({ type: "relation", from: "Alice", to: "Bob", relationType: "knows" }),
        "password=hunter2",
      ].join("\n"),
    );
    const result = await call(c, "import_graph", { path: file });
    expect(data(result)).toMatchObject({
      imported: { entities: 1, observations: 1, relations: 1, memories: 0 },
      lines: 3,
      skippedCount: 1,
      skipped: [{ line: 3, reason: "not JSON" }],
    });
    expect(text(result)).not.toContain("hunter2");
    const inline = await call(c, "import_graph", {
      jsonl: JSON.stringify({ type: "entity", name: "Bob", entityType: "person", observations: [] }),
    });
    expect(data(inline)).toMatchObject({ imported: { entities: 1 } });
  });

  it("offers only reading tools in read-only mode, and only chosen toolsets", async () => {
    const c = await connect(["--read-only", "--toolsets", "graph,memories"]);
    const names = (await c.client.listTools()).tools.map((t) => t.name).sort();
    expect(names).toEqual(["list_memories", "open_nodes", "read_graph", "recall", "search_nodes"]);
    expect(c.client.getInstructions()).toMatch(/read-only/);
  });

  it("serves memory://knowledge-graph in pages and notifies subscribers of changes", async () => {
    const c = await connect(["--max-response-chars", "2000"]);
    await call(c, "create_entities", {
      entities: Array.from({ length: 40 }, (_, i) => ({
        name: `N${i}`,
        entityType: "t",
        observations: [`observation ${i}`],
      })),
    });
    const { resources } = await c.client.listResources();
    expect(resources.map((r) => r.uri)).toContain("memory://knowledge-graph");
    const names: string[] = [];
    let uri: string | undefined = "memory://knowledge-graph";
    let reads = 0;
    while (uri && reads < 50) {
      const result = await c.client.readResource({ uri });
      const body = JSON.parse((result.contents[0] as { text: string }).text) as {
        entities: Array<{ name: string }>;
        next?: string;
      };
      names.push(...body.entities.map((e) => e.name));
      uri = body.next;
      reads++;
    }
    expect(names).toHaveLength(40);
    expect(reads).toBeGreaterThan(1);

    const updates: string[] = [];
    c.client.setNotificationHandler(ResourceUpdatedNotificationSchema, (n) => {
      updates.push(n.params.uri);
    });
    await c.client.subscribeResource({ uri: "memory://knowledge-graph" });
    await call(c, "create_relations", { relations: [{ from: "N1", to: "N2", relationType: "r" }] });
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(updates).toEqual(["memory://knowledge-graph"]);
  });
});
