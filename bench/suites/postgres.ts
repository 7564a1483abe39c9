/**
 * `@portside/server-postgres` side by side with `@modelcontextprotocol/server-postgres@0.6.2`, on one
 * PostgreSQL the suite starts itself (embedded, or DATABASE_URL) with a 1M-row table:
 *
 * - point lookups by primary key (the common case: the guard and the caps must cost nothing);
 * - `SELECT * FROM big`: the official server loads all rows and returns them; ours streams the first
 *   rows and stops at its caps.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { once } from "node:events";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import type { Transport } from "@modelcontextprotocol/sdk/shared/transport.js";
import type { JSONRPCMessage } from "@modelcontextprotocol/sdk/types.js";
import pg from "pg";
import { startTestDatabase } from "../../servers/postgres/test/support/database.ts";
import {
  type Connected,
  coldStarts,
  median,
  peakRssMiB,
  percentile,
  report,
  type ServerCommand,
  time,
} from "../src/harness.ts";

const root = fileURLToPath(new URL("../..", import.meta.url));
const require = createRequire(import.meta.url);

const ROWS = 1_000_000;
const LOOKUPS = 1000;
const WARMUP = 500;
const BIG_RUNS_OFFICIAL = 2;
const BIG_RUNS_OURS = 5;

export async function run(): Promise<void> {
  const db = await startTestDatabase("portside_bench");
  try {
    const readerUrl = await seed(db.adminUrl, `${db.database}_reader`, db.urlFor.bind(db));
    const official = require.resolve("@modelcontextprotocol/server-postgres/dist/index.js");
    const servers: ServerCommand[] = [
      { label: "official", command: process.execPath, args: [official, readerUrl] },
      { label: "portside", command: process.execPath, args: [`${root}servers/postgres/dist/cli.js`, readerUrl] },
    ];

    const cold = await coldStarts(servers, 5);
    const clients = await Promise.all(servers.map((s) => connectLarge(s)));
    try {
      const lookups = await pointLookups(clients);
      const big = await bigQuery(clients);
      report(
        `postgres: point lookups and a ${ROWS.toLocaleString("en")}-row SELECT *`,
        servers.map((s) => s.label),
        [
          { metric: "cold start p50", unit: "ms", values: cold.map((c) => median(c)) },
          { metric: "point lookup p50", unit: "ms", values: lookups.map((s) => median(s)) },
          { metric: "point lookup p99", unit: "ms", values: lookups.map((s) => percentile(s, 99)) },
          { metric: "SELECT * FROM big (answer)", unit: "ms", values: big.map((b) => median(b.ms)) },
          { metric: "answer size", unit: "KiB", values: big.map((b) => b.bytes / 1024) },
          { metric: "server peak RSS", unit: "MiB", values: big.map((b) => b.peakRss) },
        ],
      );
      const lookupRatio = median(lookups[1] as number[]) / median(lookups[0] as number[]);
      const bigSpeedup = median(big[0]?.ms as number[]) / median(big[1]?.ms as number[]);
      console.log(
        [
          `point lookup, portside ÷ official: ${lookupRatio.toFixed(2)}× (target ≤ 1.10×)`,
          `SELECT * over ${ROWS.toLocaleString("en")} rows: portside is ${bigSpeedup.toFixed(0)}× faster (target ≥ 20×)`,
          `portside peak RSS ${big[1]?.peakRss.toFixed(0)} MiB (target < 150 MiB); official ${big[0]?.peakRss.toFixed(0)} MiB`,
        ].join("\n"),
      );
    } finally {
      await Promise.all(clients.map((c) => c.close()));
    }
  } finally {
    await db.stop();
  }
}

/** One table of ROWS rows, and a role that can only read it (ours refuses to run as a superuser). */
async function seed(
  adminUrl: string,
  role: string,
  urlFor: (role: string, password: string) => string,
): Promise<string> {
  const password = randomBytes(12).toString("hex");
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(`
      CREATE TABLE big (id integer PRIMARY KEY, customer text NOT NULL, amount numeric(12,2) NOT NULL,
                        created_at timestamptz NOT NULL, note text);
      INSERT INTO big
        SELECT g, 'customer ' || (g % 5000), (g % 100000) / 100.0, '2024-01-01'::timestamptz + g * interval '1 second',
               md5(g::text)
          FROM generate_series(1, ${ROWS}) g;
      ANALYZE big;
      CREATE ROLE ${pg.escapeIdentifier(role)} LOGIN PASSWORD '${password}';
      GRANT SELECT ON big TO ${pg.escapeIdentifier(role)};
    `);
  } finally {
    await admin.end();
  }
  return urlFor(role, password);
}

