import type { Pool, PoolClient, QueryResult } from "pg";
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
  WORD_MATCH_CAP,
} from "./store.js";
import { entitySearchDoc, likeEscape } from "./text.js";
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
import { fromPgVector, toPgVector } from "./vectors.js";

const SCHEMA_VERSION = 1;
const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;
/** pgvector's HNSW index handles up to 2000 dimensions for `vector`. */
const HNSW_MAX_DIMENSIONS = 2000;

type Query = Pick<PoolClient, "query">;

const now = () => Date.now();

export interface PostgresStoreOptions {
  /** Schema that holds the tables (created if missing). */
  schema?: string;
  /** Connections in the pool. */
  maxConnections?: number;
  /** Longest a new connection may take, handshake included, before it fails. */
  connectTimeoutMs?: number;
}

/**
 * The shared store: PostgreSQL with pgvector (HNSW per embedding space) and built-in full-text
 * search (tsvector), for a team that shares one memory behind the HTTP transport. Every write is one
 * transaction; unique constraints with ON CONFLICT make concurrent writers safe.
 */
export async function openPostgresStore(url: string, options: PostgresStoreOptions = {}): Promise<MemoryStore> {
  const schema = options.schema ?? "portside_memory";
  if (!SCHEMA_NAME.test(schema)) {
    throw new Error(`schema name ${JSON.stringify(schema)} must be lowercase letters, digits and underscores`);
  }
  const pg = (await import("pg")).default;
  const int8 = 20;
  const pool = new pg.Pool({
    connectionString: url,
    max: options.maxConnections ?? 8,
    idleTimeoutMillis: 30_000,
    // Without it, a database host that drops packets (or accepts and never answers) hangs start-up.
    connectionTimeoutMillis: options.connectTimeoutMs ?? 10_000,
    types: {
      getTypeParser: ((oid: number, format?: string) =>
        oid === int8 ? (value: string) => Number(value) : pg.types.getTypeParser(oid, format as "text")) as never,
    },
  });
  pool.on("error", () => {
    // An idle client lost its connection; the pool replaces it on next use.
  });
  const store = new PostgresStore(pool, schema, describeUrl(url));
  try {
    await store.migrate();
  } catch (error) {
    await pool.end().catch(() => undefined);
    throw error;
  }
  return store;
}

/** host:port/database, without user or password. */
function describeUrl(url: string): string {
  try {
    const parsed = new URL(url);
    return `postgresql://${parsed.host}${parsed.pathname}`;
  } catch {
    return "postgresql (unparseable URL)";
  }
}

class PostgresStore implements MemoryStore {
  readonly kind = "postgres" as const;
  supportsVectors = false;
  private trigram = false;
  private readonly s: string;
  private readonly indexedSpaces = new Set<string>();

  constructor(
    private readonly pool: Pool,
    schema: string,
    readonly location: string,
  ) {
    this.s = `"${schema}"`;
  }

