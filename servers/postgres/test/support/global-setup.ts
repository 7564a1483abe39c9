import type { TestProject } from "vitest/node";
import { startTestDatabase } from "./database.ts";
import { seedShop } from "./shop.ts";

export interface ProvidedShop {
  readerUrl: string;
  writerUrl: string;
  adminUrl: string;
  allow: string;
  deny: string;
}

declare module "vitest" {
  export interface ProvidedContext {
    shop: ProvidedShop;
  }
}

/** One database for the whole run: started and seeded once, removed at the end. */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const db = await startTestDatabase("portside_unit");
  try {
    const shop = await seedShop(db);
    project.provide("shop", {
      readerUrl: shop.readerUrl,
      writerUrl: shop.writerUrl,
      adminUrl: shop.adminUrl,
      allow: shop.allow,
      deny: shop.deny,
    });
  } catch (error) {
    await db.stop();
    throw error;
  }
  return () => db.stop();
}
