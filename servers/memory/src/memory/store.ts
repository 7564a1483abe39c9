import { queryTerms } from "./text.js";
import type {
  AddedObservations,
  EmbeddingSpace,
  Entity,
  GraphCounts,
  GraphPosition,
  ImportedCounts,
  Memory,
  MemoryFilter,
  MemoryPatch,
  NewMemory,
  ObservationAddition,
  ObservationDeletion,
  PendingEmbedding,
  RankedId,
  Relation,
  VectorCounts,
  VectorHit,
  VectorKind,
} from "./types.js";

export type EmbeddingScope = "missing" | "stale" | "all";

export type GraphItem =
  | { kind: "entity"; id: number; entity: Entity }
  | { kind: "relation"; id: number; relation: Relation };

export interface EntityWithId extends Entity {
  id: number;
}

export interface EntityMatches {
  /** Entities whose name, type or an observation contains the whole query (case-insensitive). */
  substring: RankedId[];
  /** Entities that contain some of the query's words, best first. */
  terms: RankedId[];
}

export interface StoredVector {
  kind: VectorKind;
  id: number;
  revision: number;
  contentHash: string;
  vector: Float32Array;
}

export interface ImportBatch {
  entities: Entity[];
  relations: Relation[];
  memories: NewMemory[];
}

export interface InsertedMemory {
  id: number;
  /** True when identical content was already stored; its tags and links were merged instead. */
  duplicate: boolean;
}

/**
 * Everything the memory server keeps. Two implementations (SQLite on disk, PostgreSQL + pgvector)
 * pass the same test suite. Every write method is one transaction: when it resolves, the change is
 * durable, and concurrent writers (other processes) never lose each other's changes.
 */
export interface MemoryStore {
  readonly kind: "sqlite" | "postgres";
  /** False on a PostgreSQL database without pgvector: full-text search only. */
  readonly supportsVectors: boolean;
  /** Where the data lives, safe to show (no credentials). */
  readonly location: string;

  // Knowledge graph (the official server's semantics).
  /** Creates entities whose names are new; returns only those. */
  createEntities(entities: Entity[]): Promise<Entity[]>;
  /** Creates relations that do not exist yet; returns only those. */
  createRelations(relations: Relation[]): Promise<Relation[]>;
  /** Adds new observations; throws {@link MissingEntityError} (changing nothing) if an entity is missing. */
  addObservations(additions: ObservationAddition[]): Promise<AddedObservations[]>;
  /** Deletes entities, their observations, and relations from or to them. Returns how many entities went. */
  deleteEntities(names: string[]): Promise<number>;
  deleteObservations(deletions: ObservationDeletion[]): Promise<number>;
  deleteRelations(relations: Relation[]): Promise<number>;
  /** Up to `limit` items after `position`: entities first, then relations. */
  readGraph(position: GraphPosition | undefined, limit: number): Promise<{ items: GraphItem[]; more: boolean }>;
  /** Entities by name, in the order asked, skipping unknown names. */
  getEntities(names: string[]): Promise<EntityWithId[]>;
  getEntitiesById(ids: number[]): Promise<EntityWithId[]>;
  /** Relations from or to any of the names, up to `limit`. */
  relationsTouching(names: string[], limit: number): Promise<{ relations: Relation[]; more: boolean }>;
  searchEntities(query: string, limit: number): Promise<EntityMatches>;
  graphCounts(): Promise<GraphCounts>;

  // Memories.
  insertMemory(memory: NewMemory): Promise<InsertedMemory>;
  updateMemory(id: number, patch: MemoryPatch): Promise<Memory | undefined>;
  /** Returns the ids that existed and were deleted. */
  deleteMemories(ids: number[]): Promise<number[]>;
  getMemories(ids: number[]): Promise<Memory[]>;
  /** Newest first, ids below `beforeId`. */
  listMemories(filter: MemoryFilter, beforeId: number | undefined, limit: number): Promise<Memory[]>;
  countMemories(filter: MemoryFilter): Promise<number>;
  /** Full-text (BM25 or ts_rank) matches for any of `terms`, best first. */
  searchMemories(terms: string[], filter: MemoryFilter, limit: number): Promise<RankedId[]>;

