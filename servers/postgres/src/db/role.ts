import type { PoolClient } from "pg";
import { type QualifiedName, qualifiedName, type TablePolicy } from "../sql/allowlist.js";

export interface RoleReport {
  role: string;
  superuser: boolean;
  /** Allowed relations this role could INSERT, UPDATE, DELETE or TRUNCATE. */
  writable: QualifiedName[];
  /** Risky but not disqualifying: bypassing row security, creating objects, server-file roles. */
  warnings: string[];
}

/**
 * What the connected role could do beyond reading. The read-only transaction and the guard stop
 * writes on their own; a least-privilege role is the layer that still holds if both were bypassed.
 */
export async function inspectRole(
  client: PoolClient,
  policy: TablePolicy,
  searchPath: readonly string[],
): Promise<RoleReport> {
  const role = await client.query<{
    role: string;
    superuser: boolean;
    bypassrls: boolean;
    createrole: boolean;
    createdb: boolean;
    powerful: string[] | null;
  }>(
    `SELECT r.rolname::text AS role, r.rolsuper AS superuser, r.rolbypassrls AS bypassrls,
            r.rolcreaterole AS createrole, r.rolcreatedb AS createdb,
            (SELECT array_agg(p.rolname::text ORDER BY p.rolname) FROM pg_catalog.pg_roles p
              WHERE p.rolname IN ('pg_write_all_data', 'pg_read_server_files', 'pg_write_server_files',
                                  'pg_execute_server_program', 'pg_signal_backend')
                AND pg_catalog.pg_has_role(r.oid, p.oid, 'USAGE')) AS powerful
       FROM pg_catalog.pg_roles r WHERE r.rolname = current_user`,
  );
  const info = role.rows[0];
  if (!info) throw new Error("could not read the current role from pg_roles");

  const writable = await client.query<{ schema: string; name: string }>(
    `SELECT n.nspname AS schema, c.relname AS name
       FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
      WHERE c.relkind IN ('r', 'v', 'm', 'f', 'p')
        AND n.nspname !~ '^pg_(toast|temp_|toast_temp_)'
        AND (pg_catalog.has_table_privilege(c.oid, 'INSERT, UPDATE, DELETE, TRUNCATE')
             OR pg_catalog.has_any_column_privilege(c.oid, 'INSERT, UPDATE'))`,
  );

  const creatable = await client.query<{ schema: string }>(
    `SELECT n.nspname AS schema FROM pg_catalog.pg_namespace n
      WHERE n.nspname = ANY($1::text[]) AND pg_catalog.has_schema_privilege(n.oid, 'CREATE')`,
    [[...searchPath]],
  );

  const warnings: string[] = [];
  if (info.bypassrls) warnings.push("the role bypasses row-level security");
  if (info.createrole) warnings.push("the role can create roles");
  if (info.createdb) warnings.push("the role can create databases");
  for (const name of info.powerful ?? []) warnings.push(`the role is a member of ${name}`);
  for (const row of creatable.rows) warnings.push(`the role can create objects in schema ${row.schema}`);

  return {
    role: info.role,
    superuser: info.superuser,
    writable: writable.rows
      .filter((r) => policy.isAllowed(r.schema, r.name))
      .map((r) => ({ schema: r.schema, name: r.name })),
    warnings,
  };
}

/** Why the role is refused, or undefined when it is fine. */
export function roleProblem(report: RoleReport): string | undefined {
  if (report.superuser) return `the database role "${report.role}" is a superuser`;
  if (report.writable.length > 0) {
    const shown = report.writable.slice(0, 5).map(qualifiedName).join(", ");
    const more = report.writable.length > 5 ? ` and ${report.writable.length - 5} more` : "";
    return `the database role "${report.role}" can write to allowed tables (${shown}${more})`;
  }
  return undefined;
}
