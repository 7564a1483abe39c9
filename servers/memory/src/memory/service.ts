import { type Logger, sanitizeText, ToolError } from "@portside/shared";
import { type Embedder, EmbeddingError } from "./embedder.js";
import { parseLine } from "./jsonl.js";
import {
  type EmbeddingScope,
  type EntityWithId,
  type ImportBatch,
  type MemoryStore,
  MissingEntityError,
  type StoredVector,
} from "./store.js";
import { hashText, queryTerms } from "./text.js";
import type {
  AddedObservations,
  EmbeddingSpace,
  Entity,
  GraphPosition,
  ImportedCounts,
  Memory,
  MemoryFilter,
  MemoryPatch,
  ObservationAddition,
  ObservationDeletion,
  PendingEmbedding,
  Relation,
  VectorKind,
} from "./types.js";

export interface ServiceOptions {
  store: MemoryStore;
  embedder: Embedder | undefined;
  /** Why semantic search is off, when it is (shown to the model). */
  embeddingsOffReason?: string;
  /** A match found only by meaning must be at least this similar (cosine) to count. */
  minSimilarity: number;
  log: Logger;
  /** How long background embedding waits after a failure before trying again. */
  retryDelayMs?: number;
}

export interface SemanticState {
  enabled: boolean;
  model?: string;
  endpoint?: string;
  /** Why it is off, or what is wrong with it right now. */
  note?: string;
}

export interface RankedEntity {
  entity: EntityWithId;
  score: number;
  /** Which searches found it. */
  matchedBy: Array<"substring" | "words" | "meaning">;
  similarity?: number;
}

export interface RecallOptions {
  query: string;
  k: number;
  minScore?: number;
  filter: MemoryFilter;
  mode: "hybrid" | "full_text" | "semantic";
}

export interface RecalledMemory extends Memory {
  score: number;
  similarity?: number;
  /** True when the query's words matched (full-text). */
  keywordMatch: boolean;
}

export interface StoredMemory {
  memory: Memory;
  duplicate: boolean;
  embedded: boolean;
  note?: string;
}

export type Progress = (done: number, total: number | undefined, message: string) => void | Promise<void>;

export interface ImportOutcome {
  imported: ImportedCounts;
  lines: number;
  skipped: Array<{ line: number; reason: string }>;
  skippedCount: number;
}

/** Weight of the vector similarity in the hybrid score; the rest is the normalised BM25. */
const SEMANTIC_WEIGHT = 0.7;
/** Reciprocal-rank fusion constant (the usual 60). */
const RRF_K = 60;
/** The fused score of an entity ranked first by all three searches (substring ×2, words, meaning). */
const MAX_FUSED = (2 + 1 + 1) / RRF_K;
const QUERY_CACHE_SIZE = 256;
const IMPORT_BATCH = 500;
const SWEEP_RETRY_MS = 30_000;

/** Text a model gave us: hidden characters out, so what is stored is what a person would read. */
const clean = (text: string): string => sanitizeText(text);

/**
 * The memory server's behaviour, with no MCP in it: the knowledge graph with the official
 * server's semantics, semantic memories with hybrid recall, embedding upkeep and import.
 */
export class MemoryService {
  readonly store: MemoryStore;
  readonly embedder: Embedder | undefined;
  private readonly log: Logger;
  private readonly minSimilarity: number;
  private readonly offReason: string | undefined;
  private readonly retryDelayMs: number;
  private space: EmbeddingSpace | undefined;
  private lastEmbeddingError: string | undefined;
  private readonly queryCache = new Map<string, Float32Array>();
  private sweeping: Promise<void> | undefined;
  private sweepAgain = false;
  private readonly sweepKinds = new Set<VectorKind>();
  private warmed = false;
  private staleVectors = 0;
  private readonly closing = new AbortController();

  constructor(options: ServiceOptions) {
    this.store = guardStore(options.store);
    this.embedder = options.store.supportsVectors ? options.embedder : undefined;
    this.log = options.log;
    this.minSimilarity = options.minSimilarity;
    this.retryDelayMs = options.retryDelayMs ?? SWEEP_RETRY_MS;
    this.offReason =
      options.embedder && !options.store.supportsVectors
        ? "the PostgreSQL database has no pgvector extension (CREATE EXTENSION vector)"
        : options.embeddingsOffReason;
  }

