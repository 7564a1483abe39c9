/**
 * `@portside/server-memory` side by side with `@modelcontextprotocol/server-memory`, in one run:
 *
 * - knowledge graphs of 1k, 10k and 50k entities (written once as the official memory.jsonl; the
 *   official server reads it, ours imports it with `portside-memory import`): search_nodes,
 *   open_nodes and create_entities round trips;
 * - 16 create_entities calls in flight at once on an empty store: how many entities survive;
 * - recall over 100k memories with embeddings from a local OpenAI-compatible endpoint (ours only:
 *   the official server has no semantic memory).
 *
 * Data is generated directly (files, one import) rather than through thousands of tool calls, so
 * the suite finishes in a few minutes.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { startEmbeddingsServer } from "../../test/fixtures/memory/embedder.ts";
import {
  coldStarts,
  connect,
  median,
  percentile,
  type Row,
  report,
  rssMiB,
  type ServerCommand,
  time,
} from "../src/harness.ts";

const root = fileURLToPath(new URL("../..", import.meta.url));
const require = createRequire(import.meta.url);
const OFFICIAL = require.resolve("@modelcontextprotocol/server-memory/dist/index.js");
const OURS = `${root}servers/memory/dist/cli.js`;

const SIZES = [1_000, 10_000, 50_000];
const MEMORIES = 100_000;
const CONCURRENT = 16;

const FIRST = ["Alice", "Bob", "Carol", "Dave", "Erin", "Frank", "Grace", "Heidi", "Ivan", "Judy", "Mallory", "Niaj"];
const TOPICS = [
  "drinks espresso before standup",
  "adopted a beagle puppy",
  "is allergic to peanuts",
  "maintains the postgres database",
  "plans a vacation to Japan",
  "trains for a marathon",
  "plays jazz piano",
  "reviews the release pipeline",
  "prefers green tea",
  "drives an electric car",
  "writes typescript and rust",
  "manages the travel budget",
];
const PLACES = ["in Lisbon", "at the office", "on weekends", "since 2021", "every Friday", "with the family"];

/** The official memory.jsonl for `n` entities (three kinds), with n relations between them. */
function officialGraph(n: number): string {
  const lines: string[] = [];
  for (let i = 0; i < n; i++) {
    const kind = ["person", "project", "company"][i % 3] as string;
    lines.push(
      JSON.stringify({
        type: "entity",
        name: `${kind[0]?.toUpperCase()}${kind.slice(1)} ${i}`,
        entityType: kind,
        observations: [
          `${FIRST[i % FIRST.length]} ${TOPICS[i % TOPICS.length]} ${PLACES[i % PLACES.length]}`,
          `Reference code-${i}-z`,
          `Created in batch ${Math.floor(i / 100)}`,
        ],
      }),
    );
  }
  const name = (i: number) => {
    const kind = ["Person", "Project", "Company"][i % 3];
    return `${kind} ${i}`;
  };
  for (let i = 0; i < n; i++) {
    lines.push(
      JSON.stringify({ type: "relation", from: name(i), to: name((i * 7 + 1) % n), relationType: "relates_to" }),
    );
  }
  return `${lines.join("\n")}\n`;
}

function memoryLines(n: number): string {
  const lines: string[] = [];
  for (let i = 0; i < n; i++) {
    const who = FIRST[(i * 7) % FIRST.length];
    const what = TOPICS[(i * 13) % TOPICS.length];
    const where = PLACES[(i * 5) % PLACES.length];
    lines.push(
      JSON.stringify({
        type: "memory",
        content: `${who} ${what} ${where} (note ${i})`,
        tags: [`batch:${i % 50}`],
      }),
    );
  }
  return `${lines.join("\n")}\n`;
}

function cli(args: string[], env: Record<string, string> = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [OURS, ...args],
      { env: { ...process.env, ...env }, maxBuffer: 64 * 1024 * 1024, timeout: 1_800_000 },
      (error, _stdout, stderr) => (error ? reject(new Error(`${args[0]} failed: ${stderr}`)) : resolve(stderr)),
    );
  });
}

async function callOk(client: Client, name: string, args: Record<string, unknown>): Promise<CallToolResult> {
  const result = (await client.callTool({ name, arguments: args }, undefined, { timeout: 600_000 })) as CallToolResult;
  if (result.isError) throw new Error(`${name}: ${JSON.stringify(result.content).slice(0, 300)}`);
  return result;
}

