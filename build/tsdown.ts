import { fileURLToPath } from "node:url";
import { defineConfig, type UserConfig } from "tsdown";

const AJV_FREE = fileURLToPath(new URL("./ajv-free-validator.js", import.meta.url));
const ENTRY_PREFIX = "\0portside-cli:";

/**
 * One bundled, minified ESM file per CLI, for a fast cold start: everything is bundled except
 * `external` (native modules, large libraries loaded only when first needed). The entry turns on
 * Node's compile cache before loading the rest, so later starts skip parsing.
 */
export function cliBundle(
  entries: Record<string, string>,
  options: { external?: (string | RegExp)[] } = {},
): UserConfig {
  const external = options.external ?? [];
  return defineConfig({
    entry: Object.fromEntries(Object.entries(entries).map(([name, source]) => [name, `${ENTRY_PREFIX}${source}`])),
    outDir: "dist",
    format: "esm",
    platform: "node",
    target: "node22",
    dts: false,
    sourcemap: false,
    minify: true,
    fixedExtension: false,
    clean: true,
    external,
    noExternal: (id) =>
      !external.some((e) => (typeof e === "string" ? id === e || id.startsWith(`${e}/`) : e.test(id))),
    inputOptions: { resolve: { conditionNames: ["source", "import", "node", "default"] } },
    plugins: [
      {
        name: "portside-cli",
        resolveId(id) {
          if (id.startsWith(ENTRY_PREFIX)) return id;
          if (id.endsWith("validation/ajv-provider.js")) return AJV_FREE;
          return null;
        },
        load(id) {
          if (!id.startsWith(ENTRY_PREFIX)) return null;
          const source = JSON.stringify(`${process.cwd()}/${id.slice(ENTRY_PREFIX.length)}`);
          return `#!/usr/bin/env node\nimport { enableCompileCache } from "node:module";\ntry { enableCompileCache?.(); } catch {}\nawait import(${source});\n`;
        },
      },
    ],
  });
}