  /** Picks up the embedding space this model used before, so existing vectors count from the start. */
  async init(dimensions: number | undefined): Promise<void> {
    if (!this.embedder) return;
    if (dimensions !== undefined) {
      this.space = await this.store.embeddingSpace(this.embedder.model, dimensions);
    } else {
      const last = await this.store.getMeta(`space:${this.embedder.model}`);
      if (last !== undefined && Number.isInteger(Number(last))) {
        this.space = await this.store.embeddingSpace(this.embedder.model, Number(last));
      }
    }
    const [memories, entities] = await Promise.all([
      this.store.vectorCounts("memory", this.space),
      this.store.vectorCounts("entity", this.space),
    ]);
    this.staleVectors = memories.stale + entities.stale;
  }

  /** Items whose vectors came from another model when the server started (until re-embedded). */
  staleAtStart(): number {
    return this.staleVectors;
  }

  semantic(): SemanticState {
    if (!this.embedder) {
      return { enabled: false, note: this.offReason ?? "no embeddings endpoint is configured" };
    }
    return {
      enabled: true,
      model: this.embedder.model,
      endpoint: this.embedder.endpoint,
      ...(this.lastEmbeddingError ? { note: `last embedding attempt failed: ${this.lastEmbeddingError}` } : {}),
    };
  }

  // ── Knowledge graph ────────────────────────────────────────────────────────────────────────────

  async createEntities(entities: Entity[]): Promise<Entity[]> {
    const created = await this.store.createEntities(entities.map(cleanEntity));
    if (created.length > 0) this.scheduleSweep(0, ["entity"]);
    return created;
  }

  createRelations(relations: Relation[]): Promise<Relation[]> {
    return this.store.createRelations(relations.map(cleanRelation));
  }

  async addObservations(additions: ObservationAddition[]): Promise<AddedObservations[]> {
    try {
      const results = await this.store.addObservations(
        additions.map((a) => ({ entityName: clean(a.entityName), contents: a.contents.map(clean) })),
      );
      if (results.some((r) => r.addedObservations.length > 0)) this.scheduleSweep(0, ["entity"]);
      return results;
    } catch (error) {
      if (error instanceof MissingEntityError) {
        throw new ToolError("not_found", `Entity with name ${JSON.stringify(error.entityName)} not found.`, {
          hint: "Create it first with create_entities (nothing was added by this call), or check the name with search_nodes.",
          details: { argument: "observations", entityName: error.entityName },
        });
      }
      throw error;
    }
  }

  deleteEntities(names: string[]): Promise<number> {
    return this.store.deleteEntities(names.map(clean));
  }

  async deleteObservations(deletions: ObservationDeletion[]): Promise<number> {
    const deleted = await this.store.deleteObservations(
      deletions.map((d) => ({ entityName: clean(d.entityName), observations: d.observations.map(clean) })),
    );
    if (deleted > 0) this.scheduleSweep(0, ["entity"]);
    return deleted;
  }

  deleteRelations(relations: Relation[]): Promise<number> {
    return this.store.deleteRelations(relations.map(cleanRelation));
  }

  readGraph(position: GraphPosition | undefined, limit: number) {
    return this.store.readGraph(position, limit);
  }

  openNodes(names: string[]): Promise<EntityWithId[]> {
    return this.store.getEntities(names.map(clean));
  }

  relationsTouching(names: string[], limit: number) {
    return this.store.relationsTouching(names, limit);
  }

