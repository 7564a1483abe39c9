import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createLogger, ToolError } from "@portside/shared";
import Database from "better-sqlite3";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type EmbeddingsServer, startEmbeddingsServer } from "../../../test/fixtures/memory/embedder.ts";
import { Embedder } from "../src/memory/embedder.ts";
import { MemoryService } from "../src/memory/service.ts";
import { openSqliteStore } from "../src/memory/sqlite-store.ts";
import { type OpenedStore, openTestStore, STORE_KINDS } from "./support/stores.ts";

let server: EmbeddingsServer;
beforeAll(async () => {
  server = await startEmbeddingsServer();
});
afterAll(async () => {
  await server.close();
});

const log = createLogger({ level: "critical" });
const newEmbedder = (model = "fixture-embed", maxRetries = 2) =>
  new Embedder({
    apiKey: "k",
    baseURL: server.baseUrl,
    model,
    dimensions: undefined,
    batchSize: 16,
    maxRetries,
    timeoutMs: 5000,
    maxChars: 8000,
  });

const FACTS = [
  "Alice drinks a double espresso every morning before work",
  "Bob adopted a beagle puppy named Rex last spring",
  "The team deploys the release pipeline every Friday afternoon",
  "Carol is allergic to peanuts and carries an EpiPen",
  "Dave plays jazz piano in a band on weekends",
  "The production database runs PostgreSQL 17 on a dedicated host",
  "Erin is planning a vacation to Japan in April",
  "Frank goes running three times a week to train for a marathon",
];

