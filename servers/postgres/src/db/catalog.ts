import type { PoolClient } from "pg";
import type { QualifiedName, TablePolicy } from "../sql/allowlist.js";

export type RelationKind = "table" | "view" | "materialized view" | "foreign table" | "partitioned table";

const KINDS: Record<string, RelationKind> = {
  r: "table",
  v: "view",
  m: "materialized view",
  f: "foreign table",
  p: "partitioned table",
};

export interface RelationInfo extends QualifiedName {
  kind: RelationKind;
  /** The planner's row estimate (-1 when never analysed). */
  estimatedRows: number;
  comment: string | null;
}

/**
 * The relations of the database, read in one catalog query. Used to resolve unqualified names the
 * way PostgreSQL would, and to list what the allowlist lets through.
 */
export class CatalogSnapshot {
  private readonly bySchema = new Map<string, Map<string, RelationInfo>>();
  private readonly unique = new Map<string, string[][]>();
  readonly takenAt = Date.now();

  constructor(
    relations: readonly RelationInfo[],
    uniqueKeys: ReadonlyArray<QualifiedName & { columns: string[] }> = [],
  ) {
    for (const key of uniqueKeys) {
      const id = `${key.schema}\u0000${key.name}`;
      const keys = this.unique.get(id) ?? [];
      keys.push(key.columns);
      this.unique.set(id, keys);
    }
    for (const relation of relations) {
      let schema = this.bySchema.get(relation.schema);
      if (!schema) {
        schema = new Map();
        this.bySchema.set(relation.schema, schema);
      }
      schema.set(relation.name, relation);
    }
  }

  has(schema: string, name: string): boolean {
    return this.bySchema.get(schema)?.has(name) ?? false;
  }

  /** Column sets with a unique index (no predicate, no expressions) on the relation. */
  uniqueKeys(schema: string, name: string): readonly (readonly string[])[] {
    return this.unique.get(`${schema}\u0000${name}`) ?? [];
  }

  get(schema: string, name: string): RelationInfo | undefined {
    return this.bySchema.get(schema)?.get(name);
  }

  /** Allowed relations, sorted by schema then name. */
  allowed(policy: TablePolicy): RelationInfo[] {
    const out: RelationInfo[] = [];
    for (const [schema, relations] of this.bySchema) {
      if (!policy.mayAllowSchema(schema)) continue;
      for (const relation of relations.values()) if (policy.isAllowed(schema, relation.name)) out.push(relation);
    }
    return out.sort((a, b) => (a.schema === b.schema ? compare(a.name, b.name) : compare(a.schema, b.schema)));
  }
}

const compare = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

export async function readSnapshot(client: PoolClient): Promise<CatalogSnapshot> {
  const result = await client.query<{
    schema: string;
    name: string;
    kind: string;
    estimated_rows: string;
    comment: string | null;
  }>(
    `SELECT n.nspname AS schema, c.relname AS name, c.relkind AS kind, c.reltuples::bigint::text AS estimated_rows,
            pg_catalog.obj_description(c.oid, 'pg_class') AS comment
       FROM pg_catalog.pg_class c
       JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
      WHERE c.relkind IN ('r', 'v', 'm', 'f', 'p')
        AND n.nspname !~ '^pg_(toast|temp_|toast_temp_)'`,
  );
  const unique = await client.query<{ schema: string; name: string; columns: string[] }>(
    `SELECT n.nspname AS schema, c.relname AS name,
            array_agg(a.attname::text ORDER BY k.i) AS columns
       FROM pg_catalog.pg_index x
       JOIN pg_catalog.pg_class c ON c.oid = x.indrelid
       JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
       CROSS JOIN LATERAL unnest(x.indkey::int2[]) WITH ORDINALITY k(attnum, i)
       JOIN pg_catalog.pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = k.attnum
      WHERE x.indisunique AND x.indpred IS NULL AND x.indexprs IS NULL
        AND n.nspname !~ '^pg_(toast|temp_|toast_temp_)'
      GROUP BY x.indexrelid, n.nspname, c.relname`,
  );
  return new CatalogSnapshot(
    result.rows.map((row) => ({
      schema: row.schema,
      name: row.name,
      kind: KINDS[row.kind] ?? "table",
      estimatedRows: Number(row.estimated_rows),
      comment: row.comment,
    })),
    unique.rows,
  );
}

