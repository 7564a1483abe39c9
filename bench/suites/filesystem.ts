import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import {
  type Connected,
  coldStarts,
  connect,
  median,
  percentile,
  report,
  rssMiB,
  type ServerCommand,
  time,
} from "../src/harness.ts";

const root = fileURLToPath(new URL("../..", import.meta.url));
const require = createRequire(import.meta.url);

/**
 * A source-tree-like layout of 20,000 files in 1,110 directories (10 packages × 10 modules × 10
 * directories × 20 files), plus a few needles to find, a 4 KiB file and a 1 MiB text file.
 */
function makeTree(): string {
  const base = mkdtempSync(join(tmpdir(), "portside-bench-fs-"));
  const tree = join(base, "tree");
  for (let a = 0; a < 10; a++) {
    for (let b = 0; b < 10; b++) {
      for (let c = 0; c < 10; c++) {
        const dir = join(tree, `pkg${a}`, `mod${b}`, `dir${c}`);
        mkdirSync(dir, { recursive: true });
        for (let f = 0; f < 20; f++) {
          writeFileSync(join(dir, `file${f}.${f % 3 === 0 ? "json" : "ts"}`), `export const v${f} = ${a}${b}${c};\n`);
        }
      }
    }
  }
  for (const [a, b, c] of [
    [1, 2, 3],
    [4, 5, 6],
    [7, 8, 9],
  ]) {
    writeFileSync(join(tree, `pkg${a}`, `mod${b}`, `dir${c}`, `needle-${a}${b}${c}.txt`), "found me\n");
  }
  const line = "The quick brown fox jumps over the lazy dog, again and again and again.\n"; // 72 bytes
  writeFileSync(join(tree, "small.txt"), line.repeat(Math.ceil(4096 / line.length)).slice(0, 4096));
  writeFileSync(join(tree, "large.txt"), line.repeat(Math.ceil((1 << 20) / line.length)).slice(0, 1 << 20));
  return base;
}

/** Median and p99 of `runs` calls per server, interleaved so drift on a noisy machine hits both alike. */
async function interleaved(
  clients: Client[],
  runs: number,
  warmup: number,
  call: (client: Client) => Promise<unknown>,
): Promise<number[][]> {
  const samples = clients.map(() => [] as number[]);
  for (let i = 0; i < warmup + runs; i++) {
    for (const [index, client] of clients.entries()) {
      const [ms, result] = await time(() => call(client));
      if ((result as { isError?: boolean }).isError)
        throw new Error(`call failed: ${JSON.stringify(result).slice(0, 300)}`);
      if (i >= warmup) samples[index]?.push(ms);
    }
  }
  return samples;
}

export async function run(): Promise<void> {
  const base = makeTree();
  const tree = join(base, "tree");
  const official = require.resolve("@modelcontextprotocol/server-filesystem/dist/index.js");
  const servers: ServerCommand[] = [
    { label: "official", command: process.execPath, args: [official, tree] },
    {
      label: "portside",
      command: process.execPath,
      // The official server returns whole files of any size; lift our response cap so both send the full 1 MiB.
      args: [`${root}servers/filesystem/dist/cli.js`, tree, "--max-response-chars", "4000000"],
    },
  ];
  const connected: Connected[] = [];
  try {
    const cold = await coldStarts(servers, 10);
    for (const server of servers) connected.push(await connect(server));
    const clients = connected.map((c) => c.client);
    const callTool = (name: string, args: Record<string, unknown>) => (client: Client) =>
      client.callTool({ name, arguments: args }, undefined, { timeout: 600_000 });

    const needles = await interleaved(
      clients,
      15,
      2,
      callTool("search_files", { path: tree, pattern: "**/needle-*.txt" }),
    );
    const broad = await interleaved(
      clients,
      10,
      1,
      callTool("search_files", { path: tree, pattern: "**/*.json", maxResults: 10_000 }),
    );
    const small = await interleaved(clients, 300, 30, callTool("read_text_file", { path: join(tree, "small.txt") }));
    const large = await interleaved(clients, 40, 5, callTool("read_text_file", { path: join(tree, "large.txt") }));
    const rss = connected.map((c) => rssMiB(c.pid));

    const rows = (metric: string, samples: number[][], p = 50) => ({
      metric: `${metric} p${p}`,
      unit: "ms",
      values: samples.map((s) => percentile(s, p)),
    });
    report(
      "filesystem: @portside/server-filesystem vs @modelcontextprotocol/server-filesystem (21,110 entries)",
      servers.map((s) => s.label),
      [
        { metric: "cold start p50", unit: "ms", values: cold.map(median) },
        rows("search_files, 3 needles in the tree", needles),
        rows("search_files, 6,700 matches", broad),
        rows("read_text_file 4 KiB", small),
        rows("read_text_file 4 KiB", small, 99),
        rows("read_text_file 1 MiB", large),
        { metric: "RSS after the runs", unit: "MiB", values: rss },
      ],
    );
  } finally {
    await Promise.all(connected.map((c) => c.close().catch(() => undefined)));
    rmSync(base, { recursive: true, force: true });
  }
}