  /**
   * Entities matching a query, best first: a substring match of the whole query (what the official
   * server does) ranks highest, then matches on some of its words, then matches by meaning when
   * embeddings are on; the lists are fused by reciprocal rank.
   */
  async searchNodes(
    query: string,
    want: number,
    signal?: AbortSignal,
  ): Promise<{ ranked: RankedEntity[]; note?: string }> {
    const q = clean(query);
    const lexical = await this.store.searchEntities(q, want);
    const scores = new Map<number, { score: number; matchedBy: RankedEntity["matchedBy"]; similarity?: number }>();
    const add = (
      id: number,
      rank: number,
      weight: number,
      by: RankedEntity["matchedBy"][number],
      similarity?: number,
    ) => {
      let entry = scores.get(id);
      if (!entry) {
        entry = { score: 0, matchedBy: [] };
        scores.set(id, entry);
      }
      entry.score += weight / (RRF_K + rank);
      if (!entry.matchedBy.includes(by)) entry.matchedBy.push(by);
      if (similarity !== undefined) entry.similarity = similarity;
    };
    for (const [rank, hit] of lexical.substring.entries()) add(hit.id, rank, 2, "substring");
    for (const [rank, hit] of lexical.terms.entries()) add(hit.id, rank, 1, "words");
    let note: string | undefined;
    if (this.embedder && q.trim() !== "") {
      try {
        const { vector, space } = await this.embedQuery(q, signal);
        const hits = await this.store.nearest("entity", space, vector, want);
        let rank = 0;
        for (const hit of hits) {
          if (hit.similarity < this.minSimilarity) continue;
          add(hit.id, rank++, 1, "meaning", round(hit.similarity));
        }
      } catch (error) {
        note = `Search by meaning was skipped: ${this.embeddingFailure(error)}. Full-text results only.`;
      }
    }
    const ordered = [...scores.entries()].sort((a, b) => b[1].score - a[1].score || a[0] - b[0]).slice(0, want);
    const entities = await this.store.getEntitiesById(ordered.map(([id]) => id));
    const byId = new Map(entities.map((e) => [e.id, e]));
    const ranked: RankedEntity[] = [];
    for (const [id, entry] of ordered) {
      const entity = byId.get(id);
      if (!entity) continue;
      ranked.push({
        entity,
        score: round(entry.score / MAX_FUSED),
        matchedBy: entry.matchedBy,
        ...(entry.similarity !== undefined ? { similarity: entry.similarity } : {}),
      });
    }
    return { ranked, ...(note ? { note } : {}) };
  }

  // ── Memories ───────────────────────────────────────────────────────────────────────────────────

  async remember(
    input: { content: string; tags: string[]; metadata: Record<string, unknown>; entities: string[] },
    source: string | null,
    signal?: AbortSignal,
  ): Promise<StoredMemory> {
    const content = clean(input.content);
    const inserted = await this.store.insertMemory({
      content,
      contentHash: hashText(content),
      tags: [...new Set(input.tags)],
      metadata: input.metadata,
      entities: [...new Set(input.entities.map(clean))],
      source,
    });
    const embedding = await this.embedOne("memory", inserted.id, signal);
    const [memory] = await this.store.getMemories([inserted.id]);
    if (!memory) throw new Error(`memory ${inserted.id} vanished right after it was stored`);
    return { memory, duplicate: inserted.duplicate, ...embedding };
  }

  async update(id: number, patch: MemoryPatch, signal?: AbortSignal): Promise<StoredMemory | undefined> {
    const cleaned: MemoryPatch = { ...patch };
    if (patch.content) {
      const text = clean(patch.content.text);
      cleaned.content = { text, hash: hashText(text) };
    }
    if (patch.entities) cleaned.entities = [...new Set(patch.entities.map(clean))];
    const memory = await this.store.updateMemory(id, cleaned);
    if (!memory) return undefined;
    const embedding = patch.content ? await this.embedOne("memory", id, signal) : { embedded: true };
    return { memory, duplicate: false, ...embedding };
  }

  forget(ids: number[]): Promise<number[]> {
    return this.store.deleteMemories(ids);
  }

  getMemories(ids: number[]): Promise<Memory[]> {
    return this.store.getMemories(ids);
  }

  listMemories(filter: MemoryFilter, beforeId: number | undefined, limit: number): Promise<Memory[]> {
    return this.store.listMemories(filter, beforeId, limit);
  }

  countMemories(filter: MemoryFilter): Promise<number> {
    return this.store.countMemories(filter);
  }