/**
 * The same lookups on both servers, interleaved call by call (in alternating order, so neither
 * always runs right after the other) so machine noise hits both alike.
 */
async function pointLookups(clients: Connected[]): Promise<number[][]> {
  const samples = clients.map(() => [] as number[]);
  const lookup = (c: Connected, id: number) =>
    c.client.callTool({ name: "query", arguments: { sql: `SELECT * FROM big WHERE id = ${id}` } });
  for (let i = 0; i < WARMUP; i++) for (const c of clients) await lookup(c, 1 + ((i * 7919) % ROWS));
  for (let i = 0; i < LOOKUPS; i++) {
    const id = 1 + ((i * 104729) % ROWS);
    const order = i % 2 === 0 ? [...clients.entries()] : [...clients.entries()].reverse();
    for (const [index, c] of order) {
      const [ms, result] = await time(() => lookup(c, id));
      if ((result as { isError?: boolean }).isError) throw new Error(`lookup failed on server ${index}`);
      samples[index]?.push(ms);
    }
  }
  return samples;
}

interface BigOutcome {
  ms: number[];
  bytes: number;
  peakRss: number;
}

async function bigQuery(clients: Connected[]): Promise<BigOutcome[]> {
  const outcomes: BigOutcome[] = [];
  for (const [index, c] of clients.entries()) {
    const runs = index === 0 ? BIG_RUNS_OFFICIAL : BIG_RUNS_OURS;
    const ms: number[] = [];
    let bytes = 0;
    for (let i = 0; i < runs; i++) {
      const [elapsed, result] = await time(() =>
        c.client.callTool({ name: "query", arguments: { sql: "SELECT * FROM big" } }, undefined, { timeout: 600_000 }),
      );
      const content = (result as { content: Array<{ text?: string }> }).content;
      bytes = content.reduce((sum, block) => sum + Buffer.byteLength(block.text ?? ""), 0);
      ms.push(elapsed);
    }
    outcomes.push({ ms, bytes, peakRss: peakRssMiB(c.pid) });
  }
  return outcomes;
}

/**
 * A stdio client transport that can take a multi-hundred-megabyte answer: the SDK's own stops at
 * 10 MiB and concatenates its buffer on every chunk, which would measure the client, not the server.
 * Both servers are driven through this one, so the comparison stays fair.
 */
class LargeMessageStdioTransport implements Transport {
  onmessage?: (message: JSONRPCMessage) => void;
  onclose?: () => void;
  onerror?: (error: Error) => void;
  private child: ChildProcess | undefined;
  private pending: Buffer[] = [];

  constructor(private readonly server: ServerCommand) {}

  get pid(): number {
    return this.child?.pid ?? 0;
  }

  async start(): Promise<void> {
    const child = spawn(this.server.command, this.server.args, {
      stdio: ["pipe", "pipe", "ignore"],
      env: { ...process.env, ...this.server.env },
    });
    this.child = child;
    child.stdout?.on("data", (chunk: Buffer) => this.feed(chunk));
    child.once("exit", () => this.onclose?.());
    child.once("error", (error) => this.onerror?.(error));
    await once(child, "spawn");
  }

  private feed(chunk: Buffer): void {
    let start = 0;
    for (let end = chunk.indexOf(10); end !== -1; end = chunk.indexOf(10, start)) {
      this.pending.push(chunk.subarray(start, end));
      const line = Buffer.concat(this.pending).toString("utf8");
      this.pending = [];
      start = end + 1;
      if (line.trim()) {
        try {
          this.onmessage?.(JSON.parse(line) as JSONRPCMessage);
        } catch (error) {
          this.onerror?.(error as Error);
        }
      }
    }
    if (start < chunk.length) this.pending.push(chunk.subarray(start));
  }

  async send(message: JSONRPCMessage): Promise<void> {
    this.child?.stdin?.write(`${JSON.stringify(message)}\n`);
  }

  async close(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    child.stdin?.end();
    const timer = setTimeout(() => child.kill("SIGKILL"), 3000);
    await once(child, "exit");
    clearTimeout(timer);
  }
}

async function connectLarge(server: ServerCommand): Promise<Connected> {
  const transport = new LargeMessageStdioTransport(server);
  const client = new Client({ name: "portside-bench", version: "1.0.0" });
  await client.connect(transport, { timeout: 600_000 });
  return { client, pid: transport.pid, close: () => client.close() };
}
