/** The official server's entity shape, kept exactly so tools stay drop-in. */
export interface Entity {
  name: string;
  entityType: string;
  observations: string[];
}

export interface Relation {
  from: string;
  to: string;
  relationType: string;
}

export interface Graph {
  entities: Entity[];
  relations: Relation[];
}

export interface ObservationAddition {
  entityName: string;
  contents: string[];
}

export interface ObservationDeletion {
  entityName: string;
  observations: string[];
}

export interface AddedObservations {
  entityName: string;
  addedObservations: string[];
}

/** One page of the whole graph: entities first (by creation), then relations. */
export interface GraphPage extends Graph {
  /** Opaque position to continue from; absent on the last page. */
  next?: GraphPosition;
}

export interface GraphPosition {
  phase: "entities" | "relations";
  /** Last id returned in this phase. */
  after: number;
}

export interface GraphCounts {
  entities: number;
  relations: number;
  observations: number;
}

export interface Memory {
  id: number;
  content: string;
  tags: string[];
  metadata: Record<string, unknown>;
  entities: string[];
  /** Who stored it: the client name of the session that wrote it, or "import". */
  source: string | null;
  createdAt: number;
  updatedAt: number;
}

export interface NewMemory {
  content: string;
  contentHash: string;
  tags: string[];
  metadata: Record<string, unknown>;
  entities: string[];
  source: string | null;
  /** Defaults to now; set by imports that carry their own timestamps. */
  createdAt?: number;
}

export interface MemoryPatch {
  content?: { text: string; hash: string };
  /** Replaces all tags. */
  tags?: string[];
  addTags?: string[];
  removeTags?: string[];
  /** Shallow-merged into the stored metadata; a key set to null is removed. */
  metadata?: Record<string, unknown>;
  /** Replaces all entity links. */
  entities?: string[];
}

export interface MemoryFilter {
  /** Every one of these tags must be present. */
  tags?: string[];
  /** Linked to this entity. */
  entity?: string;
  /** Created at or after (ms since epoch). */
  since?: number;
  /** Created before (ms since epoch). */
  until?: number;
}

export interface RankedId {
  id: number;
  /** Store-specific relevance; higher is better. */
  score: number;
}

export interface VectorHit {
  id: number;
  /** Cosine similarity, -1..1. */
  similarity: number;
}

export type VectorKind = "memory" | "entity";

/** Something that needs a vector in the current embedding space. */
export interface PendingEmbedding {
  kind: VectorKind;
  id: number;
  /** Changes whenever the text changes; a vector is written only if it still matches. */
  revision: number;
  text: string;
}

export interface EmbeddingSpace {
  id: number;
  model: string;
  dimensions: number;
}

export interface VectorCounts {
  /** Items with a vector in the given space. */
  current: number;
  /** Items with a vector from another model or dimension. */
  stale: number;
  /** Items with no vector at all. */
  missing: number;
}

export interface ImportedCounts {
  entities: number;
  observations: number;
  relations: number;
  memories: number;
}