  /**
   * Hybrid recall. Full-text (BM25) and vector candidates are merged; each result's score is
   * 0.7 × cosine similarity + 0.3 × its BM25 relative to the best full-text hit (full-text only:
   * the relative BM25 alone). Matches found only by meaning must reach the similarity floor.
   */
  async recall(
    options: RecallOptions,
    signal?: AbortSignal,
  ): Promise<{ results: RecalledMemory[]; semanticUsed: boolean; note?: string }> {
    const query = clean(options.query);
    const pool = Math.min(500, Math.max(options.k * 5, 50));
    const terms = queryTerms(query);
    const wantsSemantic = options.mode !== "full_text";
    let note: string | undefined;
    let semanticUsed = false;
    const lexical = options.mode === "semantic" ? [] : await this.store.searchMemories(terms, options.filter, pool);
    const similarity = new Map<number, number>();
    if (wantsSemantic && this.embedder) {
      try {
        const { vector, space } = await this.embedQuery(query, signal);
        const hits = await this.store.nearest("memory", space, vector, pool, options.filter);
        for (const hit of hits) similarity.set(hit.id, hit.similarity);
        const unscored = lexical.map((l) => l.id).filter((id) => !similarity.has(id));
        for (const hit of await this.store.similarities("memory", space, vector, unscored)) {
          similarity.set(hit.id, hit.similarity);
        }
        semanticUsed = true;
        if (this.staleVectors > 0) {
          note = `${this.staleVectors} items still have vectors from another embedding model and are found by keyword only; run reembed_memories.`;
        }
      } catch (error) {
        note = `Search by meaning was skipped: ${this.embeddingFailure(error)}. Results are full-text only.`;
      }
    } else if (wantsSemantic) {
      note = `Search by meaning is off (${this.semantic().note}); results are full-text only.`;
    }
    if (lexical.length === 0 && terms.length === 0 && !semanticUsed) {
      note ??= "The query has no searchable words; try specific words from what you want to recall.";
    }
    const best = lexical.reduce((max, l) => Math.max(max, l.score), 0);
    const keyword = new Map(lexical.map((l) => [l.id, best > 0 ? l.score / best : 0]));
    const candidates = new Set<number>([...keyword.keys(), ...similarity.keys()]);
    const scored: Array<{ id: number; score: number; similarity?: number; keywordMatch: boolean }> = [];
    for (const id of candidates) {
      const lex = keyword.get(id);
      const sim = similarity.get(id);
      if (lex === undefined && sim !== undefined && sim < this.minSimilarity && options.minScore === undefined)
        continue;
      const score = semanticUsed
        ? SEMANTIC_WEIGHT * Math.max(0, sim ?? 0) + (1 - SEMANTIC_WEIGHT) * (lex ?? 0)
        : (lex ?? 0);
      if (options.minScore !== undefined && score < options.minScore) continue;
      scored.push({
        id,
        score,
        ...(sim !== undefined ? { similarity: round(sim) } : {}),
        keywordMatch: lex !== undefined,
      });
    }
    scored.sort((a, b) => b.score - a.score || b.id - a.id);
    const top = scored.slice(0, options.k);
    const memories = new Map((await this.store.getMemories(top.map((t) => t.id))).map((m) => [m.id, m]));
    const results: RecalledMemory[] = [];
    for (const t of top) {
      const memory = memories.get(t.id);
      if (!memory) continue;
      results.push({
        ...memory,
        score: round(t.score),
        keywordMatch: t.keywordMatch,
        ...(t.similarity !== undefined ? { similarity: t.similarity } : {}),
      });
    }
    return { results, semanticUsed, ...(note ? { note } : {}) };
  }

  // ── Embeddings ─────────────────────────────────────────────────────────────────────────────────

  private async spaceFor(dimensions: number): Promise<EmbeddingSpace> {
    if (!this.embedder) throw new Error("embeddings are off");
    if (this.space?.dimensions !== dimensions || this.space.model !== this.embedder.model) {
      this.space = await this.store.embeddingSpace(this.embedder.model, dimensions);
      await this.store.setMeta(`space:${this.embedder.model}`, String(dimensions));
    }
    return this.space;
  }

