import type { Logger } from "@portside/shared";
import { type CatalogSnapshot, describeRelation, readSnapshot, type TableDescription } from "./db/catalog.js";
import type { Database } from "./db/database.js";
import { QueryFailure } from "./db/errors.js";
import { inspectRole, type RoleReport, roleProblem } from "./db/role.js";
import { type Parameter, type RowCaps, type RowSet, streamRows } from "./db/stream.js";
import type { QualifiedName, TablePolicy } from "./sql/allowlist.js";
import type { FunctionPolicy } from "./sql/functions.js";
import { type ExplainRequest, type GuardedQuery, type GuardPolicy, guardQuery } from "./sql/guard.js";

export interface ServiceSettings {
  tables: TablePolicy;
  functions: FunctionPolicy;
  searchPath: readonly string[];
  allowExplainAnalyze: boolean;
  allowPrivilegedRole: boolean;
}

/** The role is too powerful and the operator did not accept that. */
export class RoleRefused extends Error {
  constructor(readonly problem: string) {
    super(`Refusing to run: ${problem}.`);
    this.name = "RoleRefused";
  }
}

export interface QueryOutcome {
  guarded: GuardedQuery;
  result: RowSet;
}

/** How old a catalog snapshot may be before it is read again. */
const SNAPSHOT_MAX_AGE_MS = 10_000;

/**
 * Read-only access to one database for a model: every query is guarded, run read-only with caps,
 * and sees only the allowed relations. No MCP here; tools are thin adapters over this.
 */
export class PostgresService {
  private snapshotCache: CatalogSnapshot | undefined;
  private snapshotLoading: Promise<CatalogSnapshot> | undefined;
  private roleChecked: Promise<RoleReport> | undefined;

  constructor(
    readonly db: Database,
    readonly settings: ServiceSettings,
    private readonly log: Logger,
  ) {}

  /**
   * Checks the connected role once (until it succeeds): a superuser, or a role that can write to an
   * allowed table, is refused unless the operator allowed it; either way it is logged loudly.
   */
  ready(signal?: AbortSignal): Promise<RoleReport> {
    this.roleChecked ??= this.db
      .readOnly(({ client }) => inspectRole(client, this.settings.tables, this.settings.searchPath), { signal })
      .then((report) => {
        const problem = roleProblem(report);
        if (problem && !this.settings.allowPrivilegedRole) throw new RoleRefused(problem);
        if (problem) {
          this.log.warn(
            `WARNING: ${problem}. Running anyway because --allow-privileged-role is set; the guard and the read-only transaction are the only protection left.`,
          );
        }
        for (const warning of report.warnings) this.log.warn(`role check: ${warning}`);
        return report;
      })
      .catch((error: unknown) => {
        // A connection problem is retried on the next call; a refusal stands.
        if (!(error instanceof RoleRefused)) this.roleChecked = undefined;
        throw error;
      });
    return this.roleChecked;
  }

  async snapshot(signal?: AbortSignal, maxAgeMs = SNAPSHOT_MAX_AGE_MS): Promise<CatalogSnapshot> {
    const cached = this.snapshotCache;
    if (cached && Date.now() - cached.takenAt <= maxAgeMs) return cached;
    this.snapshotLoading ??= this.db
      .readOnly(({ client }) => readSnapshot(client), { signal })
      .then((snapshot) => {
        this.snapshotCache = snapshot;
        return snapshot;
      })
      .finally(() => {
        this.snapshotLoading = undefined;
      });
    return this.snapshotLoading;
  }

  async guard(sql: string, explain?: ExplainRequest, signal?: AbortSignal): Promise<GuardedQuery> {
    const snapshot = await this.snapshot(signal);
    const policy: GuardPolicy = {
      tables: this.settings.tables,
      functions: this.settings.functions,
      searchPath: this.settings.searchPath,
      relationExists: (schema, name) => snapshot.has(schema, name),
      uniqueKeys: (schema, name) => snapshot.uniqueKeys(schema, name),
      allowExplainAnalyze: this.settings.allowExplainAnalyze,
    };
    return guardQuery(sql, policy, explain);
  }

  /** Guards, then runs one query read-only and streams its rows up to the caps. */
  async query(
    sql: string,
    params: readonly Parameter[],
    caps: RowCaps,
    options: { signal?: AbortSignal; explain?: ExplainRequest; prepareValue?: (value: unknown) => unknown } = {},
  ): Promise<QueryOutcome> {
    await this.ready(options.signal);
    const guarded = await this.guard(sql, options.explain, options.signal);
    if (params.length !== guarded.parameterCount && !(guarded.kind === "explain" && params.length === 0)) {
      throw new QueryFailure(
        "invalid",
        `The query uses ${guarded.parameterCount} parameter(s) ($1…) but ${params.length} value(s) were given.`,
      );
    }
    const result = await this.db.readOnly(
      (session) =>
        streamRows(session, guarded.text, params, caps, {
          ...(options.signal ? { signal: options.signal } : {}),
          ...(options.prepareValue ? { prepareValue: options.prepareValue } : {}),
          ...(guarded.rowBound !== undefined ? { rowBound: guarded.rowBound } : {}),
        }),
      {
        ...(options.signal ? { signal: options.signal } : {}),
        originalPosition: guarded.originalPosition,
        lazyBegin: true,
      },
    );
    return { guarded, result };
  }

  async listAllowed(signal?: AbortSignal): Promise<ReturnType<CatalogSnapshot["allowed"]>> {
    await this.ready(signal);
    const snapshot = await this.snapshot(signal, 2000);
    return snapshot.allowed(this.settings.tables);
  }

  /** Describes an allowed relation; undefined when it does not exist or is not allowed. */
  async describe(relation: QualifiedName, signal?: AbortSignal): Promise<TableDescription | undefined> {
    await this.ready(signal);
    if (!this.settings.tables.isAllowed(relation.schema, relation.name)) return undefined;
    return this.db.readOnly(({ client }) => describeRelation(client, relation, this.settings.tables), {
      ...(signal ? { signal } : {}),
    });
  }

  /** The schema an unqualified table name refers to, as PostgreSQL would resolve it. */
  async resolve(name: string, signal?: AbortSignal): Promise<QualifiedName> {
    const snapshot = await this.snapshot(signal, 2000);
    for (const schema of ["pg_catalog", ...this.settings.searchPath]) {
      if (snapshot.has(schema, name)) return { schema, name };
    }
    return { schema: this.settings.searchPath[0] ?? "public", name };
  }

  close(): Promise<void> {
    return this.db.close();
  }
}