export interface ColumnInfo {
  name: string;
  type: string;
  nullable: boolean;
  default: string | null;
  /** `ALWAYS` or `BY DEFAULT` for identity columns; `STORED`/`VIRTUAL` for generated ones. */
  identity: string | null;
  generated: string | null;
  comment: string | null;
}

export interface IndexInfo {
  name: string;
  definition: string;
  unique: boolean;
  primary: boolean;
}

export interface ForeignKeyInfo {
  name: string;
  columns: string[];
  references: { schema: string; table: string; columns: string[] };
  onUpdate: string;
  onDelete: string;
}

export interface ReferencedByInfo {
  name: string;
  schema: string;
  table: string;
  columns: string[];
  referencedColumns: string[];
}

export interface TableDescription {
  schema: string;
  name: string;
  kind: RelationKind;
  comment: string | null;
  estimatedRows: number;
  columns: ColumnInfo[];
  primaryKey: string[] | null;
  uniqueConstraints: Array<{ name: string; columns: string[] }>;
  checkConstraints: Array<{ name: string; definition: string }>;
  foreignKeys: ForeignKeyInfo[];
  referencedBy: ReferencedByInfo[];
  indexes: IndexInfo[];
}

const FK_ACTIONS: Record<string, string> = {
  a: "NO ACTION",
  r: "RESTRICT",
  c: "CASCADE",
  n: "SET NULL",
  d: "SET DEFAULT",
};

/**
 * Everything about one relation the model needs to write queries. Foreign keys to, and references
 * from, relations the policy hides are left out: a hidden table does not exist for the model.
 */
