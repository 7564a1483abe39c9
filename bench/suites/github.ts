import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { countTokens } from "gpt-tokenizer";
import { startGitHubApi } from "../../test/fixtures/github/api-server.ts";
import { connect, median, percentile, report, roundTrips, type ServerCommand } from "../src/harness.ts";

const root = fileURLToPath(new URL("../..", import.meta.url));
const require = createRequire(import.meta.url);

interface ListedTool {
  name: string;
  description?: string;
  inputSchema: unknown;
}

/**
 * What a model pays for a tool list: hosts put each tool's name, description and input schema in
 * the context. Counted with the o200k_base tokenizer (gpt-tokenizer); other tokenizers differ by a
 * few percent, the ratios much less.
 */
function modelFacingTokens(tools: ListedTool[]): number {
  return countTokens(
    JSON.stringify(tools.map((t) => ({ name: t.name, description: t.description, input_schema: t.inputSchema }))),
  );
}

async function listTools(server: ServerCommand): Promise<{ tools: ListedTool[]; wire: number }> {
  const c = await connect(server);
  try {
    const { tools } = await c.client.listTools();
    return { tools: tools as ListedTool[], wire: countTokens(JSON.stringify({ tools })) };
  } finally {
    await c.close();
  }
}

/**
 * Size of the default tool list (ours, GitHub's github-mcp-server reconstructed from its tool
 * snapshots, and the archived npm server), then the round trip of a repeated read that the ETag
 * cache revalidates with a 304, against the local GitHub.
 */
export async function run(): Promise<void> {
  const api = await startGitHubApi();
  const ours = (args: string[] = [], env: Record<string, string> = {}): ServerCommand => ({
    label: "portside",
    command: process.execPath,
    args: [`${root}servers/github/dist/cli.js`, ...args],
    env: { GITHUB_PERSONAL_ACCESS_TOKEN: "ghp_benchbenchbenchbenchbenchbench0000", GITHUB_API_URL: api.url, ...env },
  });
  try {
    const portside = await listTools(ours());
    const readOnly = await listTools(ours(["--read-only"]));
    const everything = await listTools(ours(["--toolsets", "all"]));
    const snapshot = JSON.parse(
      readFileSync(join(root, "test/fixtures/github/github-mcp-server-default-tools.json"), "utf8"),
    ) as { tools: ListedTool[] };
    const archivedPath = join(
      dirname(require.resolve("@modelcontextprotocol/server-github/package.json")),
      "dist/index.js",
    );
    const archived = await listTools({
      label: "archived",
      command: process.execPath,
      args: [archivedPath],
      env: { GITHUB_PERSONAL_ACCESS_TOKEN: "ghp_benchbenchbenchbenchbenchbench0000" },
    });

    report(
      "github: default tools/list (o200k_base tokens; lower is better)",
      ["portside", "github-mcp-server", "server-github (archived, npm)"],
      [
        {
          metric: "tools in the default list",
          unit: "count",
          values: [portside.tools.length, snapshot.tools.length, archived.tools.length],
        },
        {
          metric: "name+description+input schema",
          unit: "tokens",
          values: [
            modelFacingTokens(portside.tools),
            modelFacingTokens(snapshot.tools),
            modelFacingTokens(archived.tools),
          ],
        },
        { metric: "whole tools/list JSON", unit: "tokens", values: [portside.wire, Number.NaN, archived.wire] },
      ],
    );
    console.log(
      `portside, other settings: --read-only ${readOnly.tools.length} tools / ${modelFacingTokens(readOnly.tools)} tokens; ` +
        `--toolsets all ${everything.tools.length} tools / ${modelFacingTokens(everything.tools)} tokens`,
    );

    // Repeated reads: with the ETag cache GitHub answers 304 (no body, no rate limit spent).
    const rows = { p50: [] as number[], p99: [] as number[], spent: [] as number[] };
    const diff = bigDiff(40, 400);
    api.on("GET /repos/{owner}/{repo}/pulls/{pull_number}", (request) =>
      /diff/.test(String(request.headers.accept)) ? { body: diff } : undefined,
    );
    const readDiff = { method: "diff", owner: "octocat", repo: "Hello-World", pullNumber: 1, file: 20 };
    const diffRows = { p50: [] as number[] };
    for (const cacheMb of ["32", "0"]) {
      const c = await connect(ours([], { GITHUB_CACHE_MB: cacheMb }));
      try {
        const read = () =>
          c.client.callTool({ name: "repo_read", arguments: { method: "get", owner: "octocat", repo: "Hello-World" } });
        api.requests.length = 0;
        const samples = await roundTrips(read, 300, 20);
        rows.p50.push(median(samples));
        rows.p99.push(percentile(samples, 99));
        rows.spent.push(api.requests.filter((r) => r.status === 200).length / api.requests.length);
        const diffSamples = await roundTrips(
          () => c.client.callTool({ name: "pull_request_read", arguments: readDiff }),
          60,
          5,
        );
        diffRows.p50.push(median(diffSamples));
      } finally {
        await c.close();
      }
    }
    report(
      "github: repeated reads against the local GitHub (loopback; the saving grows with real network latency)",
      ["ETag cache (304)", "no cache (200)"],
      [
        { metric: "repo_read get round trip p50", unit: "ms", values: rows.p50 },
        { metric: "repo_read get round trip p99", unit: "ms", values: rows.p99 },
        { metric: `diff page of a ${Math.round(diff.length / 1024)} KiB diff, p50`, unit: "ms", values: diffRows.p50 },
        { metric: "rate-limited requests per read", unit: "share", values: rows.spent },
      ],
    );
  } finally {
    await api.close();
  }
}

function bigDiff(files: number, linesPerFile: number): string {
  const out: string[] = [];
  for (let f = 0; f < files; f++) {
    out.push(
      `diff --git a/src/m${f}.ts b/src/m${f}.ts`,
      "index 1111111..2222222 100644",
      `--- a/src/m${f}.ts`,
      `+++ b/src/m${f}.ts`,
    );
    out.push(`@@ -1,0 +1,${linesPerFile} @@`);
    for (let l = 0; l < linesPerFile; l++) out.push(`+export const value_${f}_${l} = "${"x".repeat(40)}";`);
  }
  return `${out.join("\n")}\n`;
}
