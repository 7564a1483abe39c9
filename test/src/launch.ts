import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/**
 * How to start each server for a smoke check (initialize + tools/list) with nothing but what the
 * test machine has. A server without a recipe fails the packaging tests, so a new server can't ship
 * untested.
 */
export interface Launch {
  args: string[];
  env: Record<string, string>;
}

export function launchFor(name: string): Launch {
  const scratch = mkdtempSync(join(tmpdir(), `portside-${name}-`));
  switch (name) {
    case "fixture":
      return { args: [], env: {} };
    case "filesystem":
      writeFileSync(join(scratch, "hello.txt"), "hello\n");
      return { args: [scratch], env: {} };
    case "memory":
      return { args: ["--store", join(scratch, "memory.db")], env: {} };
    case "browser":
      return { args: [], env: {} };
    case "github":
      return { args: [], env: { GITHUB_PERSONAL_ACCESS_TOKEN: "ghp_packagingSmokeTestTokenNotReal000000" } };
    case "chess":
      return { args: [], env: {} };
    default:
      throw new Error(`no launch recipe for server ${name}: add one to test/src/launch.ts`);
  }
}
