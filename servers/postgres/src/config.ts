import { option } from "@portside/shared";
import { z } from "zod";

const identifier = z.string().min(1).max(63);

/** Every setting, as a flag and an environment variable. */
export const options = {
  connectionString: option({
    type: "string",
    flag: "connection-string",
    positional: true,
    placeholder: "postgresql://user:password@host:5432/db",
    env: "DATABASE_URL",
    secret: true,
    help: "PostgreSQL connection URL (argument or DATABASE_URL; prefer the environment so the password stays out of process listings).",
    schema: z
      .string({ error: "a connection URL is required: pass postgresql://… as the argument or set DATABASE_URL" })
      .regex(/^postgres(ql)?:\/\//, "must be a postgresql:// or postgres:// URL"),
  }),
  allow: option({
    type: "list",
    flag: "allow",
    env: "POSTGRES_ALLOW",
    placeholder: "patterns",
    help: "Tables and views the model may query, as schema.table patterns with * and ? (e.g. public.orders,sales.*). Default: every relation in the search-path schemas. System catalogs only when named explicitly (pg_catalog.pg_stat_activity).",
    schema: z.array(z.string().min(1)).default([]),
  }),
  deny: option({
    type: "list",
    flag: "deny",
    env: "POSTGRES_DENY",
    placeholder: "patterns",
    help: "Tables and views hidden even when allowed (e.g. public.users,*.secret_*).",
    schema: z.array(z.string().min(1)).default([]),
  }),
  searchPath: option({
    type: "list",
    flag: "search-path",
    env: "POSTGRES_SEARCH_PATH",
    placeholder: "schemas",
    help: "Schemas searched, in order, for unqualified table names.",
    schema: z.array(identifier).min(1).default(["public"]),
  }),
  maxRows: option({
    type: "number",
    flag: "max-rows",
    env: "POSTGRES_MAX_ROWS",
    help: "Most rows one query returns; the answer says when it was cut.",
    schema: z.number().int().min(1).max(100_000).default(1000),
  }),
  maxResponseBytes: option({
    type: "number",
    flag: "max-response-bytes",
    env: "POSTGRES_MAX_RESPONSE_BYTES",
    help: "Most bytes of row data (as JSON) one query returns; the answer says when it was cut.",
    schema: z
      .number()
      .int()
      .min(1024)
      .max(16 * 1024 * 1024)
      .default(32 * 1024),
  }),
  maxValueChars: option({
    type: "number",
    flag: "max-value-chars",
    env: "POSTGRES_MAX_VALUE_CHARS",
    help: "Longest single value shown; longer text or JSON is cut with a marker.",
    schema: z.number().int().min(16).max(1_000_000).default(2000),
  }),
  statementTimeoutMs: option({
    type: "number",
    flag: "statement-timeout-ms",
    env: "POSTGRES_STATEMENT_TIMEOUT_MS",
    help: "Statement timeout for every query, in milliseconds (lock timeout is the smaller of this and 2 s).",
    schema: z.number().int().min(100).max(600_000).default(5000),
  }),
  poolSize: option({
    type: "number",
    flag: "pool-size",
    env: "POSTGRES_POOL_SIZE",
    help: "Most database connections open at once.",
    schema: z.number().int().min(1).max(100).default(5),
  }),
  connectTimeoutMs: option({
    type: "number",
    flag: "connect-timeout-ms",
    env: "POSTGRES_CONNECT_TIMEOUT_MS",
    help: "How long to wait for a connection (and to keep retrying one while the database restarts).",
    schema: z.number().int().min(100).max(120_000).default(5000),
  }),
  allowFunctions: option({
    type: "list",
    flag: "allow-functions",
    env: "POSTGRES_ALLOW_FUNCTIONS",
    placeholder: "names",
    help: "Functions to allow beyond the built-in safe list, as name (pg_catalog) or schema.name (e.g. public.similarity).",
    schema: z.array(z.string().min(1)).default([]),
  }),
  allowExplainAnalyze: option({
    type: "boolean",
    flag: "allow-explain-analyze",
    env: "POSTGRES_ALLOW_EXPLAIN_ANALYZE",
    help: "Allow EXPLAIN ANALYZE (it runs the query, still read-only and under the timeout).",
    schema: z.boolean().default(false),
  }),
  allowPrivilegedRole: option({
    type: "boolean",
    flag: "allow-privileged-role",
    env: "POSTGRES_ALLOW_PRIVILEGED_ROLE",
    help: "Start even when the role is a superuser or can write to allowed tables (logged as a warning).",
    schema: z.boolean().default(false),
  }),
};
