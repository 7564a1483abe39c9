import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { inject } from "vitest";
import { freshSchema } from "../../../../test/fixtures/memory/pglite.ts";
import { openPostgresStore } from "../../src/memory/postgres-store.ts";
import { openSqliteStore } from "../../src/memory/sqlite-store.ts";
import type { MemoryStore } from "../../src/memory/store.ts";

export type StoreKind = "sqlite" | "postgres";
export const STORE_KINDS: StoreKind[] = ["sqlite", "postgres"];

export interface OpenedStore {
  store: MemoryStore;
  /** Opens a second handle on the same data (another process would). */
  reopen(): Promise<MemoryStore>;
  cleanup(): Promise<void>;
}

/** A fresh, empty store of the given kind: a SQLite file in a temp dir, or a new PostgreSQL schema. */
export async function openTestStore(kind: StoreKind): Promise<OpenedStore> {
  if (kind === "sqlite") {
    const dir = mkdtempSync(join(tmpdir(), "memory-store-"));
    const path = join(dir, "memory.db");
    return trackHandles(
      () => openSqliteStore(path),
      () => rmSync(dir, { recursive: true, force: true }),
    );
  }
  const url = inject("postgresUrl");
  const schema = freshSchema("unit");
  return trackHandles(() => openPostgresStore(url, { schema, maxConnections: 4 }));
}

/** Every handle opened on the data is closed at cleanup, before the data itself goes. */
async function trackHandles(open: () => Promise<MemoryStore>, removeData?: () => void): Promise<OpenedStore> {
  const handles: MemoryStore[] = [await open()];
  return {
    store: handles[0] as MemoryStore,
    async reopen() {
      const store = await open();
      handles.push(store);
      return store;
    },
    async cleanup() {
      for (const h of handles) await h.close().catch(() => undefined);
      removeData?.();
    },
  };
}
