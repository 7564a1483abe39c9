import type { TestProject } from "vitest/node";
import { startTestPostgres } from "../../../../test/fixtures/memory/pglite.ts";

declare module "vitest" {
  export interface ProvidedContext {
    postgresUrl: string;
  }
}

/** One PostgreSQL (PGlite + pgvector over a loopback socket) for the whole run; tests use their own schemas. */
export default async function setup(project: TestProject) {
  const postgres = await startTestPostgres();
  project.provide("postgresUrl", postgres.url);
  return () => postgres.close();
}
