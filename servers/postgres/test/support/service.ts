import { createLogger, type Logger } from "@portside/shared";
import { Database } from "../../src/db/database.ts";
import { PostgresService } from "../../src/service.ts";
import { TablePolicy } from "../../src/sql/allowlist.ts";
import { functionPolicy } from "../../src/sql/functions.ts";

export interface ServiceOptions {
  allow: string;
  deny?: string;
  statementTimeoutMs?: number;
  allowExplainAnalyze?: boolean;
  allowPrivilegedRole?: boolean;
  connectTimeoutMs?: number;
}

/** A quiet logger that keeps every line, to check what reached the log. */
export function captureLog(): { log: Logger; lines: string[] } {
  const lines: string[] = [];
  return { log: createLogger({ level: "debug", write: (line) => lines.push(line) }), lines };
}

export function database(url: string, log: Logger, statementTimeoutMs = 1500, connectTimeoutMs = 5000): Database {
  return new Database(
    {
      connectionString: url,
      poolSize: 3,
      statementTimeoutMs,
      connectTimeoutMs,
      searchPath: ["public"],
      applicationName: "portside-postgres-test",
    },
    log,
  );
}

export function service(url: string, options: ServiceOptions, log: Logger = captureLog().log): PostgresService {
  const split = (list: string | undefined) => (list ? list.split(",") : []);
  return new PostgresService(
    database(url, log, options.statementTimeoutMs, options.connectTimeoutMs),
    {
      tables: new TablePolicy(split(options.allow), split(options.deny), "public"),
      functions: functionPolicy(),
      searchPath: ["public"],
      allowExplainAnalyze: options.allowExplainAnalyze ?? false,
      allowPrivilegedRole: options.allowPrivilegedRole ?? false,
    },
    log,
  );
}