export async function describeRelation(
  client: PoolClient,
  relation: QualifiedName,
  policy: TablePolicy,
): Promise<TableDescription | undefined> {
  const head = await client.query<{ oid: number; kind: string; comment: string | null; estimated_rows: string }>(
    `SELECT c.oid::int AS oid, c.relkind AS kind, pg_catalog.obj_description(c.oid, 'pg_class') AS comment,
            c.reltuples::bigint::text AS estimated_rows
       FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = $1 AND c.relname = $2 AND c.relkind IN ('r', 'v', 'm', 'f', 'p')`,
    [relation.schema, relation.name],
  );
  const table = head.rows[0];
  if (!table) return undefined;
  const oid = table.oid;

  const columns = await client.query<{
    name: string;
    type: string;
    not_null: boolean;
    default: string | null;
    identity: string;
    generated: string;
    comment: string | null;
  }>(
    `SELECT a.attname AS name, pg_catalog.format_type(a.atttypid, a.atttypmod) AS type, a.attnotnull AS not_null,
            pg_catalog.pg_get_expr(d.adbin, d.adrelid) AS default, a.attidentity AS identity,
            a.attgenerated AS generated, pg_catalog.col_description(a.attrelid, a.attnum) AS comment
       FROM pg_catalog.pg_attribute a
       LEFT JOIN pg_catalog.pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
      WHERE a.attrelid = $1 AND a.attnum > 0 AND NOT a.attisdropped
      ORDER BY a.attnum`,
    [oid],
  );

  const constraints = await client.query<{
    name: string;
    type: string;
    columns: string[] | null;
    definition: string;
    ref_schema: string | null;
    ref_table: string | null;
    ref_columns: string[] | null;
    on_update: string;
    on_delete: string;
  }>(
    `SELECT con.conname AS name, con.contype AS type,
            (SELECT array_agg(a.attname::text ORDER BY k.i) FROM unnest(con.conkey) WITH ORDINALITY k(n, i)
               JOIN pg_catalog.pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.n) AS columns,
            pg_catalog.pg_get_constraintdef(con.oid, true) AS definition,
            rn.nspname AS ref_schema, rc.relname AS ref_table,
            (SELECT array_agg(a.attname::text ORDER BY k.i) FROM unnest(con.confkey) WITH ORDINALITY k(n, i)
               JOIN pg_catalog.pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.n) AS ref_columns,
            con.confupdtype AS on_update, con.confdeltype AS on_delete
       FROM pg_catalog.pg_constraint con
       LEFT JOIN pg_catalog.pg_class rc ON rc.oid = con.confrelid
       LEFT JOIN pg_catalog.pg_namespace rn ON rn.oid = rc.relnamespace
      WHERE con.conrelid = $1
      ORDER BY con.conname`,
    [oid],
  );

  const referencedBy = await client.query<{
    name: string;
    schema: string;
    table: string;
    columns: string[];
    ref_columns: string[];
  }>(
    `SELECT con.conname AS name, n.nspname AS schema, c.relname AS table,
            (SELECT array_agg(a.attname::text ORDER BY k.i) FROM unnest(con.conkey) WITH ORDINALITY k(n, i)
               JOIN pg_catalog.pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.n) AS columns,
            (SELECT array_agg(a.attname::text ORDER BY k.i) FROM unnest(con.confkey) WITH ORDINALITY k(n, i)
               JOIN pg_catalog.pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.n) AS ref_columns
       FROM pg_catalog.pg_constraint con
       JOIN pg_catalog.pg_class c ON c.oid = con.conrelid
       JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
      WHERE con.confrelid = $1 AND con.contype = 'f'
      ORDER BY n.nspname, c.relname, con.conname`,
    [oid],
  );

  const indexes = await client.query<{ name: string; definition: string; unique: boolean; primary: boolean }>(
    `SELECT ic.relname AS name, pg_catalog.pg_get_indexdef(i.indexrelid) AS definition,
            i.indisunique AS unique, i.indisprimary AS primary
       FROM pg_catalog.pg_index i JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid
      WHERE i.indrelid = $1
      ORDER BY i.indisprimary DESC, ic.relname`,
    [oid],
  );

  const byType = (type: string) => constraints.rows.filter((c) => c.type === type);
  return {
    schema: relation.schema,
    name: relation.name,
    kind: KINDS[table.kind] ?? "table",
    comment: table.comment,
    estimatedRows: Number(table.estimated_rows),
    columns: columns.rows.map((c) => ({
      name: c.name,
      type: c.type,
      nullable: !c.not_null,
      default: c.default,
      identity: c.identity === "a" ? "ALWAYS" : c.identity === "d" ? "BY DEFAULT" : null,
      generated: c.generated === "s" ? "STORED" : c.generated === "v" ? "VIRTUAL" : null,
      comment: c.comment,
    })),
    primaryKey: byType("p")[0]?.columns ?? null,
    uniqueConstraints: byType("u").map((c) => ({ name: c.name, columns: c.columns ?? [] })),
    checkConstraints: byType("c").map((c) => ({ name: c.name, definition: c.definition })),
    foreignKeys: byType("f")
      .filter((c) => c.ref_schema !== null && c.ref_table !== null && policy.isAllowed(c.ref_schema, c.ref_table))
      .map((c) => ({
        name: c.name,
        columns: c.columns ?? [],
        references: { schema: c.ref_schema as string, table: c.ref_table as string, columns: c.ref_columns ?? [] },
        onUpdate: FK_ACTIONS[c.on_update] ?? c.on_update,
        onDelete: FK_ACTIONS[c.on_delete] ?? c.on_delete,
      })),
    referencedBy: referencedBy.rows
      .filter((r) => policy.isAllowed(r.schema, r.table))
      .map((r) => ({
        name: r.name,
        schema: r.schema,
        table: r.table,
        columns: r.columns,
        referencedColumns: r.ref_columns,
      })),
    indexes: indexes.rows,
  };
}