async function samples(count: number, call: (i: number) => Promise<unknown>, warmup = 3): Promise<number[]> {
  for (let i = 0; i < warmup; i++) await call(-1 - i);
  const out: number[] = [];
  for (let i = 0; i < count; i++) out.push((await time(() => call(i)))[0]);
  return out;
}

interface SizeResult {
  search: number[];
  open: number[];
  create: number[];
  rss: number[];
}

/** Both servers on the same graph of `n` entities. */
async function graphAtSize(dir: string, n: number): Promise<SizeResult> {
  const file = join(dir, `graph-${n}.jsonl`);
  writeFileSync(file, officialGraph(n));
  const store = join(dir, `graph-${n}.db`);
  await cli(["import", file, "--store", store, "--no-embeddings"]);
  const servers: ServerCommand[] = [
    { label: "official", command: process.execPath, args: [OFFICIAL], env: { MEMORY_FILE_PATH: file } },
    { label: "portside", command: process.execPath, args: [OURS, "--store", store, "--no-embeddings"] },
  ];
  // Few enough official calls at 50k to keep the suite short: each one re-reads the whole file.
  const count = n >= 50_000 ? 15 : 30;
  const result: SizeResult = { search: [], open: [], create: [], rss: [] };
  for (const server of servers) {
    const c = await connect(server);
    try {
      const pick = (i: number) => Math.abs((i * 7919 + 17) % n);
      const search = await samples(count, (i) => callOk(c.client, "search_nodes", { query: `code-${pick(i)}-z` }));
      const open = await samples(count, (i) =>
        callOk(c.client, "open_nodes", {
          names: [`Person ${pick(i) - (pick(i) % 3)}`, `Project ${pick(i + 1) - (pick(i + 1) % 3) + 1}`],
        }),
      );
      const create = await samples(count, (i) =>
        callOk(c.client, "create_entities", {
          entities: [
            { name: `New ${server.label} ${i}`, entityType: "note", observations: [`added during the bench (${i})`] },
          ],
        }),
      );
      result.search.push(median(search));
      result.open.push(median(open));
      result.create.push(median(create));
      result.rss.push(rssMiB(c.pid));
    } finally {
      await c.close();
    }
  }
  return result;
}

/** 16 create_entities in flight at once against an empty store: how many entities are kept. */
async function concurrentCreates(dir: string): Promise<number[]> {
  const servers: ServerCommand[] = [
    {
      label: "official",
      command: process.execPath,
      args: [OFFICIAL],
      env: { MEMORY_FILE_PATH: join(dir, "race.jsonl") },
    },
    { label: "portside", command: process.execPath, args: [OURS, "--store", join(dir, "race.db"), "--no-embeddings"] },
  ];
  const kept: number[] = [];
  for (const server of servers) {
    const c = await connect(server);
    try {
      await Promise.all(
        Array.from({ length: CONCURRENT }, (_, i) =>
          callOk(c.client, "create_entities", {
            entities: [{ name: `Racer ${i}`, entityType: "test", observations: [] }],
          }),
        ),
      );
      const graph = (await callOk(c.client, "read_graph", {})).structuredContent as { entities: unknown[] };
      kept.push(graph.entities.length);
    } finally {
      await c.close();
    }
  }
  return kept;
}