  // Vectors.
  /** The id of a model + dimension pair, created on first use. */
  embeddingSpace(model: string, dimensions: number): Promise<EmbeddingSpace>;
  /**
   * Items that need a vector, by id after `afterId`: `missing` have none, `stale` also counts those
   * with a vector from another model or dimension, `all` is every item.
   */
  pendingEmbeddings(
    kind: VectorKind,
    space: EmbeddingSpace | undefined,
    scope: EmbeddingScope,
    afterId: number,
    limit: number,
  ): Promise<PendingEmbedding[]>;
  /** Vectors already computed in `space` for any of these content hashes. */
  vectorsByHash(space: EmbeddingSpace, hashes: string[]): Promise<Map<string, Float32Array>>;
  /** Writes vectors; skips items deleted or changed (revision moved on) since they were read. */
  putVectors(space: EmbeddingSpace, vectors: StoredVector[]): Promise<number>;
  /** Loads what vector search needs into memory, so the first search is as fast as the rest. */
  warmUp(space: EmbeddingSpace): Promise<void>;
  /** Nearest items by cosine similarity, optionally only among `candidates`. */
  nearest(
    kind: VectorKind,
    space: EmbeddingSpace,
    query: Float32Array,
    limit: number,
    filter?: MemoryFilter,
  ): Promise<VectorHit[]>;
  /** Exact similarity of the given items (those with a vector in `space`). */
  similarities(kind: VectorKind, space: EmbeddingSpace, query: Float32Array, ids: number[]): Promise<VectorHit[]>;
  vectorCounts(kind: VectorKind, space: EmbeddingSpace | undefined): Promise<VectorCounts>;

  // Bulk and bookkeeping.
  importBatch(batch: ImportBatch): Promise<ImportedCounts>;
  /** Compacts search indexes and refreshes planner statistics (after a bulk import). */
  optimize(): Promise<void>;
  getMeta(key: string): Promise<string | undefined>;
  setMeta(key: string, value: string): Promise<void>;
  close(): Promise<void>;
}

export class MissingEntityError extends Error {
  constructor(readonly entityName: string) {
    super(`Entity with name ${entityName} not found`);
    this.name = "MissingEntityError";
  }
}

/** How a vector's owner kind is spelled in both stores' `vectors.kind` column. */
export const kindCode = (kind: VectorKind): "m" | "e" => (kind === "memory" ? "m" : "e");

/** A vector of another length would corrupt distances silently: refuse it before it is written. */
export function checkDimensions(space: EmbeddingSpace, vector: Float32Array): void {
  if (vector.length !== space.dimensions) {
    throw new Error(`vector has ${vector.length} dimensions, the space has ${space.dimensions}`);
  }
}

/** Relations are unique by all three parts. */
export const relationKey = (r: Relation): string => JSON.stringify([r.from, r.to, r.relationType]);

/** True when a filter narrows anything. */
export const hasFilter = (filter: MemoryFilter | undefined): filter is MemoryFilter =>
  filter !== undefined &&
  ((filter.tags?.length ?? 0) > 0 ||
    filter.entity !== undefined ||
    filter.since !== undefined ||
    filter.until !== undefined);

/** Shallow merge where a key set to null is removed. */
export function mergeMetadata(base: Record<string, unknown>, patch: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete out[key];
    else out[key] = value;
  }
  return out;
}

/** Where a substring match was found, most telling first, with its score. */
export const SUBSTRING_COLUMNS = [
  ["name", 3],
  ["entity_type", 2],
  ["observations", 1],
] as const;

/**
 * Substring matches ranked name > type > observation, newest first within each, reading at most
 * `limit` ids per column: the cost depends on the page size, not on how many entities match.
 */
export function rankSubstringMatches(
  limit: number,
  idsIn: (column: (typeof SUBSTRING_COLUMNS)[number][0], want: number) => number[],
): RankedId[] {
  const found = new Map<number, number>();
  for (const [column, score] of SUBSTRING_COLUMNS) {
    if (found.size >= limit) break;
    for (const id of idsIn(column, limit + found.size)) if (!found.has(id)) found.set(id, score);
  }
  return [...found].slice(0, limit).map(([id, score]) => ({ id, score }));
}

/** Most entities read per query word: a word in more entities than this tells little anyway. */
export const WORD_MATCH_CAP = 2000;

/** The words of a query worth a separate search (three characters or more, not the whole query). */
export function searchWords(query: string): string[] {
  const trimmed = query.trim().toLowerCase();
  const words = queryTerms(trimmed).filter((t) => [...t].length >= 3);
  return words.length === 1 && words[0] === trimmed ? [] : words;
}

/**
 * Entities containing some of the words, scored by the sum of each matched word's rarity
 * (log(1 + N / matches), an IDF), newest first on ties. Each word reads at most
 * {@link WORD_MATCH_CAP} ids, so common words cannot make a search slow.
 */
export function rankWordMatches(
  words: string[],
  newestId: number,
  limit: number,
  idsWith: (word: string, cap: number) => number[],
): RankedId[] {
  const scores = new Map<number, number>();
  for (const word of words) {
    const ids = idsWith(word, WORD_MATCH_CAP);
    if (ids.length === 0) continue;
    const weight = Math.log(1 + Math.max(newestId, ids.length) / ids.length);
    for (const id of ids) scores.set(id, (scores.get(id) ?? 0) + weight);
  }
  return [...scores]
    .sort((a, b) => b[1] - a[1] || b[0] - a[0])
    .slice(0, limit)
    .map(([id, score]) => ({ id, score }));
}
