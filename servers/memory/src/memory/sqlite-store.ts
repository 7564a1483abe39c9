import { chmodSync, existsSync, mkdirSync } from "node:fs";
import { dirname } from "node:path";
import type { Database as Db, Statement } from "better-sqlite3";
import {
  type EntityRow,
  entitiesInKeyOrder,
  entityItem,
  firstOfEachName,
  groupByOwner,
  type MemoryRow,
  memoriesInIdOrder,
  pendingEntities,
  type RelationRow,
  relationItem,
  toRelation,
} from "./rows.js";
import {
  checkDimensions,
  type EmbeddingScope,
  type EntityMatches,
  type EntityWithId,
  type GraphItem,
  hasFilter,
  type ImportBatch,
  type InsertedMemory,
  kindCode,
  type MemoryStore,
  MissingEntityError,
  mergeMetadata,
  rankSubstringMatches,
  rankWordMatches,
  type StoredVector,
  SUBSTRING_COLUMNS,
  searchWords,
} from "./store.js";
import { ftsPhrase, likeEscape } from "./text.js";
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
import { BinaryIndex } from "./vector-index.js";
import { bitsFromBlob, bitsToBlob, fromBlob, signBits, toBlob } from "./vectors.js";

const SCHEMA_VERSION = 1;
const ENTITY_FTS = ["entity_name_fts", "entity_type_fts", "entity_observations_fts"] as const;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS entities(
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  entity_type TEXT NOT NULL,
  revision INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS observations(
  id INTEGER PRIMARY KEY,
  entity_id INTEGER NOT NULL REFERENCES entities(id) ON DELETE CASCADE,
  content TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  UNIQUE(entity_id, content)
);
CREATE TABLE IF NOT EXISTS relations(
  id INTEGER PRIMARY KEY,
  from_name TEXT NOT NULL,
  to_name TEXT NOT NULL,
  relation_type TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  UNIQUE(from_name, to_name, relation_type)
);
CREATE INDEX IF NOT EXISTS relations_to ON relations(to_name);
CREATE VIRTUAL TABLE IF NOT EXISTS entity_name_fts USING fts5(name, tokenize = 'trigram remove_diacritics 1');
CREATE VIRTUAL TABLE IF NOT EXISTS entity_type_fts USING fts5(entity_type, tokenize = 'trigram remove_diacritics 1');
CREATE VIRTUAL TABLE IF NOT EXISTS entity_observations_fts USING fts5(
  observations, tokenize = 'trigram remove_diacritics 1'
);
CREATE TABLE IF NOT EXISTS memories(
  id INTEGER PRIMARY KEY,
  content TEXT NOT NULL,
  content_hash TEXT NOT NULL,
  metadata TEXT NOT NULL DEFAULT '{}',
  source TEXT,
  revision INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS memories_hash ON memories(content_hash);
CREATE INDEX IF NOT EXISTS memories_created ON memories(created_at);
CREATE TABLE IF NOT EXISTS memory_tags(
  tag TEXT NOT NULL,
  memory_id INTEGER NOT NULL REFERENCES memories(id) ON DELETE CASCADE,
  PRIMARY KEY(tag, memory_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS memory_tags_memory ON memory_tags(memory_id);
CREATE TABLE IF NOT EXISTS memory_entities(
  entity_name TEXT NOT NULL,
  memory_id INTEGER NOT NULL REFERENCES memories(id) ON DELETE CASCADE,
  PRIMARY KEY(entity_name, memory_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS memory_entities_memory ON memory_entities(memory_id);
CREATE VIRTUAL TABLE IF NOT EXISTS memory_fts USING fts5(
  content, tags, content = '', contentless_delete = 1, tokenize = 'porter unicode61 remove_diacritics 2'
);
CREATE TABLE IF NOT EXISTS embedding_spaces(
  id INTEGER PRIMARY KEY,
  model TEXT NOT NULL,
  dimensions INTEGER NOT NULL,
  UNIQUE(model, dimensions)
);
CREATE TABLE IF NOT EXISTS vectors(
  kind TEXT NOT NULL CHECK (kind IN ('m', 'e')),
  owner_id INTEGER NOT NULL,
  space_id INTEGER NOT NULL REFERENCES embedding_spaces(id),
  content_hash TEXT NOT NULL,
  code BLOB NOT NULL,
  embedding BLOB NOT NULL,
  PRIMARY KEY(kind, owner_id)
);
CREATE INDEX IF NOT EXISTS vectors_hash ON vectors(space_id, content_hash);
-- Covers the coarse index load: a few MB of codes instead of reading every float vector.
CREATE INDEX IF NOT EXISTS vectors_codes ON vectors(kind, space_id, owner_id, code);
CREATE TABLE IF NOT EXISTS vector_log(seq INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT NOT NULL, owner_id INTEGER NOT NULL);
CREATE TRIGGER IF NOT EXISTS vectors_logged_insert AFTER INSERT ON vectors BEGIN
  INSERT INTO vector_log(kind, owner_id) VALUES (new.kind, new.owner_id);
END;
CREATE TRIGGER IF NOT EXISTS vectors_logged_update AFTER UPDATE ON vectors BEGIN
  INSERT INTO vector_log(kind, owner_id) VALUES (new.kind, new.owner_id);
END;
CREATE TRIGGER IF NOT EXISTS vectors_logged_delete AFTER DELETE ON vectors BEGIN
  INSERT INTO vector_log(kind, owner_id) VALUES (old.kind, old.owner_id);
END;
CREATE TRIGGER IF NOT EXISTS memories_drop_vector AFTER DELETE ON memories BEGIN
  DELETE FROM vectors WHERE kind = 'm' AND owner_id = old.id;
END;
CREATE TRIGGER IF NOT EXISTS entities_drop_vector AFTER DELETE ON entities BEGIN
  DELETE FROM vectors WHERE kind = 'e' AND owner_id = old.id;
END;
`;

/** How many vector-log rows to keep; a process that fell further behind reloads its index. */
const VECTOR_LOG_KEEP = 100_000;
/** Below this many candidates, a filtered vector search scans them exactly in SQL. */
const EXACT_SCAN_LIMIT = 4096;

const now = () => Date.now();

/** SQLite keeps metadata as JSON text. */
type StoredMemoryRow = Omit<MemoryRow, "metadata"> & { metadata: string };

export interface SqliteStoreOptions {
  /** Milliseconds a writer waits for another process's transaction before failing. */
  busyTimeoutMs?: number;
}

/**
 * The embedded store: one SQLite file in WAL mode (readers never block the writer), FTS5 for
 * full-text and substring search, float32 vectors with sqlite-vec for exact cosine distance, and an
 * in-process sign-bit index for the coarse vector pass. Every write is one IMMEDIATE transaction
 * with synchronous=FULL, so an acknowledged write survives a crash and two processes on one file
 * serialise instead of overwriting each other.
 */
export async function openSqliteStore(path: string, options: SqliteStoreOptions = {}): Promise<MemoryStore> {
  const { default: Database } = await import("better-sqlite3");
  const sqliteVec = await import("sqlite-vec");
  if (path !== ":memory:") ensureDirectory(dirname(path));
  const db = new Database(path);
  try {
    sqliteVec.load(db);
    db.pragma(`busy_timeout = ${options.busyTimeoutMs ?? 15_000}`);
    db.pragma("journal_mode = WAL");
    db.pragma("synchronous = FULL");
    db.pragma("foreign_keys = ON");
    db.transaction(() => {
      db.exec(SCHEMA);
      const version = db.prepare("SELECT value FROM meta WHERE key = 'schema_version'").pluck().get() as
        | string
        | undefined;
      if (version !== undefined && Number(version) > SCHEMA_VERSION) {
        throw new Error(
          `the store at ${path} was written by a newer version of the server (schema ${version}); upgrade the server`,
        );
      }
      db.prepare("INSERT OR REPLACE INTO meta(key, value) VALUES ('schema_version', ?)").run(String(SCHEMA_VERSION));
    }).immediate();
    if (path !== ":memory:") {
      try {
        chmodSync(path, 0o600);
      } catch {
        // Not ours to change (e.g. a shared file set up by an admin): leave it as it is.
      }
    }
  } catch (error) {
    db.close();
    throw error;
  }
  return new SqliteStore(db, path);
}

/**
 * Creates the missing directories above the store one level at a time (mode 0700). Node's recursive
 * mkdir spins forever on some special filesystems (e.g. a path under /proc); this fails instead.
 */
function ensureDirectory(dir: string): void {
  const missing: string[] = [];
  let current = dir;
  while (!existsSync(current)) {
    missing.push(current);
    const parent = dirname(current);
    if (parent === current) break;
    current = parent;
  }
  for (const directory of missing.reverse()) mkdirSync(directory, { mode: 0o700 });
}

class SqliteStore implements MemoryStore {
  readonly kind = "sqlite" as const;
  readonly supportsVectors = true;
  private readonly statements = new Map<string, Statement>();
  private readonly indexes = new Map<string, { index: BinaryIndex; space: number; seq: number }>();
  private writesSinceTrim = 0;

  constructor(
    private readonly db: Db,
    readonly location: string,
  ) {}

  private sql(text: string): Statement {
    let statement = this.statements.get(text);
    if (!statement) {
      statement = this.db.prepare(text);
      this.statements.set(text, statement);
    }
    return statement;
  }

  private async write<T>(fn: () => T): Promise<T> {
    return this.db.transaction(fn).immediate();
  }

  private async read<T>(fn: () => T): Promise<T> {
    // A deferred transaction gives the reads one consistent snapshot.
    return this.db.transaction(fn).deferred();
  }

  // ── Knowledge graph ────────────────────────────────────────────────────────────────────────────

  createEntities(entities: Entity[]): Promise<Entity[]> {
    return this.write(() => {
      const created: Entity[] = [];
      const at = now();
      for (const entity of firstOfEachName(entities)) {
        const result = this.sql(
          "INSERT INTO entities(name, entity_type, created_at, updated_at) VALUES (?, ?, ?, ?) ON CONFLICT(name) DO NOTHING",
        ).run(entity.name, entity.entityType, at, at);
        if (result.changes === 0) continue;
        const id = Number(result.lastInsertRowid);
        const observations = this.insertObservations(id, entity.observations, at);
        const stored = { name: entity.name, entityType: entity.entityType, observations };
        this.indexEntity(id, stored);
        created.push(stored);
      }
      return created;
    });
  }

  private insertObservations(entityId: number, contents: string[], at: number): string[] {
    const added: string[] = [];
    const insert = this.sql(
      "INSERT INTO observations(entity_id, content, created_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
    );
    for (const content of contents) {
      if (insert.run(entityId, content, at).changes > 0) added.push(content);
    }
    return added;
  }

  private observationsOf(entityId: number): string[] {
    return this.sql("SELECT content FROM observations WHERE entity_id = ? ORDER BY id")
      .pluck()
      .all(entityId) as string[];
  }

  /** After observations change: new search text, new revision, and the old vector goes. */
  private entityChanged(id: number, at: number): void {
    const row = this.sql("SELECT name, entity_type FROM entities WHERE id = ?").get(id) as
      | { name: string; entity_type: string }
      | undefined;
    if (!row) return;
    this.sql("UPDATE entities SET revision = revision + 1, updated_at = ? WHERE id = ?").run(at, id);
    this.sql("DELETE FROM entity_observations_fts WHERE rowid = ?").run(id);
    this.sql("INSERT INTO entity_observations_fts(rowid, observations) VALUES (?, ?)").run(
      id,
      this.observationsOf(id).join("\n"),
    );
    this.sql("DELETE FROM vectors WHERE kind = 'e' AND owner_id = ?").run(id);
  }

  /**
   * One trigram index per part: a search in names reads only name postings, so a word that is in
   * every observation does not slow down a name lookup.
   */
  private indexEntity(id: number, entity: Entity): void {
    this.sql("INSERT INTO entity_name_fts(rowid, name) VALUES (?, ?)").run(id, entity.name);
    this.sql("INSERT INTO entity_type_fts(rowid, entity_type) VALUES (?, ?)").run(id, entity.entityType);
    this.sql("INSERT INTO entity_observations_fts(rowid, observations) VALUES (?, ?)").run(
      id,
      entity.observations.join("\n"),
    );
  }

  private entityId(name: string): number | undefined {
    return this.sql("SELECT id FROM entities WHERE name = ?").pluck().get(name) as number | undefined;
  }

  createRelations(relations: Relation[]): Promise<Relation[]> {
    return this.write(() => {
      const created: Relation[] = [];
      const at = now();
      const insert = this.sql(
        "INSERT INTO relations(from_name, to_name, relation_type, created_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
      );
      for (const r of relations) {
        if (insert.run(r.from, r.to, r.relationType, at).changes > 0) {
          created.push({ from: r.from, to: r.to, relationType: r.relationType });
        }
      }
      return created;
    });
  }

  addObservations(additions: ObservationAddition[]): Promise<AddedObservations[]> {
    return this.write(() => {
      const at = now();
      const results: AddedObservations[] = [];
      for (const addition of additions) {
        const id = this.entityId(addition.entityName);
        if (id === undefined) throw new MissingEntityError(addition.entityName);
        const added = this.insertObservations(id, addition.contents, at);
        if (added.length > 0) this.entityChanged(id, at);
        results.push({ entityName: addition.entityName, addedObservations: added });
      }
      return results;
    });
  }

  deleteEntities(names: string[]): Promise<number> {
    return this.write(() => {
      let deleted = 0;
      for (const name of new Set(names)) {
        const id = this.entityId(name);
        if (id !== undefined) {
          for (const table of ENTITY_FTS) this.sql(`DELETE FROM ${table} WHERE rowid = ?`).run(id);
          this.sql("DELETE FROM entities WHERE id = ?").run(id);
          deleted++;
        }
        this.sql("DELETE FROM relations WHERE from_name = ? OR to_name = ?").run(name, name);
        this.sql("DELETE FROM memory_entities WHERE entity_name = ?").run(name);
      }
      return deleted;
    });
  }

  deleteObservations(deletions: ObservationDeletion[]): Promise<number> {
    return this.write(() => {
      const at = now();
      let deleted = 0;
      for (const deletion of deletions) {
        const id = this.entityId(deletion.entityName);
        if (id === undefined) continue;
        let changed = 0;
        const remove = this.sql("DELETE FROM observations WHERE entity_id = ? AND content = ?");
        for (const content of deletion.observations) changed += remove.run(id, content).changes;
        if (changed > 0) this.entityChanged(id, at);
        deleted += changed;
      }
      return deleted;
    });
  }

  deleteRelations(relations: Relation[]): Promise<number> {
    return this.write(() => {
      let deleted = 0;
      const remove = this.sql("DELETE FROM relations WHERE from_name = ? AND to_name = ? AND relation_type = ?");
      for (const r of relations) deleted += remove.run(r.from, r.to, r.relationType).changes;
      return deleted;
    });
  }

  readGraph(position: GraphPosition | undefined, limit: number): Promise<{ items: GraphItem[]; more: boolean }> {
    return this.read(() => {
      const items: GraphItem[] = [];
      let phase = position?.phase ?? "entities";
      let after = position?.after ?? 0;
      if (phase === "entities") {
        const rows = this.sql("SELECT id, name, entity_type FROM entities WHERE id > ? ORDER BY id LIMIT ?").all(
          after,
          limit + 1,
        ) as EntityRow[];
        const page = rows.slice(0, limit);
        const observations = this.observationsFor(page.map((r) => r.id));
        for (const row of page) items.push(entityItem(row, observations));
        if (rows.length > limit) return { items, more: true };
        phase = "relations";
        after = 0;
      }
      const room = limit - items.length;
      const rows = this.sql(
        "SELECT id, from_name, to_name, relation_type FROM relations WHERE id > ? ORDER BY id LIMIT ?",
      ).all(after, room + 1) as Array<RelationRow & { id: number }>;
      for (const row of rows.slice(0, room)) items.push(relationItem(row));
      return { items, more: rows.length > room };
    });
  }

  private observationsFor(ids: number[]): Map<number, string[]> {
    if (ids.length === 0) return new Map();
    return this.groupBy(
      "SELECT entity_id AS owner, content AS value FROM observations WHERE entity_id IN (SELECT value FROM json_each(?)) ORDER BY id",
      JSON.stringify(ids),
    );
  }

  private entitiesWhere(column: "name" | "id", keys: Array<string | number>): EntityWithId[] {
    if (keys.length === 0) return [];
    const rows = this.sql(
      `SELECT id, name, entity_type FROM entities WHERE ${column} IN (SELECT value FROM json_each(?))`,
    ).all(JSON.stringify(keys)) as EntityRow[];
    return entitiesInKeyOrder(column, keys, rows, this.observationsFor(rows.map((r) => r.id)));
  }

  getEntities(names: string[]): Promise<EntityWithId[]> {
    return this.read(() => this.entitiesWhere("name", names));
  }

  getEntitiesById(ids: number[]): Promise<EntityWithId[]> {
    return this.read(() => this.entitiesWhere("id", ids));
  }

  relationsTouching(names: string[], limit: number): Promise<{ relations: Relation[]; more: boolean }> {
    return this.read(() => {
      if (names.length === 0) return { relations: [], more: false };
      const rows = this.sql(
        `SELECT from_name, to_name, relation_type FROM relations
          WHERE from_name IN (SELECT value FROM json_each(:names)) OR to_name IN (SELECT value FROM json_each(:names))
          ORDER BY id LIMIT :limit`,
      ).all({ names: JSON.stringify(names), limit: limit + 1 }) as RelationRow[];
      return { relations: rows.slice(0, limit).map(toRelation), more: rows.length > limit };
    });
  }

  searchEntities(query: string, limit: number): Promise<EntityMatches> {
    return this.read(() => {
      const substring = rankSubstringMatches(limit, (column, want) => this.idsContaining(column, query, want));
      const words = searchWords(query);
      const newest = (this.sql("SELECT max(id) FROM entities").pluck().get() as number | null) ?? 0;
      const terms = rankWordMatches(words, newest, limit, (word, cap) => [
        ...new Set(SUBSTRING_COLUMNS.flatMap(([column]) => this.idsContaining(column, word, cap))),
      ]);
      return { substring, terms };
    });
  }

  /** Newest entities whose `column` contains `text` (case-insensitive), at most `limit`. */
  private idsContaining(column: (typeof SUBSTRING_COLUMNS)[number][0], text: string, limit: number): number[] {
    const table = `entity_${column === "entity_type" ? "type" : column}_fts`;
    // The trigram index answers substrings of three or more characters; shorter ones need a scan.
    const statement =
      [...text].length >= 3
        ? this.sql(`SELECT rowid FROM ${table} WHERE ${table} MATCH ? ORDER BY rowid DESC LIMIT ?`)
        : this.sql(`SELECT rowid FROM ${table} WHERE ${column} LIKE ? ESCAPE '\\' ORDER BY rowid DESC LIMIT ?`);
    const needle = [...text].length >= 3 ? ftsPhrase(text) : `%${likeEscape(text)}%`;
    return statement.pluck().all(needle, limit) as number[];
  }

  private rankedFts(table: "memory_fts", match: string, limit: number): RankedId[] {
    return this.sql(
      `SELECT rowid AS id, -bm25(${table}) AS score FROM ${table} WHERE ${table} MATCH ? ORDER BY rank LIMIT ?`,
    ).all(match, limit) as RankedId[];
  }

  graphCounts(): Promise<GraphCounts> {
    return this.read(() => ({
      entities: this.sql("SELECT count(*) FROM entities").pluck().get() as number,
      relations: this.sql("SELECT count(*) FROM relations").pluck().get() as number,
      observations: this.sql("SELECT count(*) FROM observations").pluck().get() as number,
    }));
  }

  // ── Memories ───────────────────────────────────────────────────────────────────────────────────

  insertMemory(memory: NewMemory): Promise<InsertedMemory> {
    return this.write(() => this.insertMemoryNow(memory));
  }

  private insertMemoryNow(memory: NewMemory): InsertedMemory {
    const existing = this.sql("SELECT id FROM memories WHERE content_hash = ? AND content = ? LIMIT 1")
      .pluck()
      .get(memory.contentHash, memory.content) as number | undefined;
    if (existing !== undefined) {
      const before = this.tagsOf(existing);
      this.addTags(existing, memory.tags);
      this.addLinks(existing, memory.entities);
      if (this.tagsOf(existing).length !== before.length) this.refreshMemoryFts(existing);
      return { id: existing, duplicate: true };
    }
    const at = memory.createdAt ?? now();
    const id = Number(
      this.sql(
        "INSERT INTO memories(content, content_hash, metadata, source, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)",
      ).run(memory.content, memory.contentHash, JSON.stringify(memory.metadata), memory.source, at, at).lastInsertRowid,
    );
    this.addTags(id, memory.tags);
    this.addLinks(id, memory.entities);
    this.sql("INSERT INTO memory_fts(rowid, content, tags) VALUES (?, ?, ?)").run(
      id,
      memory.content,
      memory.tags.join(" "),
    );
    return { id, duplicate: false };
  }

  private addTags(id: number, tags: string[]): void {
    const insert = this.sql("INSERT INTO memory_tags(tag, memory_id) VALUES (?, ?) ON CONFLICT DO NOTHING");
    for (const tag of tags) insert.run(tag, id);
  }

  private addLinks(id: number, entities: string[]): void {
    const insert = this.sql("INSERT INTO memory_entities(entity_name, memory_id) VALUES (?, ?) ON CONFLICT DO NOTHING");
    for (const name of entities) insert.run(name, id);
  }

  private tagsOf(id: number): string[] {
    return this.sql("SELECT tag FROM memory_tags WHERE memory_id = ? ORDER BY tag").pluck().all(id) as string[];
  }

  private refreshMemoryFts(id: number): void {
    const content = this.sql("SELECT content FROM memories WHERE id = ?").pluck().get(id) as string;
    this.sql("DELETE FROM memory_fts WHERE rowid = ?").run(id);
    this.sql("INSERT INTO memory_fts(rowid, content, tags) VALUES (?, ?, ?)").run(
      id,
      content,
      this.tagsOf(id).join(" "),
    );
  }

  updateMemory(id: number, patch: MemoryPatch): Promise<Memory | undefined> {
    return this.write(() => {
      const row = this.sql("SELECT metadata, content_hash FROM memories WHERE id = ?").get(id) as
        | { metadata: string; content_hash: string }
        | undefined;
      if (!row) return undefined;
      const at = now();
      // Same text, same vector: only a real change of content costs a new embedding.
      if (patch.content && patch.content.hash !== row.content_hash) {
        this.sql("UPDATE memories SET content = ?, content_hash = ?, revision = revision + 1 WHERE id = ?").run(
          patch.content.text,
          patch.content.hash,
          id,
        );
        this.sql("DELETE FROM vectors WHERE kind = 'm' AND owner_id = ?").run(id);
      }
      if (patch.tags) {
        this.sql("DELETE FROM memory_tags WHERE memory_id = ?").run(id);
        this.addTags(id, patch.tags);
      }
      if (patch.addTags) this.addTags(id, patch.addTags);
      if (patch.removeTags) {
        const remove = this.sql("DELETE FROM memory_tags WHERE memory_id = ? AND tag = ?");
        for (const tag of patch.removeTags) remove.run(id, tag);
      }
      if (patch.metadata) {
        const merged = mergeMetadata(JSON.parse(row.metadata) as Record<string, unknown>, patch.metadata);
        this.sql("UPDATE memories SET metadata = ? WHERE id = ?").run(JSON.stringify(merged), id);
      }
      if (patch.entities) {
        this.sql("DELETE FROM memory_entities WHERE memory_id = ?").run(id);
        this.addLinks(id, patch.entities);
      }
      this.sql("UPDATE memories SET updated_at = ? WHERE id = ?").run(at, id);
      this.refreshMemoryFts(id);
      return this.memoriesById([id])[0];
    });
  }

  deleteMemories(ids: number[]): Promise<number[]> {
    return this.write(() => {
      const deleted: number[] = [];
      for (const id of new Set(ids)) {
        if (this.sql("DELETE FROM memories WHERE id = ?").run(id).changes > 0) {
          this.sql("DELETE FROM memory_fts WHERE rowid = ?").run(id);
          deleted.push(id);
        }
      }
      return deleted;
    });
  }

  private memoriesById(ids: number[]): Memory[] {
    if (ids.length === 0) return [];
    const json = JSON.stringify(ids);
    const rows = this.sql(
      "SELECT id, content, metadata, source, created_at, updated_at FROM memories WHERE id IN (SELECT value FROM json_each(?))",
    ).all(json) as StoredMemoryRow[];
    const tags = this.groupBy(
      "SELECT memory_id AS owner, tag AS value FROM memory_tags WHERE memory_id IN (SELECT value FROM json_each(?)) ORDER BY tag",
      json,
    );
    const links = this.groupBy(
      "SELECT memory_id AS owner, entity_name AS value FROM memory_entities WHERE memory_id IN (SELECT value FROM json_each(?)) ORDER BY entity_name",
      json,
    );
    const parsed = rows.map((row) => ({ ...row, metadata: JSON.parse(row.metadata) as Record<string, unknown> }));
    return memoriesInIdOrder(ids, parsed, tags, links);
  }

  private groupBy(sql: string, json: string): Map<number, string[]> {
    return groupByOwner(this.sql(sql).all(json) as Array<{ owner: number; value: string }>);
  }

  getMemories(ids: number[]): Promise<Memory[]> {
    return this.read(() => this.memoriesById(ids));
  }

  /** SQL conditions on `memories AS m` for a filter, with their parameters. */
  private filterSql(filter: MemoryFilter): { where: string; params: unknown[] } {
    const clauses: string[] = [];
    const params: unknown[] = [];
    if (filter.tags && filter.tags.length > 0) {
      const tags = [...new Set(filter.tags)];
      clauses.push(
        "m.id IN (SELECT memory_id FROM memory_tags WHERE tag IN (SELECT value FROM json_each(?)) GROUP BY memory_id HAVING count(*) = ?)",
      );
      params.push(JSON.stringify(tags), tags.length);
    }
    if (filter.entity !== undefined) {
      clauses.push("m.id IN (SELECT memory_id FROM memory_entities WHERE entity_name = ?)");
      params.push(filter.entity);
    }
    if (filter.since !== undefined) {
      clauses.push("m.created_at >= ?");
      params.push(filter.since);
    }
    if (filter.until !== undefined) {
      clauses.push("m.created_at < ?");
      params.push(filter.until);
    }
    return { where: clauses.length ? clauses.join(" AND ") : "1", params };
  }

  listMemories(filter: MemoryFilter, beforeId: number | undefined, limit: number): Promise<Memory[]> {
    return this.read(() => {
      const { where, params } = this.filterSql(filter);
      const ids = this.sql(`SELECT m.id FROM memories m WHERE ${where} AND m.id < ? ORDER BY m.id DESC LIMIT ?`)
        .pluck()
        .all(...params, beforeId ?? Number.MAX_SAFE_INTEGER, limit) as number[];
      return this.memoriesById(ids);
    });
  }

  countMemories(filter: MemoryFilter): Promise<number> {
    return this.read(() => {
      const { where, params } = this.filterSql(filter);
      return this.sql(`SELECT count(*) FROM memories m WHERE ${where}`)
        .pluck()
        .get(...params) as number;
    });
  }

  searchMemories(terms: string[], filter: MemoryFilter, limit: number): Promise<RankedId[]> {
    return this.read(() => {
      if (terms.length === 0) return [];
      const match = terms.map(ftsPhrase).join(" OR ");
      if (!hasFilter(filter)) return this.rankedFts("memory_fts", match, limit);
      const { where, params } = this.filterSql(filter);
      return this.sql(
        `SELECT rowid AS id, -bm25(memory_fts) AS score FROM memory_fts
          WHERE memory_fts MATCH ? AND +rowid IN (SELECT m.id FROM memories m WHERE ${where})
          ORDER BY rank LIMIT ?`,
      ).all(match, ...params, limit) as RankedId[];
    });
  }

  // ── Vectors ────────────────────────────────────────────────────────────────────────────────────

  async embeddingSpace(model: string, dimensions: number): Promise<EmbeddingSpace> {
    const found = this.sql("SELECT id FROM embedding_spaces WHERE model = ? AND dimensions = ?")
      .pluck()
      .get(model, dimensions) as number | undefined;
    if (found !== undefined) return { id: found, model, dimensions };
    return this.write(() => {
      this.sql("INSERT INTO embedding_spaces(model, dimensions) VALUES (?, ?) ON CONFLICT DO NOTHING").run(
        model,
        dimensions,
      );
      const id = this.sql("SELECT id FROM embedding_spaces WHERE model = ? AND dimensions = ?")
        .pluck()
        .get(model, dimensions) as number;
      return { id, model, dimensions };
    });
  }

  pendingEmbeddings(
    kind: VectorKind,
    space: EmbeddingSpace | undefined,
    scope: EmbeddingScope,
    afterId: number,
    limit: number,
  ): Promise<PendingEmbedding[]> {
    return this.read(() => {
      const staleClause = scope === "all" ? "OR 1" : scope === "stale" && space ? "OR v.space_id != ?" : "";
      const staleParams = scope === "stale" && space ? [space.id] : [];
      if (kind === "memory") {
        const rows = this.sql(
          `SELECT m.id, m.revision, m.content FROM memories m
            LEFT JOIN vectors v ON v.kind = 'm' AND v.owner_id = m.id
            WHERE m.id > ? AND (v.owner_id IS NULL ${staleClause}) ORDER BY m.id LIMIT ?`,
        ).all(afterId, ...staleParams, limit) as Array<{ id: number; revision: number; content: string }>;
        return rows.map((r) => ({ kind, id: r.id, revision: r.revision, text: r.content }));
      }
      const rows = this.sql(
        `SELECT e.id, e.revision FROM entities e
          LEFT JOIN vectors v ON v.kind = 'e' AND v.owner_id = e.id
          WHERE e.id > ? AND (v.owner_id IS NULL ${staleClause}) ORDER BY e.id LIMIT ?`,
      ).all(afterId, ...staleParams, limit) as Array<{ id: number; revision: number }>;
      return pendingEntities(
        kind,
        rows,
        this.entitiesWhere(
          "id",
          rows.map((r) => r.id),
        ),
      );
    });
  }

  vectorsByHash(space: EmbeddingSpace, hashes: string[]): Promise<Map<string, Float32Array>> {
    return this.read(() => {
      const out = new Map<string, Float32Array>();
      if (hashes.length === 0) return out;
      const rows = this.sql(
        "SELECT content_hash, embedding FROM vectors WHERE space_id = ? AND content_hash IN (SELECT value FROM json_each(?))",
      ).all(space.id, JSON.stringify(hashes)) as Array<{ content_hash: string; embedding: Buffer }>;
      for (const row of rows) out.set(row.content_hash, fromBlob(row.embedding));
      return out;
    });
  }

  putVectors(space: EmbeddingSpace, vectors: StoredVector[]): Promise<number> {
    return this.write(() => {
      let written = 0;
      for (const item of vectors) {
        checkDimensions(space, item.vector);
        const table = item.kind === "memory" ? "memories" : "entities";
        const revision = this.sql(`SELECT revision FROM ${table} WHERE id = ?`).pluck().get(item.id) as
          | number
          | undefined;
        if (revision !== item.revision) continue;
        this.sql(
          `INSERT INTO vectors(kind, owner_id, space_id, content_hash, embedding, code) VALUES (?, ?, ?, ?, ?, ?)
            ON CONFLICT(kind, owner_id) DO UPDATE SET space_id = excluded.space_id,
              content_hash = excluded.content_hash, embedding = excluded.embedding, code = excluded.code`,
        ).run(
          kindCode(item.kind),
          item.id,
          space.id,
          item.contentHash,
          toBlob(item.vector),
          bitsToBlob(signBits(item.vector)),
        );
        written++;
      }
      this.writesSinceTrim += written;
      if (this.writesSinceTrim > 10_000) this.trimVectorLog();
      return written;
    });
  }

  private trimVectorLog(): void {
    this.writesSinceTrim = 0;
    const max = (this.sql("SELECT max(seq) FROM vector_log").pluck().get() as number | null) ?? 0;
    const floor = max - VECTOR_LOG_KEEP;
    if (floor <= 0) return;
    this.sql("DELETE FROM vector_log WHERE seq <= ?").run(floor);
    this.sql("INSERT OR REPLACE INTO meta(key, value) VALUES ('vector_log_floor', ?)").run(String(floor));
  }

  /** Brings this process's coarse index up to date with every process's writes, via the vector log. */
  private syncedIndex(kind: VectorKind, space: EmbeddingSpace): BinaryIndex {
    const code = kindCode(kind);
    let state = this.indexes.get(code);
    const floor = Number(this.sql("SELECT value FROM meta WHERE key = 'vector_log_floor'").pluck().get() ?? 0);
    if (!state || state.space !== space.id || state.seq < floor) {
      const index = new BinaryIndex(space.dimensions);
      const seq = (this.sql("SELECT max(seq) FROM vector_log").pluck().get() as number | null) ?? 0;
      for (const row of this.sql("SELECT owner_id, code FROM vectors WHERE kind = ? AND space_id = ?")
        .raw()
        .iterate(code, space.id) as IterableIterator<[number, Buffer]>) {
        index.upsert(row[0], bitsFromBlob(row[1]));
      }
      state = { index, space: space.id, seq };
      this.indexes.set(code, state);
      return index;
    }
    const changes = this.sql("SELECT seq, owner_id FROM vector_log WHERE seq > ? AND kind = ? ORDER BY seq")
      .raw()
      .all(state.seq, code) as Array<[number, number]>;
    const lastSeq = (this.sql("SELECT max(seq) FROM vector_log").pluck().get() as number | null) ?? state.seq;
    if (changes.length > 0) {
      const ids = [...new Set(changes.map((c) => c[1]))];
      const rows = this.sql(
        "SELECT owner_id, space_id, code FROM vectors WHERE kind = ? AND owner_id IN (SELECT value FROM json_each(?))",
      )
        .raw()
        .all(code, JSON.stringify(ids)) as Array<[number, number, Buffer]>;
      const present = new Map(rows.map((r) => [r[0], r]));
      for (const id of ids) {
        const row = present.get(id);
        if (row && row[1] === space.id) state.index.upsert(id, bitsFromBlob(row[2]));
        else state.index.remove(id);
      }
    }
    state.seq = Math.max(state.seq, lastSeq);
    return state.index;
  }

  async warmUp(space: EmbeddingSpace): Promise<void> {
    await this.read(() => {
      this.syncedIndex("memory", space);
      this.syncedIndex("entity", space);
    });
  }

  nearest(
    kind: VectorKind,
    space: EmbeddingSpace,
    query: Float32Array,
    limit: number,
    filter?: MemoryFilter,
  ): Promise<VectorHit[]> {
    return this.read(() => {
      const code = kindCode(kind);
      const queryBlob = toBlob(query);
      let allowed: Set<number> | undefined;
      if (kind === "memory" && hasFilter(filter)) {
        const { where, params } = this.filterSql(filter);
        const ids = this.sql(`SELECT m.id FROM memories m WHERE ${where}`)
          .pluck()
          .all(...params) as number[];
        if (ids.length <= EXACT_SCAN_LIMIT) return this.rescore(code, space, queryBlob, ids, limit);
        allowed = new Set(ids);
      }
      const index = this.syncedIndex(kind, space);
      // Oversample generously: the exact rescoring below fixes the order the bits got wrong.
      const candidates = index.nearest(signBits(query), Math.max(limit * 10, 256), allowed);
      return this.rescore(code, space, queryBlob, candidates, limit);
    });
  }

  similarities(kind: VectorKind, space: EmbeddingSpace, query: Float32Array, ids: number[]): Promise<VectorHit[]> {
    return this.read(() => this.rescore(kindCode(kind), space, toBlob(query), ids, ids.length));
  }

  private rescore(code: string, space: EmbeddingSpace, query: Buffer, ids: number[], limit: number): VectorHit[] {
    if (ids.length === 0) return [];
    // Driven from the candidate list (CROSS JOIN fixes the order) so only those rows are read.
    return this.sql(
      `SELECT v.owner_id AS id, 1 - vec_distance_cosine(v.embedding, :query) AS similarity
        FROM json_each(:ids) AS candidate CROSS JOIN vectors AS v ON v.kind = :kind AND v.owner_id = candidate.value
        WHERE +v.space_id = :space ORDER BY similarity DESC LIMIT :limit`,
    ).all({ query, ids: JSON.stringify(ids), kind: code, space: space.id, limit }) as VectorHit[];
  }

  vectorCounts(kind: VectorKind, space: EmbeddingSpace | undefined): Promise<VectorCounts> {
    return this.read(() => {
      const table = kind === "memory" ? "memories" : "entities";
      const total = this.sql(`SELECT count(*) FROM ${table}`).pluck().get() as number;
      const withVector = this.sql("SELECT count(*) FROM vectors WHERE kind = ?").pluck().get(kindCode(kind)) as number;
      const current = space
        ? (this.sql("SELECT count(*) FROM vectors WHERE kind = ? AND space_id = ?")
            .pluck()
            .get(kindCode(kind), space.id) as number)
        : 0;
      return { current, stale: withVector - current, missing: total - withVector };
    });
  }

  // ── Bulk and bookkeeping ───────────────────────────────────────────────────────────────────────

  importBatch(batch: ImportBatch): Promise<ImportedCounts> {
    return this.write(() => {
      const counts: ImportedCounts = { entities: 0, observations: 0, relations: 0, memories: 0 };
      const at = now();
      for (const entity of batch.entities) {
        let id = this.entityId(entity.name);
        if (id === undefined) {
          id = Number(
            this.sql("INSERT INTO entities(name, entity_type, created_at, updated_at) VALUES (?, ?, ?, ?)").run(
              entity.name,
              entity.entityType,
              at,
              at,
            ).lastInsertRowid,
          );
          counts.entities++;
          const added = this.insertObservations(id, entity.observations, at);
          counts.observations += added.length;
          this.indexEntity(id, { name: entity.name, entityType: entity.entityType, observations: added });
        } else {
          const added = this.insertObservations(id, entity.observations, at);
          counts.observations += added.length;
          if (added.length > 0) this.entityChanged(id, at);
        }
      }
      const insertRelation = this.sql(
        "INSERT INTO relations(from_name, to_name, relation_type, created_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
      );
      for (const r of batch.relations) counts.relations += insertRelation.run(r.from, r.to, r.relationType, at).changes;
      for (const memory of batch.memories) {
        if (!this.insertMemoryNow(memory).duplicate) counts.memories++;
      }
      return counts;
    });
  }

  async optimize(): Promise<void> {
    // Merging each full-text index into one segment makes lookups of common trigrams several times faster.
    for (const table of [...ENTITY_FTS, "memory_fts"])
      this.db.exec(`INSERT INTO ${table}(${table}) VALUES ('optimize')`);
    this.db.pragma("optimize");
  }

  async getMeta(key: string): Promise<string | undefined> {
    return this.sql("SELECT value FROM meta WHERE key = ?").pluck().get(key) as string | undefined;
  }

  setMeta(key: string, value: string): Promise<void> {
    return this.write(() => {
      this.sql("INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)").run(key, value);
    });
  }

  async close(): Promise<void> {
    if (!this.db.open) return;
    try {
      this.db.pragma("optimize");
    } catch {
      // Statistics are an optimisation; closing matters more.
    }
    this.db.close();
  }
}