async function recallAtScale(dir: string): Promise<Row[]> {
  const embeddings = await startEmbeddingsServer();
  try {
    const env = {
      OPENAI_API_KEY: "sk-bench",
      MEMORY_EMBEDDING_BASE_URL: embeddings.baseUrl,
      MEMORY_EMBEDDING_MODEL: "text-embedding-3-small",
      MEMORY_EMBEDDING_DIMENSIONS: "256",
      MEMORY_EMBEDDING_BATCH_SIZE: "512",
    };
    const file = join(dir, "memories.jsonl");
    writeFileSync(file, memoryLines(MEMORIES));
    const store = join(dir, "memories.db");
    const [importMs] = await time(() => cli(["import", file, "--store", store], env));
    const c = await connect({ label: "portside", command: process.execPath, args: [OURS, "--store", store], env });
    try {
      const queries = [
        "who likes coffee",
        "does anyone have a dog",
        "food allergies",
        "which database do we run",
        "holiday plans",
        "who goes running",
        "music hobbies",
        "deploy schedule",
        "tea preferences",
        "what car does someone drive",
        "programming languages",
        "money for trips",
      ];
      const [firstMs] = await time(() => callOk(c.client, "recall", { query: "first query loads the index", k: 8 }));
      // Each query is new to the server (a suffix defeats its query cache), so every sample embeds.
      const hybrid = await samples(60, (i) =>
        callOk(c.client, "recall", { query: `${queries[Math.abs(i) % queries.length]} ${i}`, k: 8 }),
      );
      const keyword = await samples(60, (i) =>
        callOk(c.client, "recall", { query: `${queries[Math.abs(i) % queries.length]} ${i}`, k: 8, mode: "full_text" }),
      );
      const filtered = await samples(30, (i) =>
        callOk(c.client, "recall", {
          query: `${queries[Math.abs(i) % queries.length]} ${i}`,
          k: 8,
          tags: [`batch:${Math.abs(i) % 50}`],
        }),
      );
      const rss = rssMiB(c.pid);
      return [
        { metric: `import + embed ${MEMORIES / 1000}k memories`, unit: "s", values: [importMs / 1000] },
        { metric: "first recall (loads the vector index)", unit: "ms", values: [firstMs] },
        { metric: "recall p50, hybrid (keyword + meaning)", unit: "ms", values: [median(hybrid)] },
        { metric: "recall p99, hybrid", unit: "ms", values: [percentile(hybrid, 99)] },
        { metric: "recall p50, keyword only", unit: "ms", values: [median(keyword)] },
        { metric: "recall p50, hybrid + tag filter", unit: "ms", values: [median(filtered)] },
        { metric: "RSS after recall", unit: "MiB", values: [rss] },
      ];
    } finally {
      await c.close();
    }
  } finally {
    await embeddings.close();
  }
}

export async function run(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "portside-memory-bench-"));
  try {
    const cold = await coldStarts(
      [
        {
          label: "portside",
          command: process.execPath,
          args: [OURS, "--store", join(dir, "cold.db"), "--no-embeddings"],
        },
        {
          label: "official",
          command: process.execPath,
          args: [OFFICIAL],
          env: { MEMORY_FILE_PATH: join(dir, "cold.jsonl") },
        },
      ],
      7,
    );
    report(
      "memory: cold start (spawn → initialize → tools/list)",
      ["portside", "official"],
      [{ metric: "cold start p50", unit: "ms", values: cold.map((samples) => median(samples)) }],
    );
    const bySize = new Map<number, SizeResult>();
    for (const n of SIZES) bySize.set(n, await graphAtSize(dir, n));
    const rows: Row[] = [];
    for (const [n, r] of bySize) {
      const k = `${n / 1000}k`;
      rows.push(
        { metric: `search_nodes p50 @${k}`, unit: "ms", values: r.search },
        { metric: `open_nodes p50 @${k}`, unit: "ms", values: r.open },
        { metric: `create_entities p50 @${k}`, unit: "ms", values: r.create },
        { metric: `RSS @${k}`, unit: "MiB", values: r.rss },
      );
    }
    report(
      "memory: knowledge graph at 1k / 10k / 50k entities (official ÷ portside = speed-up)",
      ["portside", "official"],
      rows.map((row) => ({ ...row, values: [...row.values].reverse() })),
    );

    const small = bySize.get(SIZES[0] as number) as SizeResult;
    const large = bySize.get(SIZES[SIZES.length - 1] as number) as SizeResult;
    report(
      "memory: growth from 1k to 50k entities (50k ÷ 1k; flat is 1×)",
      ["1k", "50k"],
      [
        { metric: "portside search_nodes", unit: "ms", values: [small.search[1] as number, large.search[1] as number] },
        { metric: "portside open_nodes", unit: "ms", values: [small.open[1] as number, large.open[1] as number] },
        {
          metric: "portside create_entities",
          unit: "ms",
          values: [small.create[1] as number, large.create[1] as number],
        },
        { metric: "official search_nodes", unit: "ms", values: [small.search[0] as number, large.search[0] as number] },
        {
          metric: "official create_entities",
          unit: "ms",
          values: [small.create[0] as number, large.create[0] as number],
        },
      ],
    );

    const kept = await concurrentCreates(dir);
    report(
      `memory: ${CONCURRENT} create_entities in flight at once (entities kept)`,
      ["portside", "official"],
      [
        {
          metric: "entities stored",
          unit: `of ${CONCURRENT}`,
          values: [kept[1] as number, kept[0] as number],
          lowerIsBetter: false,
        },
      ],
    );

    report(
      `memory: recall over ${MEMORIES / 1000}k memories (local OpenAI-compatible embeddings, 256 dimensions)`,
      ["portside"],
      await recallAtScale(dir),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
