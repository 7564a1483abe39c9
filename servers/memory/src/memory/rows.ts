import type { EntityWithId, GraphItem } from "./store.js";
import { entityEmbeddingText } from "./text.js";
import type { Entity, Memory, PendingEmbedding, Relation, VectorKind } from "./types.js";

/*
 * What both stores do with the rows they read. The SQL differs between SQLite and PostgreSQL; the
 * columns and what they become do not, and the two stores must hand the service the same shapes.
 */

export interface EntityRow {
  id: number;
  name: string;
  entity_type: string;
}

export interface RelationRow {
  from_name: string;
  to_name: string;
  relation_type: string;
}

export interface MemoryRow {
  id: number;
  content: string;
  metadata: Record<string, unknown>;
  source: string | null;
  created_at: number;
  updated_at: number;
}

/** Rows selected as `owner` and `value`, gathered into one list per owner in the rows' order. */
export function groupByOwner(rows: Iterable<{ owner: number; value: string }>): Map<number, string[]> {
  const out = new Map<number, string[]>();
  for (const row of rows) {
    const list = out.get(row.owner);
    if (list) list.push(row.value);
    else out.set(row.owner, [row.value]);
  }
  return out;
}

export const toRelation = (row: RelationRow): Relation => ({
  from: row.from_name,
  to: row.to_name,
  relationType: row.relation_type,
});

const toEntity = (row: EntityRow, observations: Map<number, string[]>): Entity => ({
  name: row.name,
  entityType: row.entity_type,
  observations: observations.get(row.id) ?? [],
});

export const entityItem = (row: EntityRow, observations: Map<number, string[]>): GraphItem => ({
  kind: "entity",
  id: row.id,
  entity: toEntity(row, observations),
});

export const relationItem = (row: RelationRow & { id: number }): GraphItem => ({
  kind: "relation",
  id: row.id,
  relation: toRelation(row),
});

/** Entities in the order of `keys` (names or ids), each once, skipping keys that matched no row. */
export function entitiesInKeyOrder(
  column: "name" | "id",
  keys: Array<string | number>,
  rows: EntityRow[],
  observations: Map<number, string[]>,
): EntityWithId[] {
  const byKey = new Map(rows.map((r) => [column === "name" ? r.name : r.id, r]));
  const out: EntityWithId[] = [];
  const seen = new Set<number>();
  for (const key of keys) {
    const row = byKey.get(key);
    if (!row || seen.has(row.id)) continue;
    seen.add(row.id);
    out.push({ id: row.id, ...toEntity(row, observations) });
  }
  return out;
}

/** Memories in the order of `ids`, skipping ids that matched no row. */
export function memoriesInIdOrder(
  ids: number[],
  rows: MemoryRow[],
  tags: Map<number, string[]>,
  links: Map<number, string[]>,
): Memory[] {
  const byId = new Map(rows.map((r) => [r.id, r]));
  const out: Memory[] = [];
  for (const id of ids) {
    const row = byId.get(id);
    if (!row) continue;
    out.push({
      id: row.id,
      content: row.content,
      tags: tags.get(id) ?? [],
      metadata: row.metadata,
      entities: links.get(id) ?? [],
      source: row.source,
      createdAt: row.created_at,
      updatedAt: row.updated_at,
    });
  }
  return out;
}

/** Entities that need a vector, with the revision each was read at so a later change is not overwritten. */
export function pendingEntities(
  kind: VectorKind,
  revisions: Array<{ id: number; revision: number }>,
  entities: EntityWithId[],
): PendingEmbedding[] {
  const revisionOf = new Map(revisions.map((r) => [r.id, r.revision]));
  return entities.map((e) => ({ kind, id: e.id, revision: revisionOf.get(e.id) ?? 0, text: entityEmbeddingText(e) }));
}

/** The first entity of each name, as the official server keeps it when one call repeats a name. */
export function firstOfEachName(entities: Entity[]): Entity[] {
  const seen = new Set<string>();
  return entities.filter((entity) => !seen.has(entity.name) && seen.add(entity.name));
}
