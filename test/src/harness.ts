import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";

export const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

/** The built CLI of a server (`servers/<name>/dist/cli.js`), or of the fixture server. */
export function serverCli(name: string): string {
  const path =
    name === "fixture"
      ? join(REPO_ROOT, "test", "dist", "fixture.js")
      : join(REPO_ROOT, "servers", name, "dist", "cli.js");
  if (!existsSync(path)) throw new Error(`${path} is missing: run pnpm build first`);
  return path;
}

export interface StdioServer {
  client: Client;
  transport: StdioClientTransport;
  /** Everything the server wrote to stderr so far. */
  stderr(): string;
  /** Errors the client transport saw (e.g. a non-JSON line on stdout). */
  transportErrors: Error[];
  close(): Promise<void>;
}

/** Spawns a built server exactly as an MCP host does and connects a real client over stdio. */
export async function startStdio(
  name: string,
  args: string[] = [],
  options: { env?: Record<string, string>; cwd?: string; clientCapabilities?: Record<string, unknown> } = {},
): Promise<StdioServer> {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [serverCli(name), ...args],
    env: { ...(process.env as Record<string, string>), ...options.env },
    stderr: "pipe",
    ...(options.cwd ? { cwd: options.cwd } : {}),
  });
  let stderr = "";
  transport.stderr?.on("data", (chunk: Buffer) => {
    stderr += chunk.toString("utf8");
  });
  const transportErrors: Error[] = [];
  const client = new Client(
    { name: "portside-integration", version: "1.0.0" },
    { capabilities: options.clientCapabilities ?? {} },
  );
  client.onerror = (error) => transportErrors.push(error);
  await client.connect(transport);
  return {
    client,
    transport,
    stderr: () => stderr,
    transportErrors,
    close: () => client.close(),
  };
}

export interface HttpServerProcess {
  url: URL;
  process: ChildProcess;
  stderr(): string;
  /** A client connected over Streamable HTTP, optionally with a bearer token. */
  connect(options?: { token?: string }): Promise<Client>;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Starts a built server over Streamable HTTP on a free loopback port. */
export async function startHttp(
  name: string,
  args: string[] = [],
  options: { env?: Record<string, string> } = {},
): Promise<HttpServerProcess> {
  const child = spawn(process.execPath, [serverCli(name), "--http", "--port", "0", ...args], {
    env: { ...process.env, ...options.env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  const url = await new Promise<URL>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${stderr}`)), 30_000);
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString("utf8");
      const match = /listening on (http:\/\/[^\s"]+)/.exec(stderr);
      if (match?.[1]) {
        clearTimeout(timer);
        resolve(new URL(match[1]));
      }
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code}:\n${stderr}`));
    });
  });
  const clients: Client[] = [];
  return {
    url,
    process: child,
    stderr: () => stderr,
    async connect({ token } = {}) {
      const transport = new StreamableHTTPClientTransport(url, {
        ...(token ? { requestInit: { headers: { Authorization: `Bearer ${token}` } } } : {}),
      });
      const client = new Client({ name: "portside-integration", version: "1.0.0" });
      await client.connect(transport);
      clients.push(client);
      return client;
    },
    async stop(signal = "SIGTERM") {
      await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
      if (child.exitCode !== null) return child.exitCode;
      child.kill(signal);
      const [code] = (await once(child, "exit")) as [number | null];
      return code;
    },
  };
}

/** The text of a tool result's first content block. */
export function textOf(result: unknown): string {
  const content = (result as CallToolResult).content ?? [];
  return content
    .filter((block): block is { type: "text"; text: string } => block.type === "text")
    .map((block) => block.text)
    .join("\n");
}

export function structured<T = Record<string, unknown>>(result: unknown): T {
  return (result as CallToolResult).structuredContent as T;
}

/** Scenarios of the official conformance suite that apply to any real server over HTTP. */
export const GENERIC_CONFORMANCE_SCENARIOS = [
  "server-initialize",
  "ping",
  "tools-list",
  "logging-set-level",
  "dns-rebinding-protection",
  "server-sse-multiple-streams",
] as const;

export interface ConformanceOutcome {
  scenario: string;
  passed: number;
  total: number;
  failed: number;
  output: string;
}

/**
 * Runs `@modelcontextprotocol/conformance` scenarios against an HTTP server, saving the full output
 * to `outFile` (it is asserted on by the caller, not printed).
 */
export async function runConformance(
  url: URL,
  scenarios: readonly string[],
  outFile: string,
): Promise<ConformanceOutcome[]> {
  const { createRequire } = await import("node:module");
  const { mkdirSync, appendFileSync, writeFileSync } = await import("node:fs");
  const { execFile } = await import("node:child_process");
  const require = createRequire(import.meta.url);
  const bin = join(dirname(require.resolve("@modelcontextprotocol/conformance/package.json")), "dist", "index.js");
  mkdirSync(dirname(outFile), { recursive: true });
  writeFileSync(outFile, "");
  const outcomes: ConformanceOutcome[] = [];
  for (const scenario of scenarios) {
    const output = await new Promise<string>((resolve) => {
      execFile(
        process.execPath,
        [bin, "server", "--url", url.href, "--scenario", scenario],
        { timeout: 120_000, env: { ...process.env, NO_COLOR: "1", FORCE_COLOR: "0" } },
        (_error, stdout, stderr) => resolve(`${stdout}${stderr}`),
      );
    });
    appendFileSync(outFile, `### ${scenario}\n${output}\n`);
    const clean = output.replace(/\u001b\[[0-9;]*m/g, "");
    const match = /Passed:\s*(\d+)\/(\d+),\s*(\d+)\s*failed/.exec(clean);
    outcomes.push({
      scenario,
      passed: Number(match?.[1] ?? 0),
      total: Number(match?.[2] ?? -1),
      failed: Number(match?.[3] ?? -1),
      output: clean,
    });
  }
  return outcomes;
}