  /** The space vectors are written to now, if any embedding has happened (or one exists for the model). */
  currentSpace(): EmbeddingSpace | undefined {
    return this.space;
  }

  private async embedQuery(
    query: string,
    signal?: AbortSignal,
  ): Promise<{ vector: Float32Array; space: EmbeddingSpace }> {
    const embedder = this.embedder;
    if (!embedder) throw new Error("embeddings are off");
    const cached = this.queryCache.get(query);
    if (cached) {
      // Refresh its place in the LRU order.
      this.queryCache.delete(query);
      this.queryCache.set(query, cached);
      return { vector: cached, space: await this.spaceFor(cached.length) };
    }
    const { vectors } = await embedder.embed([query], signal);
    const vector = vectors[0] as Float32Array;
    this.lastEmbeddingError = undefined;
    this.queryCache.set(query, vector);
    if (this.queryCache.size > QUERY_CACHE_SIZE) this.queryCache.delete(this.queryCache.keys().next().value as string);
    return { vector, space: await this.spaceFor(vector.length) };
  }

  private embeddingFailure(error: unknown): string {
    const message = error instanceof EmbeddingError ? error.message : "the embeddings endpoint failed unexpectedly";
    if (!(error instanceof EmbeddingError)) this.log.warn("embedding failed", { error });
    this.lastEmbeddingError = message;
    return message;
  }

  /** Embeds one item now, so a memory can be recalled by meaning as soon as the call returns. */
  private async embedOne(
    kind: VectorKind,
    id: number,
    signal?: AbortSignal,
  ): Promise<{ embedded: boolean; note?: string }> {
    if (!this.embedder) return { embedded: false, note: `Stored for full-text search only: ${this.semantic().note}.` };
    try {
      const [item] = await this.store.pendingEmbeddings(kind, this.space, "stale", id - 1, 1);
      if (item && item.id === id) await this.embedItems([item], "missing", signal);
      return { embedded: true };
    } catch (error) {
      const why = this.embeddingFailure(error);
      this.scheduleSweep(this.retryDelayMs, [kind]);
      return {
        embedded: false,
        note: `Stored, but not yet searchable by meaning: ${why}. It will be embedded automatically when the endpoint answers.`,
      };
    }
  }

  /** Computes and stores vectors for items, reusing any vector already stored for the same text. */
  private async embedItems(items: PendingEmbedding[], scope: EmbeddingScope, signal?: AbortSignal): Promise<number> {
    const embedder = this.embedder;
    if (!embedder || items.length === 0) return 0;
    const hashes = items.map((item) => hashText(item.text));
    const reuse = scope !== "all" && this.space ? await this.store.vectorsByHash(this.space, hashes) : new Map();
    const toEmbed = items.map((item, i) => ({ item, hash: hashes[i] as string })).filter((x) => !reuse.has(x.hash));
    const fresh = new Map<string, Float32Array>();
    if (toEmbed.length > 0) {
      const { vectors } = await embedder.embed(
        toEmbed.map((x) => x.item.text),
        signal,
      );
      for (const [i, x] of toEmbed.entries()) fresh.set(x.hash, vectors[i] as Float32Array);
      this.lastEmbeddingError = undefined;
    }
    const sample = fresh.values().next().value ?? reuse.values().next().value;
    if (!sample) return 0;
    const space = await this.spaceFor(sample.length);
    const stored: StoredVector[] = [];
    items.forEach((item, i) => {
      const hash = hashes[i] as string;
      const vector = fresh.get(hash) ?? reuse.get(hash);
      if (vector && vector.length === space.dimensions) {
        stored.push({ kind: item.kind, id: item.id, revision: item.revision, contentHash: hash, vector });
      }
    });
    return this.store.putVectors(space, stored);
  }

