import { readFileSync } from "node:fs";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";

/** How to start one server over stdio, as a host would. */
export interface ServerCommand {
  label: string;
  command: string;
  args: string[];
  env?: Record<string, string>;
  cwd?: string;
}

export interface Connected {
  client: Client;
  pid: number;
  close(): Promise<void>;
}

export async function connect(server: ServerCommand): Promise<Connected> {
  const transport = new StdioClientTransport({
    command: server.command,
    args: server.args,
    env: { ...(process.env as Record<string, string>), ...server.env },
    stderr: "ignore",
    ...(server.cwd ? { cwd: server.cwd } : {}),
  });
  const client = new Client({ name: "portside-bench", version: "1.0.0" });
  await client.connect(transport, { timeout: 600_000 });
  return { client, pid: transport.pid ?? 0, close: () => client.close() };
}

/** Resident set size of a process, in MiB (Linux). */
export function rssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return kb / 1024;
}

/** Peak resident set size of a process so far, in MiB (Linux). */
export function peakRssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return kb / 1024;
}

export function percentile(samples: number[], p: number): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index] as number;
}

export const median = (samples: number[]) => percentile(samples, 50);

export async function time<T>(fn: () => Promise<T>): Promise<[number, T]> {
  const start = performance.now();
  const value = await fn();
  return [performance.now() - start, value];
}

/** Spawn → initialize → tools/list, `runs` times, alternating between servers so drift hits both. */
export async function coldStarts(servers: ServerCommand[], runs: number): Promise<number[][]> {
  const samples = servers.map(() => [] as number[]);
  for (let i = 0; i < runs; i++) {
    for (const [index, server] of servers.entries()) {
      const [ms, connected] = await time(async () => {
        const c = await connect(server);
        await c.client.listTools();
        return c;
      });
      await connected.close();
      samples[index]?.push(ms);
    }
  }
  return samples;
}

/** Sequential calls: each sample is one round trip. */
export async function roundTrips(call: () => Promise<unknown>, count: number, warmup = 20) {
  for (let i = 0; i < warmup; i++) await call();
  const samples: number[] = [];
  for (let i = 0; i < count; i++) samples.push((await time(call))[0]);
  return samples;
}

/** Calls per second with `inFlight` calls outstanding at all times. */
export async function throughput(call: () => Promise<unknown>, total: number, inFlight: number): Promise<number> {
  let started = 0;
  const start = performance.now();
  const worker = async () => {
    while (started < total) {
      started++;
      await call();
    }
  };
  await Promise.all(Array.from({ length: inFlight }, worker));
  return (total / (performance.now() - start)) * 1000;
}

export interface Row {
  metric: string;
  unit: string;
  values: number[];
  /** Lower is better (time, memory) unless false (throughput). */
  lowerIsBetter?: boolean;
}

/**
 * Prints a side-by-side table with the ratio of each server to the first one. Ratios are the only
 * figures worth comparing: absolute numbers drift with the machine's load.
 */
export function report(title: string, labels: string[], rows: Row[]): string {
  const fmt = (n: number) =>
    Number.isNaN(n) ? "n/a" : n >= 100 ? n.toFixed(0) : n >= 10 ? n.toFixed(1) : n.toFixed(2);
  const header = ["metric", ...labels, ...labels.slice(1).map((l) => `${l} ÷ ${labels[0]}`)];
  const lines = rows.map((row) => {
    const base = row.values[0] as number;
    return [
      `${row.metric} (${row.unit})`,
      ...row.values.map(fmt),
      ...row.values.slice(1).map((v) => (Number.isNaN(v) || !base ? "n/a" : `${(v / base).toFixed(2)}×`)),
    ];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => (l[i] ?? "").length)));
  const pad = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i] as number)).join("  ");
  const out = [`\n## ${title}`, pad(header), widths.map((w) => "-".repeat(w)).join("  "), ...lines.map(pad)].join("\n");
  console.log(out);
  return out;
}
