import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { REPO_ROOT } from "./harness.js";

export interface PackageJson {
  name: string;
  version: string;
  description?: string;
  keywords?: string[];
  license?: string;
  repository?: { type: string; url: string; directory?: string };
  engines?: { node?: string };
  bin?: Record<string, string>;
  files?: string[];
  mcpName?: string;
  private?: boolean;
  dependencies?: Record<string, string>;
}

/** Every publishable server package in servers/, by folder name. */
export function serverPackages(): Array<{ name: string; dir: string; pkg: PackageJson }> {
  const root = join(REPO_ROOT, "servers");
  if (!existsSync(root)) return [];
  return readdirSync(root, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && existsSync(join(root, entry.name, "package.json")))
    .map((entry) => {
      const dir = join(root, entry.name);
      return { name: entry.name, dir, pkg: JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as PackageJson };
    });
}