  /**
   * Embeds everything in `scope` in batches, reporting progress; stops between batches when
   * cancelled. Returns how many vectors were written.
   */
  async embedPending(
    scope: EmbeddingScope,
    options: { signal?: AbortSignal; progress?: Progress; kinds?: VectorKind[] } = {},
  ): Promise<{ embedded: number; total: number }> {
    const embedder = this.embedder;
    if (!embedder) return { embedded: 0, total: 0 };
    const kinds = options.kinds ?? ["memory", "entity"];
    // Before the first vector of this model exists, every stored vector is from another model.
    const effective: EmbeddingScope = scope === "stale" && !this.space ? "all" : scope;
    let total = 0;
    // Counting costs a scan; only progress reports need it.
    for (const kind of options.progress ? kinds : []) {
      const counts = await this.store.vectorCounts(kind, this.space);
      total +=
        scope === "all"
          ? counts.current + counts.stale + counts.missing
          : counts.missing + (scope === "stale" ? counts.stale : 0);
    }
    let embedded = 0;
    let seen = 0;
    for (const kind of kinds) {
      let after = 0;
      for (;;) {
        options.signal?.throwIfAborted();
        const batch = await this.store.pendingEmbeddings(
          kind,
          this.space,
          effective,
          after,
          embedder.options.batchSize,
        );
        if (batch.length === 0) break;
        embedded += await this.embedItems(batch, effective, options.signal);
        seen += batch.length;
        after = (batch[batch.length - 1] as PendingEmbedding).id;
        await options.progress?.(seen, Math.max(total, seen), `embedded ${seen} of ${Math.max(total, seen)}`);
      }
    }
    if (scope !== "missing") this.staleVectors = 0;
    return { embedded, total };
  }

  /** Queues a background pass that embeds whatever of `kinds` has no vector yet (new or changed items). */
  scheduleSweep(delayMs = 0, kinds: VectorKind[] = ["memory", "entity"]): void {
    if (!this.embedder || this.closing.signal.aborted) return;
    for (const kind of kinds) this.sweepKinds.add(kind);
    this.sweepAgain = true;
    if (this.sweeping) return;
    this.sweeping = this.runSweeps(delayMs).finally(() => {
      this.sweeping = undefined;
    });
  }

  private async runSweeps(delayMs: number): Promise<void> {
    if (delayMs > 0) await sleep(delayMs, this.closing.signal);
    if (!this.warmed) {
      this.warmed = true;
      // Load the client and the vector index now rather than in the first call that needs them.
      await this.embedder?.preload().catch(() => undefined);
      if (this.space) {
        await this.store
          .warmUp(this.space)
          .catch((error: unknown) => this.log.warn("vector index warm-up failed", { error }));
      }
    }
    while (this.sweepAgain && !this.closing.signal.aborted) {
      this.sweepAgain = false;
      const kinds = [...this.sweepKinds];
      this.sweepKinds.clear();
      try {
        await this.embedPending("missing", { signal: this.closing.signal, kinds });
      } catch (error) {
        for (const kind of kinds) this.sweepKinds.add(kind);
        if (this.closing.signal.aborted) return;
        this.log.warn("background embedding failed; will retry", {
          reason: error instanceof EmbeddingError ? error.message : String(error),
        });
        this.lastEmbeddingError = error instanceof EmbeddingError ? error.message : "unexpected failure";
        await sleep(this.retryDelayMs, this.closing.signal);
        this.sweepAgain = true;
      }
    }
  }

  /** Waits until background embedding has nothing left to do (for tests and the CLI). */
  async idle(): Promise<void> {
    while (this.sweeping) await this.sweeping;
  }

  // ── Import ─────────────────────────────────────────────────────────────────────────────────────