describe.each(STORE_KINDS)("memory service on %s", (kind) => {
  let opened: OpenedStore;
  let service: MemoryService;

  const open = async (options: { embedder?: Embedder | undefined; retryDelayMs?: number; reopen?: boolean } = {}) => {
    const svc = new MemoryService({
      store: options.reopen ? await opened.reopen() : opened.store,
      embedder: "embedder" in options ? options.embedder : newEmbedder(),
      minSimilarity: 0.25,
      log,
      retryDelayMs: options.retryDelayMs ?? 20,
    });
    await svc.init(undefined);
    return svc;
  };

  beforeEach(async () => {
    opened = await openTestStore(kind);
    service = await open();
  });
  afterEach(async () => {
    await service.close().catch(() => undefined);
    await opened.cleanup();
  });

  const remember = async (content: string, tags: string[] = [], entities: string[] = []) =>
    (await service.remember({ content, tags, metadata: {}, entities }, "test-client")).memory.id;

  it("recalls by meaning: the related memory ranks first even without shared words", async () => {
    for (const fact of FACTS) await remember(fact);
    const cases: Array<[string, string]> = [
      ["What coffee does Alice like?", "espresso"],
      ["Does anyone have a dog?", "beagle"],
      ["food allergies to watch out for", "peanuts"],
      ["which sql database do we use", "PostgreSQL"],
      ["upcoming holiday trips", "Japan"],
      ["who does exercise", "marathon"],
    ];
    for (const [query, expected] of cases) {
      const { results, semanticUsed } = await service.recall({ query, k: 3, filter: {}, mode: "hybrid" });
      expect(semanticUsed).toBe(true);
      expect(results[0]?.content, query).toContain(expected);
      expect(results[0]?.similarity).toBeGreaterThan(0.3);
    }
  });

  it("scores hybrid results from 0 to 1, with provenance and timestamps, and drops unrelated ones", async () => {
    for (const fact of FACTS) await remember(fact, ["fact"]);
    const { results } = await service.recall({ query: "espresso", k: 8, filter: {}, mode: "hybrid" });
    expect(results[0]).toMatchObject({ keywordMatch: true, source: "test-client", tags: ["fact"] });
    expect(results[0]!.score).toBeGreaterThan(0.5);
    expect(results[0]!.score).toBeLessThanOrEqual(1);
    expect(results[0]!.createdAt).toBeGreaterThan(Date.now() - 60_000);
    // Unrelated memories stay below the similarity floor and are left out.
    expect(results.length).toBeLessThan(FACTS.length);
    const strict = await service.recall({ query: "espresso", k: 8, filter: {}, mode: "hybrid", minScore: 0.9 });
    expect(strict.results.every((r) => r.score >= 0.9)).toBe(true);
  });

  it("filters recall by tags, entity and time", async () => {
    await remember("Alice drinks espresso", ["pref"], ["Alice"]);
    await remember("Bob drinks a latte", ["pref"], ["Bob"]);
    await remember("Coffee machine is broken", ["office"]);
    const byTag = await service.recall({ query: "coffee", k: 5, filter: { tags: ["office"] }, mode: "hybrid" });
    expect(byTag.results.map((r) => r.content)).toEqual(["Coffee machine is broken"]);
    const byEntity = await service.recall({ query: "coffee", k: 5, filter: { entity: "Bob" }, mode: "hybrid" });
    expect(byEntity.results.map((r) => r.content)).toEqual(["Bob drinks a latte"]);
    const future = await service.recall({
      query: "coffee",
      k: 5,
      filter: { since: Date.now() + 60_000 },
      mode: "hybrid",
    });
    expect(future.results).toEqual([]);
  });

  it("works without embeddings, with full-text only, and says so", async () => {
    await service.close();
    service = await open({ reopen: true, embedder: undefined });
    expect(service.semantic()).toMatchObject({ enabled: false });
    const stored = await service.remember(
      { content: "Alice drinks espresso", tags: [], metadata: {}, entities: [] },
      null,
    );
    expect(stored.embedded).toBe(false);
    expect(stored.note).toMatch(/full-text/);
    const found = await service.recall({ query: "espresso", k: 5, filter: {}, mode: "hybrid" });
    expect(found.semanticUsed).toBe(false);
    expect(found.note).toMatch(/off/);
    expect(found.results[0]).toMatchObject({ content: "Alice drinks espresso", score: 1, keywordMatch: true });
    expect((await service.recall({ query: "coffee", k: 5, filter: {}, mode: "hybrid" })).results).toEqual([]);
  });

  it("keeps a memory when the embeddings endpoint fails, and embeds it once the endpoint is back", async () => {
    await service.close();
    service = await open({ reopen: true, embedder: newEmbedder("fixture-embed", 0) });
    server.failNext(2, { status: 500 });
    const stored = await service.remember({ content: "Bob has a beagle", tags: [], metadata: {}, entities: [] }, null);
    expect(stored.embedded).toBe(false);
    expect(stored.note).toMatch(/not yet searchable by meaning/);
    expect((await service.recall({ query: "beagle", k: 5, filter: {}, mode: "full_text" })).results).toHaveLength(1);
    await service.idle();
    expect(await service.store.vectorCounts("memory", service.currentSpace())).toEqual({
      current: 1,
      stale: 0,
      missing: 0,
    });
    const found = await service.recall({ query: "a puppy", k: 5, filter: {}, mode: "semantic" });
    expect(found.results[0]?.content).toBe("Bob has a beagle");
  });

  it("re-embeds stale vectors after the model changes, reusing none across models", async () => {
    for (const fact of FACTS.slice(0, 4)) await remember(fact);
    await service.close();
    service = await open({ reopen: true, embedder: newEmbedder("fixture-embed-v2") });
    // Vectors from the old model are not mixed in: until re-embedded, recall is by keyword.
    expect(await service.store.vectorCounts("memory", service.currentSpace())).toMatchObject({ current: 0 });
    expect(service.staleAtStart()).toBe(4);
    expect((await service.recall({ query: "beagle", k: 1, filter: {}, mode: "hybrid" })).note).toMatch(
      /reembed_memories/,
    );
    const progress: number[] = [];
    const { embedded } = await service.embedPending("stale", { progress: (done) => void progress.push(done) });
    expect(embedded).toBe(4);
    expect(progress.at(-1)).toBe(4);
    expect(await service.store.vectorCounts("memory", service.currentSpace())).toEqual({
      current: 4,
      stale: 0,
      missing: 0,
    });
    expect(service.currentSpace()?.dimensions).toBe(192);
    expect(service.staleAtStart()).toBe(0);
    const found = await service.recall({ query: "dog", k: 1, filter: {}, mode: "semantic" });
    expect(found.results[0]?.content).toContain("beagle");
  });

  it("stops re-embedding when cancelled, keeping what was done", async () => {
    for (let i = 0; i < 40; i++) await remember(`fact number ${i}`);
    await service.close();
    service = await open({ reopen: true, embedder: newEmbedder("fixture-embed-v2") });
    const abort = new AbortController();
    const run = service.embedPending("stale", {
      signal: abort.signal,
      progress: (done) => {
        if (done >= 16) abort.abort();
      },
    });
    await expect(run).rejects.toThrow();
    const counts = await service.store.vectorCounts("memory", service.currentSpace());
    expect(counts.current).toBeGreaterThanOrEqual(16);
    expect(counts.current).toBeLessThan(40);
  });

  it("embeds a text once: repeated queries and unchanged content cost no new embedding", async () => {
    const id = await remember("Reusable sentence about espresso");
    const before = server.stats.inputs;
    await service.recall({ query: "coffee please", k: 3, filter: {}, mode: "hybrid" });
    await service.recall({ query: "coffee please", k: 3, filter: {}, mode: "hybrid" });
    expect(server.stats.inputs - before).toBe(1);
    await service.update(id, { content: { text: "Reusable sentence about espresso", hash: "" }, addTags: ["x"] });
    expect(server.stats.inputs - before).toBe(1);
    await service.update(id, { content: { text: "A changed sentence", hash: "" } });
    expect(server.stats.inputs - before).toBe(2);
  });

  it("searches the graph by substring, words and meaning, substring first", async () => {
    await service.createEntities([
      { name: "Alice", entityType: "person", observations: ["Drinks espresso daily", "Works at Acme"] },
      { name: "Acme Corp", entityType: "company", observations: ["Makes anvils"] },
      { name: "Rex", entityType: "pet", observations: ["A beagle puppy"] },
    ]);
    await service.idle();
    const acme = await service.searchNodes("acme", 10);
    expect(acme.ranked.map((r) => r.entity.name)).toEqual(["Acme Corp", "Alice"]);
    expect(acme.ranked[0]?.matchedBy).toContain("substring");
    const meaning = await service.searchNodes("dog", 10);
    expect(meaning.ranked[0]?.entity.name).toBe("Rex");
    expect(meaning.ranked[0]?.matchedBy).toEqual(["meaning"]);
    const words = await service.searchNodes("anvils espresso", 10);
    expect(words.ranked.map((r) => r.entity.name).sort()).toEqual(["Acme Corp", "Alice"]);
  });

  it("imports the official server's memory.jsonl, skips bad lines by number, and is idempotent", async () => {
    const lines = [
      JSON.stringify({ type: "entity", name: "Alice", entityType: "person", observations: ["likes tea"] }),
      JSON.stringify({ type: "entity", name: "Bob", entityType: "person", observations: [] }),
      JSON.stringify({ type: "relation", from: "Alice", to: "Bob", relationType: "knows" }),
      "this is not json",
      JSON.stringify({ type: "memory", content: "Alice met Bob in 2019", tags: ["history"] }),
      "",
    ];
    const first = await service.importLines(lines);
    expect(first.imported).toEqual({ entities: 2, observations: 1, relations: 1, memories: 1 });
    expect(first.skipped).toEqual([{ line: 4, reason: "not JSON" }]);
    const again = await service.importLines(lines);
    expect(again.imported).toEqual({ entities: 0, observations: 0, relations: 0, memories: 0 });
    expect((await service.listMemories({}, undefined, 5))[0]).toMatchObject({ source: "import", tags: ["history"] });
  });

  it("strips hidden characters from what it stores", async () => {
    const sneaky = "Alice\u200b likes\u202e tea\u{E0041}";
    await service.createEntities([{ name: "Ali\u200bce", entityType: "person", observations: [sneaky] }]);
    const [alice] = await service.openNodes(["Alice"]);
    expect(alice?.observations).toEqual(["Alice likes tea"]);
    const id = await remember(`remember ${sneaky}`);
    expect((await service.getMemories([id]))[0]?.content).toBe("remember Alice likes tea");
  });
});

describe("memory service on a busy SQLite store", () => {
  it("answers `unavailable` when another process holds the write lock too long, and works once it lets go", async () => {
    const dir = mkdtempSync(join(tmpdir(), "memory-busy-"));
    const path = join(dir, "memory.db");
    const service = new MemoryService({
      store: await openSqliteStore(path, { busyTimeoutMs: 50 }),
      embedder: undefined,
      minSimilarity: 0.25,
      log,
    });
    const other = new Database(path);
    try {
      other.exec("BEGIN IMMEDIATE");
      const error = await service
        .createEntities([{ name: "A", entityType: "t", observations: [] }])
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ToolError);
      expect((error as ToolError).code).toBe("unavailable");
      other.exec("ROLLBACK");
      expect(await service.createEntities([{ name: "A", entityType: "t", observations: [] }])).toHaveLength(1);
    } finally {
      other.close();
      await service.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
