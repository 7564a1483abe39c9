import { createServer, type Socket } from "node:net";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { openPostgresStore } from "../src/memory/postgres-store.ts";
import type { MemoryStore, StoredVector } from "../src/memory/store.ts";
import { MissingEntityError } from "../src/memory/store.ts";
import { hashText } from "../src/memory/text.ts";
import type { EmbeddingSpace, NewMemory } from "../src/memory/types.ts";
import { normalize } from "../src/memory/vectors.ts";
import { type OpenedStore, openTestStore, STORE_KINDS } from "./support/stores.ts";

const memory = (content: string, extra: Partial<NewMemory> = {}): NewMemory => ({
  content,
  contentHash: hashText(content),
  tags: [],
  metadata: {},
  entities: [],
  source: "test",
  ...extra,
});

/** A unit vector pointing mostly along one axis, so nearest-neighbour answers are known. */
function axis(dimensions: number, index: number, noise = 0): Float32Array {
  const v = new Float32Array(dimensions);
  v[index % dimensions] = 1;
  for (let i = 0; i < dimensions; i++) v[i] = (v[i] as number) + noise * Math.sin(i * 7 + index);
  return normalize(v);
}

describe.each(STORE_KINDS)("%s store", (kind) => {
  let opened: OpenedStore;
  let store: MemoryStore;

  beforeEach(async () => {
    opened = await openTestStore(kind);
    store = opened.store;
  });
  afterEach(async () => {
    await opened.cleanup();
  });

  describe("knowledge graph", () => {
    it("creates only new entities, skipping existing names and repeats within a call", async () => {
      const first = await store.createEntities([
        { name: "Alice", entityType: "person", observations: ["likes tea", "likes tea"] },
        { name: "Alice", entityType: "robot", observations: [] },
      ]);
      expect(first).toEqual([{ name: "Alice", entityType: "person", observations: ["likes tea"] }]);
      const second = await store.createEntities([
        { name: "Alice", entityType: "person", observations: ["other"] },
        { name: "Bob", entityType: "person", observations: [] },
      ]);
      expect(second.map((e) => e.name)).toEqual(["Bob"]);
      const [alice] = await store.getEntities(["Alice"]);
      expect(alice?.observations).toEqual(["likes tea"]);
      expect(await store.graphCounts()).toEqual({ entities: 2, relations: 0, observations: 1 });
    });

    it("creates relations once, even to entities that do not exist yet (as the official server does)", async () => {
      const r = { from: "Alice", to: "Acme", relationType: "works_at" };
      expect(await store.createRelations([r, r])).toEqual([r]);
      expect(await store.createRelations([r])).toEqual([]);
      expect((await store.relationsTouching(["Acme"], 10)).relations).toEqual([r]);
    });

    it("adds observations atomically: a missing entity fails the whole call and changes nothing", async () => {
      await store.createEntities([{ name: "Alice", entityType: "person", observations: ["a"] }]);
      await expect(
        store.addObservations([
          { entityName: "Alice", contents: ["b"] },
          { entityName: "Nobody", contents: ["c"] },
        ]),
      ).rejects.toBeInstanceOf(MissingEntityError);
      expect((await store.getEntities(["Alice"]))[0]?.observations).toEqual(["a"]);
      const added = await store.addObservations([
        { entityName: "Alice", contents: ["a", "b", "b"] },
        { entityName: "Alice", contents: ["b", "c"] },
      ]);
      expect(added).toEqual([
        { entityName: "Alice", addedObservations: ["b"] },
        { entityName: "Alice", addedObservations: ["c"] },
      ]);
    });

    it("deletes entities with their relations, observations and memory links", async () => {
      await store.createEntities([
        { name: "A", entityType: "t", observations: ["x"] },
        { name: "B", entityType: "t", observations: [] },
        { name: "C", entityType: "t", observations: [] },
      ]);
      await store.createRelations([
        { from: "A", to: "B", relationType: "r" },
        { from: "C", to: "A", relationType: "r" },
        { from: "B", to: "C", relationType: "r" },
      ]);
      const { id } = await store.insertMemory(memory("about A", { entities: ["A", "B"] }));
      expect(await store.deleteEntities(["A", "Nobody"])).toBe(1);
      expect(await store.graphCounts()).toEqual({ entities: 2, relations: 1, observations: 0 });
      expect((await store.getMemories([id]))[0]?.entities).toEqual(["B"]);
      expect(await store.deleteRelations([{ from: "B", to: "C", relationType: "r" }])).toBe(1);
      expect(await store.deleteRelations([{ from: "B", to: "C", relationType: "r" }])).toBe(0);
    });

    it("deletes observations and ignores unknown ones", async () => {
      await store.createEntities([{ name: "A", entityType: "t", observations: ["x", "y", "z"] }]);
      const deleted = await store.deleteObservations([
        { entityName: "A", observations: ["x", "nope"] },
        { entityName: "Nobody", observations: ["y"] },
      ]);
      expect(deleted).toBe(1);
      expect((await store.getEntities(["A"]))[0]?.observations).toEqual(["y", "z"]);
    });

    it("pages through the whole graph, entities first then relations, without gaps or repeats", async () => {
      await store.createEntities(
        Array.from({ length: 7 }, (_, i) => ({ name: `E${i}`, entityType: "t", observations: [`o${i}`] })),
      );
      await store.createRelations(
        Array.from({ length: 5 }, (_, i) => ({ from: `E${i}`, to: `E${i + 1}`, relationType: "next" })),
      );
      const seen: string[] = [];
      let position: Parameters<MemoryStore["readGraph"]>[0];
      let pages = 0;
      for (;;) {
        const page = await store.readGraph(position, 3);
        pages++;
        for (const item of page.items)
          seen.push(item.kind === "entity" ? item.entity.name : `${item.relation.from}->${item.relation.to}`);
        const last = page.items.at(-1);
        if (!page.more || !last) break;
        position = { phase: last.kind === "entity" ? "entities" : "relations", after: last.id };
      }
      expect(seen).toEqual([
        ...Array.from({ length: 7 }, (_, i) => `E${i}`),
        ...Array.from({ length: 5 }, (_, i) => `E${i}->E${i + 1}`),
      ]);
      expect(pages).toBe(4);
    });

    it("finds entities by substring of name, type or observation, case-insensitively, and by words", async () => {
      await store.createEntities([
        { name: "Alice Smith", entityType: "person", observations: ["Works on the Atlas project"] },
        { name: "Atlas", entityType: "project", observations: ["A mapping tool"] },
        { name: "Bob", entityType: "person", observations: ["Enjoys hiking"] },
      ]);
      const ids = async (q: string) => {
        const found = await store.searchEntities(q, 10);
        const named = await store.getEntitiesById(found.substring.map((m) => m.id));
        return named.map((e) => e.name).sort();
      };
      expect(await ids("atlas")).toEqual(["Alice Smith", "Atlas"]);
      expect(await ids("PERSON")).toEqual(["Alice Smith", "Bob"]);
      expect(await ids("iking")).toEqual(["Bob"]);
      expect(await ids("b")).toEqual(["Bob"]);
      expect(await ids("s")).toEqual(["Alice Smith", "Atlas", "Bob"]);
      expect(await ids("100% sure")).toEqual([]);
      expect(await ids('"quoted" OR x')).toEqual([]);
      const words = await store.searchEntities("hiking mapping", 10);
      expect(words.substring).toEqual([]);
      const named = await store.getEntitiesById(words.terms.map((m) => m.id));
      expect(named.map((e) => e.name).sort()).toEqual(["Atlas", "Bob"]);
    });

    it("returns entities in the order asked and skips unknown names", async () => {
      await store.createEntities([
        { name: "A", entityType: "t", observations: [] },
        { name: "B", entityType: "t", observations: [] },
      ]);
      expect((await store.getEntities(["B", "Z", "A", "B"])).map((e) => e.name)).toEqual(["B", "A"]);
    });
  });

  describe("memories", () => {
    it("stores a memory once: identical content merges tags and links into the first", async () => {
      const a = await store.insertMemory(memory("Alice likes green tea", { tags: ["pref"], entities: ["Alice"] }));
      const b = await store.insertMemory(memory("Alice likes green tea", { tags: ["drink"], entities: ["Tea"] }));
      expect(b).toEqual({ id: a.id, duplicate: true });
      const [stored] = await store.getMemories([a.id]);
      expect(stored?.tags).toEqual(["drink", "pref"]);
      expect(stored?.entities).toEqual(["Alice", "Tea"]);
      expect(await store.countMemories({})).toBe(1);
    });

    it("updates content, tags, metadata and links, and reports a missing id", async () => {
      const { id } = await store.insertMemory(memory("v1", { tags: ["a", "b"], metadata: { keep: 1, drop: 2 } }));
      const updated = await store.updateMemory(id, {
        content: { text: "v2", hash: hashText("v2") },
        addTags: ["c"],
        removeTags: ["a"],
        metadata: { drop: null, add: "x" },
        entities: ["E"],
      });
      expect(updated).toMatchObject({
        id,
        content: "v2",
        tags: ["b", "c"],
        metadata: { keep: 1, add: "x" },
        entities: ["E"],
      });
      expect(updated?.updatedAt).toBeGreaterThanOrEqual(updated?.createdAt ?? 0);
      expect(await store.updateMemory(id + 1000, { tags: ["x"] })).toBeUndefined();
      expect((await store.searchMemories(["v2"], {}, 10)).map((r) => r.id)).toEqual([id]);
      expect(await store.searchMemories(["v1"], {}, 10)).toEqual([]);
    });

    it("deletes memories and reports which existed", async () => {
      const { id } = await store.insertMemory(memory("gone soon"));
      expect(await store.deleteMemories([id, id, 999_999])).toEqual([id]);
      expect(await store.getMemories([id])).toEqual([]);
      expect(await store.searchMemories(["gone"], {}, 10)).toEqual([]);
    });

    it("lists newest first with filters on tags (all of), entity and time, and pages by id", async () => {
      const ids: number[] = [];
      for (let i = 0; i < 6; i++) {
        ids.push(
          (
            await store.insertMemory(
              memory(`note ${i}`, {
                tags: i % 2 === 0 ? ["even", "x"] : ["odd"],
                entities: i < 3 ? ["Low"] : [],
                createdAt: 1_000_000 + i * 1000,
              }),
            )
          ).id,
        );
      }
      const page1 = await store.listMemories({}, undefined, 4);
      expect(page1.map((m) => m.content)).toEqual(["note 5", "note 4", "note 3", "note 2"]);
      const page2 = await store.listMemories({}, page1.at(-1)?.id, 4);
      expect(page2.map((m) => m.content)).toEqual(["note 1", "note 0"]);
      expect((await store.listMemories({ tags: ["even", "x"] }, undefined, 10)).map((m) => m.content)).toEqual([
        "note 4",
        "note 2",
        "note 0",
      ]);
      expect(await store.countMemories({ tags: ["even", "odd"] })).toBe(0);
      expect(await store.countMemories({ entity: "Low" })).toBe(3);
      expect(await store.countMemories({ since: 1_002_000, until: 1_004_000 })).toBe(2);
    });

    it("ranks full-text matches and applies filters to them", async () => {
      const tea = await store.insertMemory(memory("Alice drinks green tea every morning", { tags: ["pref"] }));
      const both = await store.insertMemory(memory("Tea and more tea: Alice is a tea person", { tags: ["pref"] }));
      await store.insertMemory(memory("The build server runs on Fridays", { tags: ["work"] }));
      const hits = await store.searchMemories(["tea"], {}, 10);
      expect(hits.map((h) => h.id).sort()).toEqual([tea.id, both.id].sort());
      expect(hits[0]?.id).toBe(both.id);
      expect(await store.searchMemories(["tea"], { tags: ["work"] }, 10)).toEqual([]);
      expect((await store.searchMemories(["fridays", "morning"], {}, 10)).length).toBe(2);
      // Tags are searchable words too.
      expect((await store.searchMemories(["work"], {}, 10)).length).toBe(1);
    });
  });

  describe("vectors", () => {
    const dims = 64;
    let space: EmbeddingSpace;
    const put = async (
      kindOf: "memory" | "entity",
      id: number,
      revision: number,
      vector: Float32Array,
      text = String(id),
    ) =>
      store.putVectors(space, [
        { kind: kindOf, id, revision, contentHash: hashText(text), vector } satisfies StoredVector,
      ]);

    beforeEach(async () => {
      space = await store.embeddingSpace("model-a", dims);
    });

    it("keeps one id per model and dimension", async () => {
      expect(await store.embeddingSpace("model-a", dims)).toEqual(space);
      const other = await store.embeddingSpace("model-a", 32);
      expect(other.id).not.toBe(space.id);
    });

    it("finds nearest memories, exactly rescored, with and without filters", async () => {
      const ids: number[] = [];
      for (let i = 0; i < 40; i++) {
        const { id } = await store.insertMemory(memory(`m${i}`, { tags: i % 2 ? ["odd"] : ["even"] }));
        ids.push(id);
        await put("memory", id, 0, axis(dims, i, 0.05), `m${i}`);
      }
      const query = axis(dims, 7, 0.05);
      const hits = await store.nearest("memory", space, query, 3);
      expect(hits[0]?.id).toBe(ids[7]);
      expect(hits[0]?.similarity).toBeGreaterThan(0.99);
      expect(hits.length).toBe(3);
      for (let i = 1; i < hits.length; i++) expect(hits[i - 1]!.similarity).toBeGreaterThanOrEqual(hits[i]!.similarity);
      const even = await store.nearest("memory", space, query, 3, { tags: ["even"] });
      expect(even.map((h) => h.id)).not.toContain(ids[7]);
      expect(even.every((h) => ids.indexOf(h.id) % 2 === 0)).toBe(true);
      const sims = await store.similarities("memory", space, query, [ids[7]!, ids[8]!]);
      expect(new Map(sims.map((s) => [s.id, s.similarity])).get(ids[7]!)).toBeGreaterThan(0.99);
    });

    it("sees vectors written and deleted through another handle (another process)", async () => {
      const other = await opened.reopen();
      const { id } = await store.insertMemory(memory("first"));
      await put("memory", id, 0, axis(dims, 1));
      expect((await store.nearest("memory", space, axis(dims, 1), 1))[0]?.id).toBe(id);
      const second = await other.insertMemory(memory("second"));
      await other.putVectors(space, [
        { kind: "memory", id: second.id, revision: 0, contentHash: hashText("second"), vector: axis(dims, 2) },
      ]);
      expect((await store.nearest("memory", space, axis(dims, 2), 1))[0]?.id).toBe(second.id);
      await other.deleteMemories([second.id]);
      expect((await store.nearest("memory", space, axis(dims, 2), 5)).map((h) => h.id)).toEqual([id]);
    });

    it("skips a vector whose item changed or vanished since it was read", async () => {
      const { id } = await store.insertMemory(memory("old text"));
      await store.updateMemory(id, { content: { text: "new text", hash: hashText("new text") } });
      expect(await put("memory", id, 0, axis(dims, 3))).toBe(0);
      const [pending] = await store.pendingEmbeddings("memory", space, "missing", 0, 10);
      expect(pending).toMatchObject({ id, text: "new text" });
      expect(await put("memory", id, pending!.revision, axis(dims, 3))).toBe(1);
      expect(await put("memory", id + 100, 0, axis(dims, 3))).toBe(0);
    });

    it("drops an entity's vector when its observations change, and composes its text from all parts", async () => {
      await store.createEntities([{ name: "Alice", entityType: "person", observations: ["likes tea"] }]);
      const [pending] = await store.pendingEmbeddings("entity", space, "missing", 0, 10);
      expect(pending?.text).toBe("Alice (person)\nlikes tea");
      await put("entity", pending!.id, pending!.revision, axis(dims, 4));
      expect(await store.pendingEmbeddings("entity", space, "missing", 0, 10)).toEqual([]);
      await store.addObservations([{ entityName: "Alice", contents: ["plays chess"] }]);
      const [again] = await store.pendingEmbeddings("entity", space, "missing", 0, 10);
      expect(again?.text).toBe("Alice (person)\nlikes tea\nplays chess");
      expect((await store.vectorCounts("entity", space)).missing).toBe(1);
    });

    it("counts current, stale and missing vectors, and lists by scope", async () => {
      const a = await store.insertMemory(memory("a"));
      const b = await store.insertMemory(memory("b"));
      await store.insertMemory(memory("c"));
      const older = await store.embeddingSpace("model-old", 16);
      await put("memory", a.id, 0, axis(dims, 1), "a");
      await store.putVectors(older, [
        { kind: "memory", id: b.id, revision: 0, contentHash: hashText("b"), vector: axis(16, 1) },
      ]);
      expect(await store.vectorCounts("memory", space)).toEqual({ current: 1, stale: 1, missing: 1 });
      expect((await store.pendingEmbeddings("memory", space, "missing", 0, 10)).length).toBe(1);
      expect((await store.pendingEmbeddings("memory", space, "stale", 0, 10)).length).toBe(2);
      expect((await store.pendingEmbeddings("memory", space, "all", 0, 10)).length).toBe(3);
      const reused = await store.vectorsByHash(space, [hashText("a"), hashText("b")]);
      expect([...reused.keys()]).toEqual([hashText("a")]);
      expect(reused.get(hashText("a"))?.length).toBe(dims);
    });

    it("refuses a vector of the wrong length", async () => {
      const { id } = await store.insertMemory(memory("a"));
      await expect(put("memory", id, 0, axis(dims + 1, 0))).rejects.toThrow(/dimensions/);
    });
  });

  it("imports batches idempotently, merging observations into existing entities", async () => {
    const batch = {
      entities: [
        { name: "A", entityType: "t", observations: ["x"] },
        { name: "B", entityType: "t", observations: [] },
      ],
      relations: [{ from: "A", to: "B", relationType: "r" }],
      memories: [memory("m1")],
    };
    expect(await store.importBatch(batch)).toEqual({ entities: 2, observations: 1, relations: 1, memories: 1 });
    expect(await store.importBatch(batch)).toEqual({ entities: 0, observations: 0, relations: 0, memories: 0 });
    expect(
      await store.importBatch({
        entities: [{ name: "A", entityType: "t", observations: ["x", "y"] }],
        relations: [],
        memories: [],
      }),
    ).toEqual({ entities: 0, observations: 1, relations: 0, memories: 0 });
    const found = await store.searchEntities("y", 10);
    expect(found.substring.length).toBe(1);
  });

  it("keeps bookkeeping values", async () => {
    expect(await store.getMeta("k")).toBeUndefined();
    await store.setMeta("k", "v1");
    await store.setMeta("k", "v2");
    expect(await store.getMeta("k")).toBe("v2");
  });
});

describe("postgres store on a database that does not answer", () => {
  it("fails to open after the connect timeout instead of hanging", async () => {
    // Accepts connections and never says a word, like a host behind a black-holing firewall.
    const sockets = new Set<Socket>();
    const silent = createServer((socket) => {
      sockets.add(socket);
      socket.on("error", () => undefined);
    });
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    const { port } = silent.address() as { port: number };
    try {
      await expect(
        openPostgresStore(`postgresql://memory@127.0.0.1:${port}/memory`, { connectTimeoutMs: 300 }),
      ).rejects.toThrow(/timeout/i);
      expect(sockets.size).toBeGreaterThan(0);
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  });
});