  /**
   * Imports lines of the official server's memory.jsonl (and our export's memory lines). Idempotent:
   * existing entities gain only new observations, duplicate relations and memories are skipped.
   */
  async importLines(
    lines: AsyncIterable<string> | Iterable<string>,
    options: { signal?: AbortSignal; progress?: Progress; source?: string } = {},
  ): Promise<ImportOutcome> {
    const imported: ImportedCounts = { entities: 0, observations: 0, relations: 0, memories: 0 };
    const skipped: Array<{ line: number; reason: string }> = [];
    let skippedCount = 0;
    let lineNumber = 0;
    let batch: ImportBatch = { entities: [], relations: [], memories: [] };
    let batchSize = 0;
    const flush = async () => {
      if (batchSize === 0) return;
      options.signal?.throwIfAborted();
      const counts = await this.store.importBatch(batch);
      imported.entities += counts.entities;
      imported.observations += counts.observations;
      imported.relations += counts.relations;
      imported.memories += counts.memories;
      batch = { entities: [], relations: [], memories: [] };
      batchSize = 0;
      await options.progress?.(lineNumber, undefined, `imported ${lineNumber} lines`);
    };
    for await (const line of lines) {
      lineNumber++;
      const parsed = parseLine(line);
      switch (parsed.type) {
        case "skip":
          continue;
        case "invalid":
          skippedCount++;
          if (skipped.length < 20) skipped.push({ line: lineNumber, reason: parsed.reason });
          continue;
        case "entity":
          batch.entities.push(cleanEntity(parsed.entity));
          break;
        case "relation":
          batch.relations.push(cleanRelation(parsed.relation));
          break;
        case "memory": {
          const content = clean(parsed.memory.content);
          batch.memories.push({
            content,
            contentHash: hashText(content),
            tags: parsed.memory.tags,
            metadata: parsed.memory.metadata,
            entities: parsed.memory.entities.map(clean),
            source: parsed.memory.source ?? options.source ?? "import",
            ...(parsed.memory.createdAt !== undefined ? { createdAt: parsed.memory.createdAt } : {}),
          });
          break;
        }
      }
      if (++batchSize >= IMPORT_BATCH) await flush();
    }
    await flush();
    if (imported.entities + imported.observations + imported.relations + imported.memories > 0) {
      await this.store.optimize();
    }
    if (imported.entities + imported.observations + imported.memories > 0) this.scheduleSweep();
    return { imported, lines: lineNumber, skipped, skippedCount };
  }

  async close(): Promise<void> {
    this.closing.abort();
    await this.sweeping?.catch(() => undefined);
    await this.store.close();
  }
}

/** The store, with its transient failures turned into errors that say what to do. */
function guardStore(store: MemoryStore): MemoryStore {
  return new Proxy(store, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver) as unknown;
      if (typeof value !== "function") return value;
      return (...args: unknown[]) => {
        const result = (value as (...a: unknown[]) => unknown).apply(target, args);
        return result instanceof Promise
          ? result.catch((error: unknown) => Promise.reject(storeFailure(error)))
          : result;
      };
    },
  });
}

function storeFailure(error: unknown): unknown {
  const code = (error as { code?: unknown } | null)?.code;
  switch (code) {
    case "SQLITE_BUSY":
    case "SQLITE_LOCKED":
      return new ToolError(
        "unavailable",
        "The memory store is busy: another process has been writing to it for a while.",
        {
          hint: "Try again in a moment.",
          cause: error,
        },
      );
    case "SQLITE_FULL":
      return new ToolError("unavailable", "The disk that holds the memory store is full.", { cause: error });
    case "SQLITE_READONLY":
      return new ToolError("permission_denied", "The memory store file is read-only for this server.", {
        hint: "Check the file's permissions, or point --store at a writable file.",
        cause: error,
      });
    case "ECONNREFUSED":
    case "ECONNRESET":
    case "ENOTFOUND":
    case "ETIMEDOUT":
    case "57P01":
    case "57P03":
    case "08001":
    case "08006":
    case "53300":
      return new ToolError("unavailable", "The PostgreSQL database behind the memory cannot be reached right now.", {
        hint: "Try again shortly; if it persists, the operator should check the database.",
        cause: error,
      });
    case "40001":
    case "40P01":
      return new ToolError("conflict", "A concurrent change to the same memory got in the way.", {
        hint: "Try the call again.",
        cause: error,
      });
    default:
      return error;
  }
}

function cleanEntity(entity: Entity): Entity {
  return {
    name: clean(entity.name),
    entityType: clean(entity.entityType),
    observations: entity.observations.map(clean),
  };
}

function cleanRelation(relation: Relation): Relation {
  return { from: clean(relation.from), to: clean(relation.to), relationType: clean(relation.relationType) };
}

const round = (n: number): number => Math.round(n * 1000) / 1000;

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    timer.unref();
    function done() {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done, { once: true });
  });
}
