import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    globalSetup: ["test/support/global-setup.ts"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: "forks",
    // One PostgreSQL (PGlite) serves every file; running files in turn keeps the 2-core machine calm.
    fileParallelism: false,
  },
});
