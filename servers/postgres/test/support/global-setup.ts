import type { TestProject } from "vitest/node";
import { startTestDatabase } from "./database.ts";
import { type Shop, seedShop } from "./shop.ts";

/** What the tests get: the shop without its server handle (provided values must be plain data). */
export type ProvidedShop = Omit<Shop, "db">;

declare module "vitest" {
  export interface ProvidedContext {
    shop: ProvidedShop;
  }
}

/** One database for the whole run: started and seeded once, removed at the end. */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const db = await startTestDatabase("portside_unit");
  try {
    const { db: _server, ...shop } = await seedShop(db);
    project.provide("shop", shop);
  } catch (error) {
    await db.stop();
    throw error;
  }
  return () => db.stop();
}
