import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type EmbeddingsServer, startEmbeddingsServer } from "../fixtures/memory/embedder.ts";
import { freshSchema, startTestPostgres, type TestPostgres } from "../fixtures/memory/pglite.ts";
import { serverCli, startHttp, startStdio, structured, textOf } from "../src/harness.js";

let postgres: TestPostgres;
let embeddings: EmbeddingsServer;
const scratch = mkdtempSync(join(tmpdir(), "memory-it-"));
let counter = 0;

beforeAll(async () => {
  [postgres, embeddings] = await Promise.all([startTestPostgres(), startEmbeddingsServer({ apiKey: "sk-fixture" })]);
});
afterAll(async () => {
  await Promise.all([postgres?.close(), embeddings?.close()]);
  rmSync(scratch, { recursive: true, force: true });
});

type Kind = "sqlite" | "postgres";

/** Environment for a fresh, empty store of the given kind (a new file, or a new schema). */
function freshStore(kind: Kind): Record<string, string> {
  if (kind === "sqlite") return { MEMORY_STORE: join(scratch, `store-${++counter}.db`) };
  return { DATABASE_URL: postgres.url, MEMORY_PG_SCHEMA: freshSchema("it") };
}

const semantic = (model = "fixture-embed") => ({
  OPENAI_API_KEY: "sk-fixture",
  MEMORY_EMBEDDING_BASE_URL: embeddings.baseUrl,
  MEMORY_EMBEDDING_MODEL: model,
});

async function call(client: Client, name: string, args: Record<string, unknown> = {}): Promise<CallToolResult> {
  const result = (await client.callTool({ name, arguments: args })) as CallToolResult;
  return result;
}

async function ok<T = Record<string, unknown>>(
  client: Client,
  name: string,
  args: Record<string, unknown> = {},
): Promise<T> {
  const result = await call(client, name, args);
  if (result.isError) throw new Error(`${name} failed: ${textOf(result)}`);
  return structured<T>(result);
}

/** Every memory's content, through list_memories pages. */
async function allMemories(client: Client): Promise<string[]> {
  const contents: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await ok<{ memories: Array<{ content: string }>; nextCursor?: string }>(client, "list_memories", {
      limit: 100,
      ...(cursor ? { cursor } : {}),
    });
    contents.push(...page.memories.map((m) => m.content));
    cursor = page.nextCursor;
  } while (cursor);
  return contents;
}

const runCli = (args: string[], env: Record<string, string>) =>
  new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(
      process.execPath,
      [serverCli("memory"), ...args],
      { env: { ...process.env, ...env }, timeout: 60_000 },
      (error, stdout, stderr) =>
        resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });

describe.each<Kind>(["sqlite", "postgres"])("memory server on %s", (kind) => {
  it("remembers and recalls by meaning over stdio, and searches the graph", async () => {
    const server = await startStdio("memory", [], { env: { ...freshStore(kind), ...semantic() } });
    try {
      expect(server.client.getInstructions()).toMatch(/Search by meaning is ON/);
      await ok(server.client, "create_entities", {
        entities: [
          { name: "Alice", entityType: "person", observations: ["Drinks espresso", "Works at Acme"] },
          { name: "Rex", entityType: "pet", observations: ["A beagle puppy"] },
        ],
      });
      await ok(server.client, "create_relations", { relations: [{ from: "Alice", to: "Rex", relationType: "owns" }] });
      for (const content of [
        "Alice prefers a flat white with oat milk",
        "The release pipeline deploys every Friday",
        "Carol is allergic to peanuts",
      ]) {
        await ok(server.client, "store_memory", { content, tags: ["fact"] });
      }
      const recalled = await ok<{ results: Array<{ content: string; score: number }>; semanticSearch: boolean }>(
        server.client,
        "recall",
        { query: "what coffee does Alice drink", k: 2 },
      );
      expect(recalled.semanticSearch).toBe(true);
      expect(recalled.results[0]?.content).toMatch(/flat white/);
      const nuts = await ok<{ results: Array<{ content: string }> }>(server.client, "recall", {
        query: "food allergy",
        k: 1,
      });
      expect(nuts.results[0]?.content).toMatch(/peanuts/);
      // The entity vectors are computed in the background right after the write.
      await expect
        .poll(
          async () =>
            (await ok<{ entities: Array<{ name: string }> }>(server.client, "search_nodes", { query: "dog" }))
              .entities[0]?.name,
        )
        .toBe("Rex");
      const opened = await ok<{ relations: unknown[] }>(server.client, "open_nodes", { names: ["Rex"] });
      expect(opened.relations).toEqual([{ from: "Alice", to: "Rex", relationType: "owns" }]);
      expect(server.transportErrors).toEqual([]);
    } finally {
      await server.close();
    }
  });

  it("serves a shared memory over HTTP with a bearer token", async () => {
    const token = "memory-it-token-0123456789abcdef";
    const http = await startHttp("memory", [], { env: { ...freshStore(kind), ...semantic(), MCP_AUTH_TOKEN: token } });
    try {
      await expect(http.connect()).rejects.toThrow();
      const writer = await http.connect({ token });
      const reader = await http.connect({ token });
      await ok(writer, "store_memory", { content: "The team standup moved to 9:30", tags: ["team"] });
      await ok(writer, "create_entities", {
        entities: [{ name: "Standup", entityType: "meeting", observations: ["9:30 daily"] }],
      });
      const found = await ok<{ results: Array<{ content: string; source: string }> }>(reader, "recall", {
        query: "when is the meeting",
        tags: ["team"],
      });
      expect(found.results[0]).toMatchObject({
        content: "The team standup moved to 9:30",
        source: "portside-integration",
      });
      const graph = await ok<{ entities: Array<{ name: string }> }>(reader, "read_graph");
      expect(graph.entities.map((e) => e.name)).toEqual(["Standup"]);
      const byPath = await call(reader, "import_graph", { path: "/etc/passwd" });
      expect(byPath.isError).toBe(true);
      expect(textOf(byPath)).toMatch(/permission_denied.*stdio/s);
    } finally {
      await http.stop();
    }
  });

  it("loses nothing when two server processes write to the same store at once", async () => {
    const env = freshStore(kind);
    const first = await startStdio("memory", [], { env });
    const second = await startStdio("memory", [], { env });
    try {
      await ok(first.client, "create_entities", { entities: [{ name: "Hub", entityType: "t", observations: [] }] });
      const rounds = 25;
      const calls: Array<Promise<CallToolResult>> = [];
      for (let i = 0; i < rounds; i++) {
        for (const [label, server] of [
          ["a", first],
          ["b", second],
        ] as const) {
          calls.push(
            call(server.client, "create_entities", {
              entities: [
                { name: `${label}-${i}`, entityType: "t", observations: [`written by ${label}`] },
                { name: `both-${i}`, entityType: "t", observations: [] },
              ],
            }),
            call(server.client, "add_observations", {
              observations: [{ entityName: "Hub", contents: [`${label} ${i}`] }],
            }),
            call(server.client, "create_relations", {
              relations: [{ from: "Hub", to: `both-${i}`, relationType: "links" }],
            }),
            call(server.client, "store_memory", { content: `memory ${label} ${i}` }),
          );
        }
      }
      const results = await Promise.all(calls);
      expect(results.filter((r) => r.isError).map(textOf)).toEqual([]);
      const graph = await ok<{ totals: { entities: number; relations: number } }>(first.client, "read_graph", {
        limit: 1,
      });
      expect(graph.totals).toEqual({ entities: 1 + 3 * rounds, relations: rounds });
      const hub = await ok<{ entities: Array<{ observations: string[] }> }>(second.client, "open_nodes", {
        names: ["Hub"],
      });
      expect(hub.entities[0]?.observations).toHaveLength(2 * rounds);
      expect((await allMemories(first.client)).sort()).toEqual(
        Array.from({ length: rounds }, (_, i) => [`memory a ${i}`, `memory b ${i}`])
          .flat()
          .sort(),
      );
    } finally {
      await Promise.all([first.close(), second.close()]);
    }
  });

  it("keeps every acknowledged write when the process is killed mid-batch", async () => {
    const env = freshStore(kind);
    const victim = await startStdio("memory", [], { env });
    const acknowledgedEntities: string[] = [];
    const acknowledgedMemories: string[] = [];
    const inFlight: Array<Promise<unknown>> = [];
    for (let i = 0; i < 300; i++) {
      const names = [`k-${i}-a`, `k-${i}-b`, `k-${i}-c`];
      inFlight.push(
        call(victim.client, "create_entities", {
          entities: names.map((name) => ({ name, entityType: "t", observations: [`observation of ${name}`] })),
        }).then(
          (r) => {
            if (!r.isError) acknowledgedEntities.push(...names);
          },
          () => undefined,
        ),
        call(victim.client, "store_memory", { content: `batch memory ${i}` }).then(
          (r) => {
            if (!r.isError) acknowledgedMemories.push(`batch memory ${i}`);
          },
          () => undefined,
        ),
      );
    }
    await expect.poll(() => acknowledgedEntities.length, { timeout: 30_000 }).toBeGreaterThanOrEqual(60);
    process.kill(victim.transport.pid as number, "SIGKILL");
    await Promise.allSettled(inFlight);
    await victim.close().catch(() => undefined);
    const killedAt = acknowledgedEntities.length;
    expect(killedAt).toBeLessThan(900);

    const survivor = await startStdio("memory", [], { env });
    try {
      for (let i = 0; i < acknowledgedEntities.length; i += 150) {
        const names = acknowledgedEntities.slice(i, i + 150);
        const opened = await ok<{ entities: Array<{ name: string; observations: string[] }>; missing?: string[] }>(
          survivor.client,
          "open_nodes",
          { names },
        );
        expect(opened.missing ?? []).toEqual([]);
        for (const entity of opened.entities) expect(entity.observations).toEqual([`observation of ${entity.name}`]);
      }
      const stored = new Set(await allMemories(survivor.client));
      expect(acknowledgedMemories.filter((m) => !stored.has(m))).toEqual([]);
      // The store is healthy after the crash: it takes new writes.
      await ok(survivor.client, "create_entities", {
        entities: [{ name: "after-crash", entityType: "t", observations: [] }],
      });
    } finally {
      await survivor.close();
    }
  });
});

