import { type McpServer, ResourceTemplate } from "@modelcontextprotocol/sdk/server/mcp.js";
import { McpError } from "@modelcontextprotocol/sdk/types.js";
import { ConfigError, defineServer, type Logger } from "@portside/shared";
import { options } from "./config.js";
import { Database } from "./db/database.js";
import { QueryFailure } from "./db/errors.js";
import { PostgresService, RoleRefused } from "./service.js";
import { TablePolicy } from "./sql/allowlist.js";
import { functionPolicy } from "./sql/functions.js";
import { explainTool } from "./tools/explain.js";
import { queryTool } from "./tools/query.js";
import { describeTableTool, listSchemasTool, listTablesTool, renderDescription } from "./tools/schema.js";

export const VERSION = "0.1.0";

/** MCP's "resource not found" error code. */
const RESOURCE_NOT_FOUND = -32002;
/** Most table resources listed; the tools page through any number. */
const MAX_LISTED_RESOURCES = 500;

export const postgresServer = defineServer({
  info: {
    name: "@portside/server-postgres",
    version: VERSION,
    title: "PostgreSQL (read-only)",
    description:
      "Read-only SQL over PostgreSQL for models: an allowlist of tables, a guard built on PostgreSQL's own parser, read-only transactions with timeouts, streamed results with row and byte caps, and a role check.",
    bin: "portside-postgres",
    usage: "[options] postgresql://user@host:5432/db   (or set DATABASE_URL)",
  },
  options,
  async start(config, env) {
    const searchPath = config.searchPath;
    let tables: TablePolicy;
    let functions: ReturnType<typeof functionPolicy>;
    try {
      const allow = config.allow.length ? config.allow : searchPath.map((schema) => `${schema}.*`);
      tables = new TablePolicy(allow, config.deny, searchPath[0] as string);
      functions = functionPolicy(config.allowFunctions);
    } catch (error) {
      throw new ConfigError((error as Error).message);
    }
    const db = new Database(
      {
        connectionString: config.connectionString,
        poolSize: config.poolSize,
        statementTimeoutMs: config.statementTimeoutMs,
        connectTimeoutMs: config.connectTimeoutMs,
        searchPath,
        applicationName: "portside-postgres",
      },
      env.log,
    );
    const service = new PostgresService(
      db,
      {
        tables,
        functions,
        searchPath,
        allowExplainAnalyze: config.allowExplainAnalyze,
        allowPrivilegedRole: config.allowPrivilegedRole,
      },
      env.log,
    );
    await checkRoleAtStartup(service, env.log);

    const limits = {
      maxRows: config.maxRows,
      maxResponseBytes: config.maxResponseBytes,
      maxValueChars: config.maxValueChars,
      statementTimeoutMs: config.statementTimeoutMs,
    };
    const base = resourceBase(config.connectionString);
    return {
      instructions: [
        "Read-only access to a PostgreSQL database. Explore with list_schemas, list_tables and describe_table, then query with SELECT.",
        "Only the listed tables exist here; writes, DDL, transaction control and side-effecting functions are refused.",
        `Results are capped at ${config.maxRows} rows: aggregate or filter in SQL rather than paging through everything.`,
      ].join(" "),
      tools: [
        queryTool(service, limits),
        listSchemasTool(service),
        listTablesTool(service),
        describeTableTool(service),
        explainTool(service, config.allowExplainAnalyze),
      ],
      setupSession(mcp) {
        registerTableResources(mcp, service, base);
      },
      close: () => service.close(),
    };
  },
});

/**
 * Refuses to start with a superuser or a role that can write to allowed tables (unless allowed).
 * When the database cannot be reached yet, the check runs before the first call instead.
 */
async function checkRoleAtStartup(service: PostgresService, log: Logger): Promise<void> {
  try {
    const report = await service.ready();
    log.debug("role check passed", { role: report.role });
  } catch (error) {
    if (error instanceof RoleRefused) {
      throw new ConfigError(
        `${error.message} Connect with a read-only role (see the README for the SQL), or pass --allow-privileged-role to run anyway`,
      );
    }
    const reason = error instanceof QueryFailure ? error.message : String(error);
    log.warn("could not check the database role at startup; it will be checked before the first query", {
      reason,
    });
  }
}

/** `postgres://host:port/database`: where table resources live, with no user name or password. */
export function resourceBase(connectionString: string): string {
  try {
    const url = new URL(connectionString);
    const database = decodeURIComponent(url.pathname.replace(/^\//, "")) || "postgres";
    return `postgres://${url.host || "localhost"}/${encodeURIComponent(database)}`;
  } catch {
    return "postgres://localhost/postgres";
  }
}

function registerTableResources(mcp: McpServer, service: PostgresService, base: string): void {
  const template = new ResourceTemplate(`${base}/{schema}/{table}/schema`, {
    list: async () => {
      const relations = (await service.listAllowed()).slice(0, MAX_LISTED_RESOURCES);
      return {
        resources: relations.map((r) => ({
          uri: `${base}/${encodeURIComponent(r.schema)}/${encodeURIComponent(r.name)}/schema`,
          name: `${r.schema}.${r.name}`,
          title: `${r.kind} ${r.schema}.${r.name}`,
          mimeType: "application/json",
          ...(r.comment ? { description: r.comment } : {}),
        })),
      };
    },
  });
  mcp.registerResource(
    "table-schema",
    template,
    {
      title: "Table schema",
      description: "Columns, keys, constraints and indexes of an allowed table or view, as JSON.",
      mimeType: "application/json",
    },
    async (uri, variables) => {
      const schema = decodeURIComponent(String(variables.schema));
      const table = decodeURIComponent(String(variables.table));
      let description: Awaited<ReturnType<PostgresService["describe"]>>;
      try {
        description = await service.describe({ schema, name: table });
      } catch (error) {
        const message = error instanceof QueryFailure || error instanceof RoleRefused ? error.message : "failed";
        throw new McpError(RESOURCE_NOT_FOUND, `Could not read ${uri.href}: ${message}`);
      }
      if (!description) throw new McpError(RESOURCE_NOT_FOUND, `No such table: ${schema}.${table}`);
      return {
        contents: [
          { uri: uri.href, mimeType: "application/json", text: JSON.stringify(description, null, 1) },
          { uri: uri.href, mimeType: "text/plain", text: renderDescription(description) },
        ],
      };
    },
  );
}