  private async tx<T>(fn: (client: PoolClient) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    try {
      await client.query("BEGIN");
      const result = await fn(client);
      await client.query("COMMIT");
      return result;
    } catch (error) {
      await client.query("ROLLBACK").catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  }

  /**
   * One statement in its own transaction. Costs two short round trips on PostgreSQL; in return the
   * statement never interleaves with another connection's on a multiplexing proxy (PGlite's socket
   * server, which the tests use, keeps a connection exclusive only while it is in a transaction).
   */
  private query(text: string, params?: unknown[]): Promise<QueryResult> {
    return this.tx((c) => c.query(text, params));
  }

  async migrate(): Promise<void> {
    const s = this.s;
    await this.tx(async (c) => {
      await c.query("SELECT pg_advisory_xact_lock(hashtext($1))", [`portside-memory:${s}`]);
      this.supportsVectors = await tryExtension(c, "vector");
      this.trigram = await tryExtension(c, "pg_trgm");
      await c.query(`CREATE SCHEMA IF NOT EXISTS ${s}`);
      await c.query(`
        CREATE TABLE IF NOT EXISTS ${s}.meta(key text PRIMARY KEY, value text NOT NULL);
        CREATE TABLE IF NOT EXISTS ${s}.entities(
          id serial PRIMARY KEY,
          name text NOT NULL UNIQUE,
          entity_type text NOT NULL,
          search_doc text NOT NULL DEFAULT '',
          revision integer NOT NULL DEFAULT 0,
          created_at bigint NOT NULL,
          updated_at bigint NOT NULL
        );
        CREATE TABLE IF NOT EXISTS ${s}.observations(
          id serial PRIMARY KEY,
          entity_id integer NOT NULL REFERENCES ${s}.entities(id) ON DELETE CASCADE,
          content text NOT NULL,
          created_at bigint NOT NULL
        );
        CREATE UNIQUE INDEX IF NOT EXISTS observations_unique ON ${s}.observations(entity_id, md5(content));
        CREATE TABLE IF NOT EXISTS ${s}.relations(
          id serial PRIMARY KEY,
          from_name text NOT NULL,
          to_name text NOT NULL,
          relation_type text NOT NULL,
          created_at bigint NOT NULL
        );
        CREATE UNIQUE INDEX IF NOT EXISTS relations_unique ON ${s}.relations(md5(from_name), md5(to_name), md5(relation_type));
        CREATE INDEX IF NOT EXISTS relations_from ON ${s}.relations(from_name);
        CREATE INDEX IF NOT EXISTS relations_to ON ${s}.relations(to_name);
        CREATE TABLE IF NOT EXISTS ${s}.memories(
          id serial PRIMARY KEY,
          content text NOT NULL,
          content_hash text NOT NULL,
          tags_text text NOT NULL DEFAULT '',
          metadata jsonb NOT NULL DEFAULT '{}',
          source text,
          revision integer NOT NULL DEFAULT 0,
          created_at bigint NOT NULL,
          updated_at bigint NOT NULL,
          tsv tsvector GENERATED ALWAYS AS (to_tsvector('english', content || ' ' || tags_text)) STORED
        );
        CREATE INDEX IF NOT EXISTS memories_hash ON ${s}.memories(content_hash);
        CREATE INDEX IF NOT EXISTS memories_created ON ${s}.memories(created_at);
        CREATE INDEX IF NOT EXISTS memories_tsv ON ${s}.memories USING gin(tsv);
        CREATE TABLE IF NOT EXISTS ${s}.memory_tags(
          tag text NOT NULL,
          memory_id integer NOT NULL REFERENCES ${s}.memories(id) ON DELETE CASCADE,
          PRIMARY KEY(tag, memory_id)
        );
        CREATE INDEX IF NOT EXISTS memory_tags_memory ON ${s}.memory_tags(memory_id);
        CREATE TABLE IF NOT EXISTS ${s}.memory_entities(
          entity_name text NOT NULL,
          memory_id integer NOT NULL REFERENCES ${s}.memories(id) ON DELETE CASCADE,
          PRIMARY KEY(entity_name, memory_id)
        );
        CREATE INDEX IF NOT EXISTS memory_entities_memory ON ${s}.memory_entities(memory_id);
        CREATE TABLE IF NOT EXISTS ${s}.embedding_spaces(
          id serial PRIMARY KEY,
          model text NOT NULL,
          dimensions integer NOT NULL,
          UNIQUE(model, dimensions)
        );
      `);
      if (this.trigram) {
        await c.query(
          `CREATE INDEX IF NOT EXISTS entities_search_trgm ON ${s}.entities USING gin(search_doc gin_trgm_ops);
           CREATE INDEX IF NOT EXISTS entities_name_trgm ON ${s}.entities USING gin(name gin_trgm_ops)`,
        );
      }
      if (this.supportsVectors) {
        await c.query(`
          CREATE TABLE IF NOT EXISTS ${s}.vectors(
            kind char(1) NOT NULL CHECK (kind IN ('m', 'e')),
            owner_id integer NOT NULL,
            space_id integer NOT NULL REFERENCES ${s}.embedding_spaces(id),
            content_hash text NOT NULL,
            embedding vector NOT NULL,
            PRIMARY KEY(kind, owner_id)
          );
          CREATE INDEX IF NOT EXISTS vectors_hash ON ${s}.vectors(space_id, content_hash);
        `);
      }
      const version = await c.query(`SELECT value FROM ${s}.meta WHERE key = 'schema_version'`);
      const found = version.rows[0]?.value as string | undefined;
      if (found !== undefined && Number(found) > SCHEMA_VERSION) {
        throw new Error(
          `the database schema ${s} was written by a newer server version (${found}); upgrade the server`,
        );
      }
      await c.query(
        `INSERT INTO ${s}.meta(key, value) VALUES ('schema_version', $1) ON CONFLICT (key) DO UPDATE SET value = excluded.value`,
        [String(SCHEMA_VERSION)],
      );
    });
  }

  // ── Knowledge graph ────────────────────────────────────────────────────────────────────────────

  createEntities(entities: Entity[]): Promise<Entity[]> {
    const s = this.s;
    return this.tx(async (c) => {
      const created: Entity[] = [];
      const at = now();
      for (const entity of firstOfEachName(entities)) {
        const inserted = await c.query(
          `INSERT INTO ${s}.entities(name, entity_type, created_at, updated_at) VALUES ($1, $2, $3, $3)
            ON CONFLICT (name) DO NOTHING RETURNING id`,
          [entity.name, entity.entityType, at],
        );
        const id = inserted.rows[0]?.id as number | undefined;
        if (id === undefined) continue;
        const observations = await this.insertObservations(c, id, entity.observations, at);
        const stored = { name: entity.name, entityType: entity.entityType, observations };
        await c.query(`UPDATE ${s}.entities SET search_doc = $2 WHERE id = $1`, [id, entitySearchDoc(stored)]);
        created.push(stored);
      }
      return created;
    });
  }

  private async insertObservations(c: Query, entityId: number, contents: string[], at: number): Promise<string[]> {
    if (contents.length === 0) return [];
    const unique = [...new Set(contents)];
    const result = await c.query(
      `INSERT INTO ${this.s}.observations(entity_id, content, created_at)
        SELECT $1, content, $3 FROM unnest($2::text[]) WITH ORDINALITY AS t(content, n) ORDER BY n
        ON CONFLICT DO NOTHING RETURNING content`,
      [entityId, unique, at],
    );
    const added = new Set(result.rows.map((r) => r.content as string));
    return unique.filter((content) => added.has(content));
  }

  private async entityChanged(c: Query, id: number, at: number): Promise<void> {
    const s = this.s;
    const row = (await c.query(`SELECT name, entity_type FROM ${s}.entities WHERE id = $1`, [id])).rows[0] as
      | { name: string; entity_type: string }
      | undefined;
    if (!row) return;
    const observations = (
      await c.query(`SELECT content FROM ${s}.observations WHERE entity_id = $1 ORDER BY id`, [id])
    ).rows.map((r) => r.content as string);
    const doc = entitySearchDoc({ name: row.name, entityType: row.entity_type, observations });
    await c.query(`UPDATE ${s}.entities SET revision = revision + 1, updated_at = $2, search_doc = $3 WHERE id = $1`, [
      id,
      at,
      doc,
    ]);
    if (this.supportsVectors) await c.query(`DELETE FROM ${s}.vectors WHERE kind = 'e' AND owner_id = $1`, [id]);
  }

  private async entityId(c: Query, name: string, lock = false): Promise<number | undefined> {
    const result = await c.query(`SELECT id FROM ${this.s}.entities WHERE name = $1 ${lock ? "FOR UPDATE" : ""}`, [
      name,
    ]);
    return result.rows[0]?.id as number | undefined;
  }

  createRelations(relations: Relation[]): Promise<Relation[]> {
    return this.tx(async (c) => {
      const created: Relation[] = [];
      const at = now();
      for (const r of relations) {
        const result = await c.query(
          `INSERT INTO ${this.s}.relations(from_name, to_name, relation_type, created_at) VALUES ($1, $2, $3, $4)
            ON CONFLICT DO NOTHING`,
          [r.from, r.to, r.relationType, at],
        );
        if ((result.rowCount ?? 0) > 0) created.push({ from: r.from, to: r.to, relationType: r.relationType });
      }
      return created;
    });
  }

  addObservations(additions: ObservationAddition[]): Promise<AddedObservations[]> {
    return this.tx(async (c) => {
      const at = now();
      const results: AddedObservations[] = [];
      for (const addition of additions) {
        const id = await this.entityId(c, addition.entityName, true);
        if (id === undefined) throw new MissingEntityError(addition.entityName);
        const added = await this.insertObservations(c, id, addition.contents, at);
        if (added.length > 0) await this.entityChanged(c, id, at);
        results.push({ entityName: addition.entityName, addedObservations: added });
      }
      return results;
    });
  }

  deleteEntities(names: string[]): Promise<number> {
    const s = this.s;
    return this.tx(async (c) => {
      const unique = [...new Set(names)];
      const deleted = await c.query(`DELETE FROM ${s}.entities WHERE name = ANY($1::text[]) RETURNING id`, [unique]);
      const ids = deleted.rows.map((r) => r.id as number);
      if (this.supportsVectors && ids.length > 0) {
        await c.query(`DELETE FROM ${s}.vectors WHERE kind = 'e' AND owner_id = ANY($1::int[])`, [ids]);
      }
      await c.query(`DELETE FROM ${s}.relations WHERE from_name = ANY($1::text[]) OR to_name = ANY($1::text[])`, [
        unique,
      ]);
      await c.query(`DELETE FROM ${s}.memory_entities WHERE entity_name = ANY($1::text[])`, [unique]);
      return ids.length;
    });
  }

  deleteObservations(deletions: ObservationDeletion[]): Promise<number> {
    return this.tx(async (c) => {
      const at = now();
      let deleted = 0;
      for (const deletion of deletions) {
        const id = await this.entityId(c, deletion.entityName, true);
        if (id === undefined) continue;
        const result = await c.query(
          `DELETE FROM ${this.s}.observations WHERE entity_id = $1 AND content = ANY($2::text[])`,
          [id, deletion.observations],
        );
        const changed = result.rowCount ?? 0;
        if (changed > 0) await this.entityChanged(c, id, at);
        deleted += changed;
      }
      return deleted;
    });
  }

  deleteRelations(relations: Relation[]): Promise<number> {
    return this.tx(async (c) => {
      let deleted = 0;
      for (const r of relations) {
        const result = await c.query(
          `DELETE FROM ${this.s}.relations WHERE from_name = $1 AND to_name = $2 AND relation_type = $3`,
          [r.from, r.to, r.relationType],
        );
        deleted += result.rowCount ?? 0;
      }
      return deleted;
    });
  }

  async readGraph(position: GraphPosition | undefined, limit: number): Promise<{ items: GraphItem[]; more: boolean }> {
    const s = this.s;
    return this.tx(async (c) => {
      // One snapshot for both phases of the page.
      await c.query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY");
      const items: GraphItem[] = [];
      let phase = position?.phase ?? "entities";
      let after = position?.after ?? 0;
      if (phase === "entities") {
        const rows = (
          await c.query(`SELECT id, name, entity_type FROM ${s}.entities WHERE id > $1 ORDER BY id LIMIT $2`, [
            after,
            limit + 1,
          ])
        ).rows as EntityRow[];
        const page = rows.slice(0, limit);
        const observations = await this.observationsFor(
          c,
          page.map((r) => r.id),
        );
        for (const row of page) items.push(entityItem(row, observations));
        if (rows.length > limit) return { items, more: true };
        phase = "relations";
        after = 0;
      }
      const room = limit - items.length;
      const rows = (
        await c.query(
          `SELECT id, from_name, to_name, relation_type FROM ${s}.relations WHERE id > $1 ORDER BY id LIMIT $2`,
          [after, room + 1],
        )
      ).rows as Array<RelationRow & { id: number }>;
      for (const row of rows.slice(0, room)) items.push(relationItem(row));
      return { items, more: rows.length > room };
    });
  }

  private async observationsFor(c: Query, ids: number[]): Promise<Map<number, string[]>> {
    if (ids.length === 0) return new Map();
    return this.groupBy(
      c,
      `SELECT entity_id AS owner, content AS value FROM ${this.s}.observations WHERE entity_id = ANY($1::int[]) ORDER BY id`,
      ids,
    );
  }

  private async entitiesWhere(c: Query, column: "name" | "id", keys: Array<string | number>): Promise<EntityWithId[]> {
    if (keys.length === 0) return [];
    const type = column === "name" ? "text" : "int";
    const rows = (
      await c.query(`SELECT id, name, entity_type FROM ${this.s}.entities WHERE ${column} = ANY($1::${type}[])`, [keys])
    ).rows as EntityRow[];
    const observations = await this.observationsFor(
      c,
      rows.map((r) => r.id),
    );
    return entitiesInKeyOrder(column, keys, rows, observations);
  }

  getEntities(names: string[]): Promise<EntityWithId[]> {
    return this.tx((c) => this.entitiesWhere(c, "name", names));
  }

  getEntitiesById(ids: number[]): Promise<EntityWithId[]> {
    return this.tx((c) => this.entitiesWhere(c, "id", ids));
  }

  async relationsTouching(names: string[], limit: number): Promise<{ relations: Relation[]; more: boolean }> {
    if (names.length === 0) return { relations: [], more: false };
    const rows = (
      await this.query(
        `SELECT from_name, to_name, relation_type FROM ${this.s}.relations
          WHERE from_name = ANY($1::text[]) OR to_name = ANY($1::text[]) ORDER BY id LIMIT $2`,
        [names, limit + 1],
      )
    ).rows as RelationRow[];
    return { relations: rows.slice(0, limit).map(toRelation), more: rows.length > limit };
  }

  searchEntities(query: string, limit: number): Promise<EntityMatches> {
    const s = this.s;
    if (query.length === 0) return Promise.resolve({ substring: [], terms: [] });
    return this.tx(async (c) => {
      const pattern = `%${likeEscape(query)}%`;
      const perColumn = new Map<string, number[]>();
      for (const [column] of SUBSTRING_COLUMNS) {
        const sqlColumn = column === "observations" ? "search_doc" : column;
        const rows = await c.query(
          `SELECT id FROM ${s}.entities WHERE ${sqlColumn} ILIKE $1 ORDER BY id DESC LIMIT $2`,
          [pattern, limit * 3],
        );
        perColumn.set(
          column,
          rows.rows.map((r) => r.id as number),
        );
      }
      const substring = rankSubstringMatches(limit, (column, want) => (perColumn.get(column) ?? []).slice(0, want));
      const words = searchWords(query);
      const newest = ((await c.query(`SELECT max(id) AS n FROM ${s}.entities`)).rows[0]?.n as number | null) ?? 0;
      const perWord = new Map<string, number[]>();
      for (const word of words) {
        const rows = await c.query(`SELECT id FROM ${s}.entities WHERE search_doc ILIKE $1 ORDER BY id DESC LIMIT $2`, [
          `%${likeEscape(word)}%`,
          WORD_MATCH_CAP,
        ]);
        perWord.set(
          word,
          rows.rows.map((r) => r.id as number),
        );
      }
      const terms = rankWordMatches(words, newest, limit, (word) => perWord.get(word) ?? []);
      return { substring, terms };
    });
  }

  async graphCounts(): Promise<GraphCounts> {
    const s = this.s;
    const row = (
      await this.query(
        `SELECT (SELECT count(*) FROM ${s}.entities) AS entities, (SELECT count(*) FROM ${s}.relations) AS relations,
          (SELECT count(*) FROM ${s}.observations) AS observations`,
      )
    ).rows[0] as GraphCounts;
    return row;
  }

  // ── Memories ───────────────────────────────────────────────────────────────────────────────────

  insertMemory(memory: NewMemory): Promise<InsertedMemory> {
    return this.tx((c) => this.insertMemoryIn(c, memory));
  }

  private async insertMemoryIn(c: Query, memory: NewMemory): Promise<InsertedMemory> {
    const s = this.s;
    // Serialise writers of the same content, so two processes storing one fact keep one row.
    await c.query("SELECT pg_advisory_xact_lock(hashtext($1))", [`portside-memory:${memory.contentHash}`]);
    const existing = (
      await c.query(`SELECT id FROM ${s}.memories WHERE content_hash = $1 AND content = $2 LIMIT 1 FOR UPDATE`, [
        memory.contentHash,
        memory.content,
      ])
    ).rows[0]?.id as number | undefined;
    if (existing !== undefined) {
      await this.addTags(c, existing, memory.tags);
      await this.addLinks(c, existing, memory.entities);
      await this.refreshTagsText(c, existing);
      return { id: existing, duplicate: true };
    }
    const at = memory.createdAt ?? now();
    const id = (
      await c.query(
        `INSERT INTO ${s}.memories(content, content_hash, metadata, source, created_at, updated_at)
          VALUES ($1, $2, $3, $4, $5, $5) RETURNING id`,
        [memory.content, memory.contentHash, JSON.stringify(memory.metadata), memory.source, at],
      )
    ).rows[0].id as number;
    await this.addTags(c, id, memory.tags);
    await this.addLinks(c, id, memory.entities);
    await this.refreshTagsText(c, id);
    return { id, duplicate: false };
  }

  private async addTags(c: Query, id: number, tags: string[]): Promise<void> {
    if (tags.length === 0) return;
    await c.query(
      `INSERT INTO ${this.s}.memory_tags(tag, memory_id) SELECT unnest($1::text[]), $2 ON CONFLICT DO NOTHING`,
      [tags, id],
    );
  }

  private async addLinks(c: Query, id: number, names: string[]): Promise<void> {
    if (names.length === 0) return;
    await c.query(
      `INSERT INTO ${this.s}.memory_entities(entity_name, memory_id) SELECT unnest($1::text[]), $2 ON CONFLICT DO NOTHING`,
      [names, id],
    );
  }

  private async refreshTagsText(c: Query, id: number): Promise<void> {
    const s = this.s;
    await c.query(
      `UPDATE ${s}.memories SET tags_text = coalesce((SELECT string_agg(tag, ' ' ORDER BY tag) FROM ${s}.memory_tags
        WHERE memory_id = $1), '') WHERE id = $1`,
      [id],
    );
  }

  updateMemory(id: number, patch: MemoryPatch): Promise<Memory | undefined> {
    const s = this.s;
    return this.tx(async (c) => {
      const row = (await c.query(`SELECT metadata, content_hash FROM ${s}.memories WHERE id = $1 FOR UPDATE`, [id]))
        .rows[0] as { metadata: Record<string, unknown>; content_hash: string } | undefined;
      if (!row) return undefined;
      // Same text, same vector: only a real change of content costs a new embedding.
      if (patch.content && patch.content.hash !== row.content_hash) {
        await c.query(
          `UPDATE ${s}.memories SET content = $2, content_hash = $3, revision = revision + 1 WHERE id = $1`,
          [id, patch.content.text, patch.content.hash],
        );
        if (this.supportsVectors) await c.query(`DELETE FROM ${s}.vectors WHERE kind = 'm' AND owner_id = $1`, [id]);
      }
      if (patch.tags) {
        await c.query(`DELETE FROM ${s}.memory_tags WHERE memory_id = $1`, [id]);
        await this.addTags(c, id, patch.tags);
      }
      if (patch.addTags) await this.addTags(c, id, patch.addTags);
      if (patch.removeTags) {
        await c.query(`DELETE FROM ${s}.memory_tags WHERE memory_id = $1 AND tag = ANY($2::text[])`, [
          id,
          patch.removeTags,
        ]);
      }
      if (patch.metadata) {
        await c.query(`UPDATE ${s}.memories SET metadata = $2 WHERE id = $1`, [
          id,
          JSON.stringify(mergeMetadata(row.metadata, patch.metadata)),
        ]);
      }
      if (patch.entities) {
        await c.query(`DELETE FROM ${s}.memory_entities WHERE memory_id = $1`, [id]);
        await this.addLinks(c, id, patch.entities);
      }
      await c.query(`UPDATE ${s}.memories SET updated_at = $2 WHERE id = $1`, [id, now()]);
      await this.refreshTagsText(c, id);
      return (await this.memoriesById(c, [id]))[0];
    });
  }

  deleteMemories(ids: number[]): Promise<number[]> {
    const s = this.s;
    return this.tx(async (c) => {
      const deleted = (
        await c.query(`DELETE FROM ${s}.memories WHERE id = ANY($1::int[]) RETURNING id`, [[...new Set(ids)]])
      ).rows.map((r) => r.id as number);
      if (this.supportsVectors && deleted.length > 0) {
        await c.query(`DELETE FROM ${s}.vectors WHERE kind = 'm' AND owner_id = ANY($1::int[])`, [deleted]);
      }
      return deleted;
    });
  }

  private async memoriesById(c: Query, ids: number[]): Promise<Memory[]> {
    if (ids.length === 0) return [];
    const s = this.s;
    const rows = (
      await c.query(
        `SELECT id, content, metadata, source, created_at, updated_at FROM ${s}.memories WHERE id = ANY($1::int[])`,
        [ids],
      )
    ).rows as MemoryRow[];
    const tags = await this.groupBy(
      c,
      `SELECT memory_id AS owner, tag AS value FROM ${s}.memory_tags WHERE memory_id = ANY($1::int[]) ORDER BY tag`,
      ids,
    );
    const links = await this.groupBy(
      c,
      `SELECT memory_id AS owner, entity_name AS value FROM ${s}.memory_entities WHERE memory_id = ANY($1::int[])
        ORDER BY entity_name`,
      ids,
    );
    return memoriesInIdOrder(ids, rows, tags, links);
  }

  private async groupBy(c: Query, sql: string, ids: number[]): Promise<Map<number, string[]>> {
    return groupByOwner((await c.query(sql, [ids])).rows as Array<{ owner: number; value: string }>);
  }

  getMemories(ids: number[]): Promise<Memory[]> {
    return this.tx((c) => this.memoriesById(c, ids));
  }

  /** Conditions on `memories AS m`, numbering parameters from `$${offset + 1}`. */
  private filterSql(filter: MemoryFilter, offset: number): { where: string; params: unknown[] } {
    const s = this.s;
    const clauses: string[] = [];
    const params: unknown[] = [];
    const next = (value: unknown) => {
      params.push(value);
      return `$${offset + params.length}`;
    };
    if (filter.tags && filter.tags.length > 0) {
      const tags = [...new Set(filter.tags)];
      clauses.push(
        `m.id IN (SELECT memory_id FROM ${s}.memory_tags WHERE tag = ANY(${next(tags)}::text[])
          GROUP BY memory_id HAVING count(*) = ${next(tags.length)})`,
      );
    }
    if (filter.entity !== undefined) {
      clauses.push(`m.id IN (SELECT memory_id FROM ${s}.memory_entities WHERE entity_name = ${next(filter.entity)})`);
    }
    if (filter.since !== undefined) clauses.push(`m.created_at >= ${next(filter.since)}`);
    if (filter.until !== undefined) clauses.push(`m.created_at < ${next(filter.until)}`);
    return { where: clauses.length ? clauses.join(" AND ") : "true", params };
  }

  async listMemories(filter: MemoryFilter, beforeId: number | undefined, limit: number): Promise<Memory[]> {
    const { where, params } = this.filterSql(filter, 2);
    const ids = (
      await this.query(
        `SELECT m.id FROM ${this.s}.memories m WHERE m.id < $1 AND ${where} ORDER BY m.id DESC LIMIT $2`,
        [beforeId ?? 2_147_483_647, limit, ...params],
      )
    ).rows.map((r) => r.id as number);
    return this.tx((c) => this.memoriesById(c, ids));
  }

  async countMemories(filter: MemoryFilter): Promise<number> {
    const { where, params } = this.filterSql(filter, 0);
    return (await this.query(`SELECT count(*) AS n FROM ${this.s}.memories m WHERE ${where}`, params)).rows[0]
      .n as number;
  }

  async searchMemories(terms: string[], filter: MemoryFilter, limit: number): Promise<RankedId[]> {
    // tsquery has its own syntax: keep only letters and digits, so no operator gets through.
    const words = [...new Set(terms.flatMap((t) => t.split(/[^\p{L}\p{N}]+/u)).filter(Boolean))];
    if (words.length === 0) return [];
    const { where, params } = this.filterSql(filter, 2);
    const rows = (
      await this.query(
        `SELECT m.id, ts_rank_cd(m.tsv, q) AS score FROM ${this.s}.memories m, to_tsquery('english', $1) q
          WHERE m.tsv @@ q AND ${where} ORDER BY score DESC, m.id DESC LIMIT $2`,
        [words.join(" | "), limit, ...params],
      )
    ).rows as RankedId[];
    return rows;
  }

  // ── Vectors ────────────────────────────────────────────────────────────────────────────────────

  private requireVectors(): void {
    if (!this.supportsVectors) throw new Error("this PostgreSQL database has no pgvector extension");
  }

  async embeddingSpace(model: string, dimensions: number): Promise<EmbeddingSpace> {
    this.requireVectors();
    const s = this.s;
    await this.query(`INSERT INTO ${s}.embedding_spaces(model, dimensions) VALUES ($1, $2) ON CONFLICT DO NOTHING`, [
      model,
      dimensions,
    ]);
    const id = (
      await this.query(`SELECT id FROM ${s}.embedding_spaces WHERE model = $1 AND dimensions = $2`, [model, dimensions])
    ).rows[0].id as number;
    const space = { id, model, dimensions };
    await this.ensureVectorIndexes(space);
    return space;
  }

  /** One HNSW index per space and kind, so each holds vectors of a single dimension. */
  private async ensureVectorIndexes(space: EmbeddingSpace): Promise<void> {
    if (space.dimensions > HNSW_MAX_DIMENSIONS) return;
    for (const code of ["m", "e"]) {
      const name = `vectors_hnsw_${space.id}_${code}`;
      if (this.indexedSpaces.has(name)) continue;
      await this.query(
        `CREATE INDEX IF NOT EXISTS ${name} ON ${this.s}.vectors USING hnsw ((embedding::vector(${space.dimensions})) vector_cosine_ops)
          WHERE space_id = ${space.id} AND kind = '${code}'`,
      );
      this.indexedSpaces.add(name);
    }
  }

  async pendingEmbeddings(
    kind: VectorKind,
    space: EmbeddingSpace | undefined,
    scope: EmbeddingScope,
    afterId: number,
    limit: number,
  ): Promise<PendingEmbedding[]> {
    if (!this.supportsVectors) return [];
    const s = this.s;
    const stale = scope === "all" ? "OR true" : scope === "stale" && space ? `OR v.space_id <> ${space.id}` : "";
    if (kind === "memory") {
      const rows = (
        await this.query(
          `SELECT m.id, m.revision, m.content FROM ${s}.memories m
            LEFT JOIN ${s}.vectors v ON v.kind = 'm' AND v.owner_id = m.id
            WHERE m.id > $1 AND (v.owner_id IS NULL ${stale}) ORDER BY m.id LIMIT $2`,
          [afterId, limit],
        )
      ).rows as Array<{ id: number; revision: number; content: string }>;
      return rows.map((r) => ({ kind, id: r.id, revision: r.revision, text: r.content }));
    }
    const rows = (
      await this.query(
        `SELECT e.id, e.revision FROM ${s}.entities e
          LEFT JOIN ${s}.vectors v ON v.kind = 'e' AND v.owner_id = e.id
          WHERE e.id > $1 AND (v.owner_id IS NULL ${stale}) ORDER BY e.id LIMIT $2`,
        [afterId, limit],
      )
    ).rows as Array<{ id: number; revision: number }>;
    const entities = await this.tx((c) =>
      this.entitiesWhere(
        c,
        "id",
        rows.map((r) => r.id),
      ),
    );
    return pendingEntities(kind, rows, entities);
  }

  async vectorsByHash(space: EmbeddingSpace, hashes: string[]): Promise<Map<string, Float32Array>> {
    const out = new Map<string, Float32Array>();
    if (hashes.length === 0 || !this.supportsVectors) return out;
    const rows = (
      await this.query(
        `SELECT DISTINCT ON (content_hash) content_hash, embedding::text AS embedding FROM ${this.s}.vectors
          WHERE space_id = $1 AND content_hash = ANY($2::text[])`,
        [space.id, hashes],
      )
    ).rows as Array<{ content_hash: string; embedding: string }>;
    for (const row of rows) out.set(row.content_hash, fromPgVector(row.embedding));
    return out;
  }

  putVectors(space: EmbeddingSpace, vectors: StoredVector[]): Promise<number> {
    this.requireVectors();
    const s = this.s;
    return this.tx(async (c) => {
      let written = 0;
      for (const item of vectors) {
        checkDimensions(space, item.vector);
        const table = item.kind === "memory" ? "memories" : "entities";
        // FOR SHARE holds off a concurrent delete until the vector is in, so none is left behind.
        const result = await c.query(
          `INSERT INTO ${s}.vectors(kind, owner_id, space_id, content_hash, embedding)
            SELECT $1, $2, $3, $4, $5::vector WHERE EXISTS (
              SELECT 1 FROM ${s}.${table} WHERE id = $2 AND revision = $6 FOR SHARE)
            ON CONFLICT (kind, owner_id) DO UPDATE SET space_id = excluded.space_id,
              content_hash = excluded.content_hash, embedding = excluded.embedding`,
          [kindCode(item.kind), item.id, space.id, item.contentHash, toPgVector(item.vector), item.revision],
        );
        written += result.rowCount ?? 0;
      }
      return written;
    });
  }

  async warmUp(): Promise<void> {
    // PostgreSQL keeps its own indexes warm.
  }

  async nearest(
    kind: VectorKind,
    space: EmbeddingSpace,
    query: Float32Array,
    limit: number,
    filter?: MemoryFilter,
  ): Promise<VectorHit[]> {
    this.requireVectors();
    const s = this.s;
    const code = kindCode(kind);
    const vector = toPgVector(query);
    if (kind === "memory" && hasFilter(filter)) {
      // Exact distances over the filtered rows: an approximate index would drop matches the filter keeps.
      const { where, params } = this.filterSql(filter, 3);
      return (
        await this.query(
          `SELECT v.owner_id AS id, 1 - (v.embedding <=> $1::vector) AS similarity FROM ${s}.vectors v
            WHERE v.kind = 'm' AND v.space_id = $2 AND v.owner_id IN (SELECT m.id FROM ${s}.memories m WHERE ${where})
            ORDER BY v.embedding <=> $1::vector LIMIT $3`,
          [vector, space.id, limit, ...params],
        )
      ).rows as VectorHit[];
    }
    if (space.dimensions > HNSW_MAX_DIMENSIONS) {
      return (
        await this.query(
          `SELECT owner_id AS id, 1 - (embedding <=> $1::vector) AS similarity FROM ${s}.vectors
            WHERE kind = '${code}' AND space_id = ${space.id} ORDER BY embedding <=> $1::vector LIMIT $2`,
          [vector, limit],
        )
      ).rows as VectorHit[];
    }
    const typed = `vector(${space.dimensions})`;
    return this.tx(async (c) => {
      await c.query(`SET LOCAL hnsw.ef_search = ${Math.min(1000, Math.max(40, limit * 2))}`);
      return (
        await c.query(
          `SELECT owner_id AS id, 1 - ((embedding::${typed}) <=> $1::${typed}) AS similarity FROM ${s}.vectors
            WHERE kind = '${code}' AND space_id = ${space.id}
            ORDER BY (embedding::${typed}) <=> $1::${typed} LIMIT $2`,
          [vector, limit],
        )
      ).rows as VectorHit[];
    });
  }

  async similarities(
    kind: VectorKind,
    space: EmbeddingSpace,
    query: Float32Array,
    ids: number[],
  ): Promise<VectorHit[]> {
    if (ids.length === 0 || !this.supportsVectors) return [];
    return (
      await this.query(
        `SELECT owner_id AS id, 1 - (embedding <=> $1::vector) AS similarity FROM ${this.s}.vectors
          WHERE kind = $2 AND space_id = $3 AND owner_id = ANY($4::int[])`,
        [toPgVector(query), kindCode(kind), space.id, ids],
      )
    ).rows as VectorHit[];
  }

  async vectorCounts(kind: VectorKind, space: EmbeddingSpace | undefined): Promise<VectorCounts> {
    const s = this.s;
    const table = kind === "memory" ? "memories" : "entities";
    const total = (await this.query(`SELECT count(*) AS n FROM ${s}.${table}`)).rows[0].n as number;
    if (!this.supportsVectors) return { current: 0, stale: 0, missing: total };
    const row = (
      await this.query(
        `SELECT count(*) AS all_vectors, count(*) FILTER (WHERE space_id = $2) AS current FROM ${s}.vectors WHERE kind = $1`,
        [kindCode(kind), space?.id ?? -1],
      )
    ).rows[0] as { all_vectors: number; current: number };
    return { current: row.current, stale: row.all_vectors - row.current, missing: total - row.all_vectors };
  }

  // ── Bulk and bookkeeping ───────────────────────────────────────────────────────────────────────

  importBatch(batch: ImportBatch): Promise<ImportedCounts> {
    const s = this.s;
    return this.tx(async (c) => {
      const counts: ImportedCounts = { entities: 0, observations: 0, relations: 0, memories: 0 };
      const at = now();
      for (const entity of batch.entities) {
        const inserted = await c.query(
          `INSERT INTO ${s}.entities(name, entity_type, created_at, updated_at) VALUES ($1, $2, $3, $3)
            ON CONFLICT (name) DO NOTHING RETURNING id`,
          [entity.name, entity.entityType, at],
        );
        const newId = inserted.rows[0]?.id as number | undefined;
        const id = newId ?? (await this.entityId(c, entity.name, true));
        if (id === undefined) continue;
        const added = await this.insertObservations(c, id, entity.observations, at);
        counts.observations += added.length;
        if (newId !== undefined) {
          counts.entities++;
          await c.query(`UPDATE ${s}.entities SET search_doc = $2 WHERE id = $1`, [
            id,
            entitySearchDoc({ name: entity.name, entityType: entity.entityType, observations: added }),
          ]);
        } else if (added.length > 0) {
          await this.entityChanged(c, id, at);
        }
      }
      for (const r of batch.relations) {
        const result = await c.query(
          `INSERT INTO ${s}.relations(from_name, to_name, relation_type, created_at) VALUES ($1, $2, $3, $4)
            ON CONFLICT DO NOTHING`,
          [r.from, r.to, r.relationType, at],
        );
        counts.relations += result.rowCount ?? 0;
      }
      for (const memory of batch.memories) {
        if (!(await this.insertMemoryIn(c, memory)).duplicate) counts.memories++;
      }
      return counts;
    });
  }

  async optimize(): Promise<void> {
    const s = this.s;
    for (const table of ["entities", "observations", "relations", "memories", "memory_tags", "memory_entities"]) {
      await this.query(`ANALYZE ${s}.${table}`);
    }
  }

  async getMeta(key: string): Promise<string | undefined> {
    return (await this.query(`SELECT value FROM ${this.s}.meta WHERE key = $1`, [key])).rows[0]?.value as
      | string
      | undefined;
  }

  async setMeta(key: string, value: string): Promise<void> {
    await this.query(
      `INSERT INTO ${this.s}.meta(key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value`,
      [key, value],
    );
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}

/** Creates an extension if it is available; a database without it still works, with less. */
async function tryExtension(c: PoolClient, name: "vector" | "pg_trgm"): Promise<boolean> {
  await c.query("SAVEPOINT extension");
  try {
    await c.query(`CREATE EXTENSION IF NOT EXISTS ${name}`);
    await c.query("RELEASE SAVEPOINT extension");
    return true;
  } catch {
    await c.query("ROLLBACK TO SAVEPOINT extension");
    const installed = await c.query("SELECT 1 FROM pg_extension WHERE extname = $1", [name]);
    return (installed.rowCount ?? 0) > 0;
  }
}