describe("memory server, local store and migration", () => {
  it("keeps its store in the XDG data directory by default, never in the package", async () => {
    const xdg = join(scratch, "xdg");
    const server = await startStdio("memory", [], { env: { XDG_DATA_HOME: xdg, MEMORY_STORE: "", DATABASE_URL: "" } });
    try {
      const status = await ok<{ store: { kind: string; location: string }; semanticSearch: { enabled: boolean } }>(
        server.client,
        "memory_status",
      );
      expect(status.store).toEqual({ kind: "sqlite", location: join(xdg, "portside", "memory.db") });
      expect(status.semanticSearch.enabled).toBe(false);
      expect(existsSync(join(xdg, "portside", "memory.db"))).toBe(true);
      const recalled = await call(server.client, "recall", { query: "anything" });
      expect(structured<{ note?: string }>(recalled).note).toMatch(/Search by meaning is off/);
    } finally {
      await server.close();
    }
  });

  it("imports the official memory.jsonl with the CLI, exports it back, and re-embeds after a model change", async () => {
    const store = join(scratch, `cli-${++counter}.db`);
    const official = join(scratch, "official.jsonl");
    writeFileSync(
      official,
      [
        { type: "entity", name: "Alice", entityType: "person", observations: ["Drinks espresso"] },
        { type: "entity", name: "Bob", entityType: "person", observations: ["Has a beagle"] },
        { type: "relation", from: "Alice", to: "Bob", relationType: "knows" },
      ]
        .map((line) => JSON.stringify(line))
        .join("\n"),
    );
    const imported = await runCli(["import", official, "--store", store], semantic());
    expect(imported.stderr).toMatch(/imported 2 entities, 2 observations, 1 relations/);
    expect(imported.code).toBe(0);
    const exported = await runCli(["export", "--store", store], {});
    expect(exported.code).toBe(0);
    expect(
      exported.stdout
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l).type),
    ).toEqual(["entity", "entity", "relation"]);
    expect((await runCli(["import", join(scratch, "missing.jsonl"), "--store", store], {})).code).toBe(1);

    // Switch models: the old vectors are stale until re-embedded.
    // One text per request, so progress is reported before the last batch, not together with the answer.
    const server = await startStdio("memory", ["--store", store, "--embedding-batch-size", "1"], {
      env: semantic("fixture-embed-v2"),
    });
    try {
      type Status = { vectors?: { entities: { current: number; stale: number; missing: number } } };
      expect(server.client.getInstructions()).toMatch(/2 items have vectors from another model/);
      const before = await ok<Status>(server.client, "memory_status");
      expect(before.vectors?.entities).toEqual({ current: 0, stale: 2, missing: 0 });
      const progress: number[] = [];
      const reembedded = await server.client.callTool({ name: "reembed_memories", arguments: {} }, undefined, {
        onprogress: (p) => void progress.push(p.progress),
      });
      expect(structured(reembedded)).toMatchObject({ embedded: 2, model: "fixture-embed-v2", dimensions: 192 });
      expect(progress[0]).toBe(1);
      const after = await ok<Status>(server.client, "memory_status");
      expect(after.vectors?.entities).toEqual({ current: 2, stale: 0, missing: 0 });
      const dog = await ok<{ entities: Array<{ name: string }> }>(server.client, "search_nodes", { query: "puppy" });
      expect(dog.entities[0]?.name).toBe("Bob");
    } finally {
      await server.close();
    }
  });

  it("takes over an existing MEMORY_FILE_PATH once, at start-up", async () => {
    const file = join(scratch, "legacy.jsonl");
    writeFileSync(
      file,
      `${JSON.stringify({ type: "entity", name: "Legacy", entityType: "thing", observations: ["old"] })}\n`,
    );
    const env = { MEMORY_STORE: join(scratch, `legacy-${++counter}.db`), MEMORY_FILE_PATH: file };
    const first = await startStdio("memory", ["--log-level", "info"], { env });
    const opened = await ok<{ entities: Array<{ name: string }> }>(first.client, "open_nodes", { names: ["Legacy"] });
    expect(opened.entities.map((e) => e.name)).toEqual(["Legacy"]);
    await ok(first.client, "delete_entities", { entityNames: ["Legacy"] });
    expect(first.stderr()).toMatch(/imported memory file/);
    await first.close();
    // Unchanged file: not imported again, so the deletion sticks.
    const second = await startStdio("memory", ["--log-level", "info"], { env });
    try {
      const again = await ok<{ missing?: string[] }>(second.client, "open_nodes", { names: ["Legacy"] });
      expect(again.missing).toEqual(["Legacy"]);
      expect(second.stderr()).not.toMatch(/imported memory file/);
    } finally {
      await second.close();
    }
  });

  it("refuses a bad setting with one line and exit code 2", async () => {
    const bad = await runCli(["--embedding-base-url", "ftp://nope"], {});
    expect(bad.code).toBe(2);
    expect(bad.stderr.trim().split("\n")).toHaveLength(1);
    expect(bad.stderr).toMatch(/embedding-base-url/);
    const pg = await runCli(["--database-url", "postgresql://u:secret-pass@127.0.0.1:9/db"], {});
    expect(pg.code).toBe(2);
    expect(pg.stderr).toMatch(/PostgreSQL/);
    expect(pg.stderr).not.toContain("secret-pass");
  });
});
