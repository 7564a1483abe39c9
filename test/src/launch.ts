import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestDatabase } from "../../servers/postgres/test/support/database.ts";

/**
 * How to start each server for a smoke check (initialize + tools/list) with nothing but what the
 * test machine has. A server without a recipe fails the packaging tests, so a new server can't ship
 * unchecked.
 */
export interface Launch {
  args: string[];
  env: Record<string, string>;
}

let database: Promise<{ db: TestDatabase; readerUrl: string; allow: string }> | undefined;

/** One real PostgreSQL (embedded, or DATABASE_URL) with the sample shop, shared by every launch. */
function shopDatabase() {
  database ??= (async () => {
    const { startTestDatabase } = await import("../../servers/postgres/test/support/database.ts");
    const { seedShop } = await import("../../servers/postgres/test/support/shop.ts");
    const db = await startTestDatabase("portside_smoke");
    const shop = await seedShop(db, { attackFixtures: false });
    return { db, readerUrl: shop.readerUrl, allow: shop.allow };
  })();
  return database;
}

/** Stops what the recipes started. */
export async function stopLaunchServices(): Promise<void> {
  const started = database;
  database = undefined;
  if (started) await (await started).db.stop();
}

export async function launchFor(name: string): Promise<Launch> {
  const scratch = mkdtempSync(join(tmpdir(), `portside-${name}-`));
  switch (name) {
    case "fixture":
    case "browser":
    case "chess":
      return { args: [], env: {} };
    case "filesystem":
      writeFileSync(join(scratch, "hello.txt"), "hello\n");
      return { args: [scratch], env: {} };
    case "memory":
      return { args: ["--store", join(scratch, "memory.db")], env: {} };
    case "github":
      return { args: [], env: { GITHUB_PERSONAL_ACCESS_TOKEN: "ghp_packagingSmokeTestTokenNotReal000000" } };
    case "postgres": {
      const shop = await shopDatabase();
      return { args: ["--allow", shop.allow], env: { DATABASE_URL: shop.readerUrl } };
    }
    default:
      throw new Error(`no launch recipe for server ${name}: add one to test/src/launch.ts`);
  }
}
