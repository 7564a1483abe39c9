import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { type CallToolResult, ListRootsRequestSchema, type Root } from "@modelcontextprotocol/sdk/types.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DESTINATION_ESCAPES, FILE_ESCAPES, type Layout, makeLayout, snapshot } from "../fixtures/filesystem/layout.js";
import {
  GENERIC_CONFORMANCE_SCENARIOS,
  type HttpServerProcess,
  REPO_ROOT,
  runConformance,
  type StdioServer,
  startHttp,
  startStdio,
  structured,
  textOf,
} from "../src/harness.js";

type Call = (name: string, args: Record<string, unknown>) => Promise<CallToolResult>;

const errorOf = (result: CallToolResult) =>
  (result._meta?.["io.portside/error"] ?? {}) as { code?: string; rule?: string; argument?: string };

/** A realistic session and the escape suite, run the same way over each transport. */
function endToEnd(layout: () => Layout, call: () => Call) {
  it("reads, writes, edits, lists and searches", async () => {
    const c = call();
    expect(textOf(await c("read_text_file", { path: "file.txt" }))).toBe("inside\n");
    expect(textOf(await c("write_file", { path: "notes/todo.md", content: "- one\n- two\n- one\n" }))).toBe(
      "Successfully wrote to notes/todo.md",
    );
    const ambiguous = await c("edit_file", { path: "notes/todo.md", edits: [{ oldText: "- one", newText: "- 1" }] });
    expect(errorOf(ambiguous).code).toBe("conflict");
    const edit = await c("edit_file", {
      path: "notes/todo.md",
      edits: [{ oldText: "- one", newText: "- 1", replaceAll: true }],
    });
    expect(textOf(edit)).toContain("+- 1");
    expect(readFileSync(join(layout().allowed, "notes/todo.md"), "utf8")).toBe("- 1\n- two\n- 1\n");
    expect(textOf(await c("list_directory", { path: "notes" }))).toBe("[FILE] todo.md");
    const found = await c("search_files", { path: ".", pattern: "**/*.md" });
    expect(structured<{ matches: string[] }>(found).matches).toEqual([join(layout().allowed, "notes/todo.md")]);
    const grep = await c("search_content", { path: ".", query: "two" });
    expect(textOf(grep)).toContain("2:- two");
    await c("move_file", { source: "notes/todo.md", destination: "notes/done.md" });
    expect(existsSync(join(layout().allowed, "notes/done.md"))).toBe(true);
    expect(textOf(await c("list_allowed_directories", {}))).toBe(`Allowed directories:\n${layout().allowed}`);
  });

  describe.each([
    ["read_text_file", (path: string) => ({ path })],
    ["get_file_info", (path: string) => ({ path })],
    ["write_file", (path: string) => ({ path, content: "pwned" })],
    ["edit_file", (path: string) => ({ path, edits: [{ oldText: "secret", newText: "pwned" }] })],
    ["copy_file", (path: string) => ({ source: path, destination: "stolen.txt" })],
    ["list_directory", (path: string) => ({ path })],
    ["search_content", (path: string) => ({ path, query: "secret" })],
  ] as const)("%s refuses every way out", (tool, args) => {
    it.each(FILE_ESCAPES)("%s", async (_what, path, rule) => {
      const result = await call()(tool, args(path(layout())));
      expect(result.isError).toBe(true);
      expect(errorOf(result)).toMatchObject({ code: "permission_denied", rule });
      expect(textOf(result)).toContain(`rule: ${rule}`);
    });
  });

  describe.each([
    ["write_file", (path: string) => ({ path, content: "planted" })],
    ["copy_file", (path: string) => ({ source: "file.txt", destination: path, overwrite: true })],
    ["move_file", (path: string) => ({ source: "sub/inner.txt", destination: path, overwrite: true })],
    ["create_directory", (path: string) => ({ path })],
  ] as const)("%s never lands outside", (tool, args) => {
    it.each(DESTINATION_ESCAPES)("%s", async (_what, path, rule) => {
      const result = await call()(tool, args(path(layout())));
      expect(errorOf(result)).toMatchObject({ code: "permission_denied", rule });
    });
  });

  it("refuses globs that climb out and walks that would follow links out", async () => {
    const c = call();
    expect(errorOf(await c("search_files", { path: ".", pattern: "../**" })).rule).toBe("glob_escape");
    const all = structured<{ matches: string[] }>(await c("search_files", { path: ".", pattern: "**" })).matches;
    // The walk did go down into the tree, so the checks below are about real results.
    expect(all).toContain(join(layout().allowed, "sub", "inner.txt"));
    for (const path of all) expect(path.startsWith(`${layout().allowed}/`)).toBe(true);
    expect(all.some((p) => p.endsWith("deep.txt"))).toBe(false);
  });
}

describe("filesystem over stdio", () => {
  let layout: Layout;
  let server: StdioServer;
  let before: { outside: Record<string, string>; evil: Record<string, string> };

  beforeAll(async () => {
    layout = makeLayout();
    before = { outside: snapshot(layout.outside), evil: snapshot(layout.evil) };
    server = await startStdio("filesystem", [layout.allowed, "--deny", ".env", "--log-level", "debug"]);
  });
  afterAll(async () => {
    await server.close();
    expect(snapshot(layout.outside)).toEqual(before.outside);
    expect(snapshot(layout.evil)).toEqual(before.evil);
    layout.cleanup();
  });

  endToEnd(
    () => layout,
    () => (name, args) => server.client.callTool({ name, arguments: args }) as Promise<CallToolResult>,
  );

  it("wrote nothing but protocol messages to stdout", () => {
    expect(server.transportErrors).toEqual([]);
  });

  it("refuses to start without a directory, or with none that exists", async () => {
    const { spawnSync } = await import("node:child_process");
    const { serverCli } = await import("../src/harness.js");
    const none = spawnSync(process.execPath, [serverCli("filesystem")], { encoding: "utf8" });
    expect(none.status).toBe(2);
    expect(none.stderr).toContain("give at least one directory");
    const missing = spawnSync(process.execPath, [serverCli("filesystem"), join(layout.base, "nope")], {
      encoding: "utf8",
    });
    expect(missing.status).toBe(2);
    expect(missing.stderr).toContain("does not exist");
  });
});

describe("filesystem over HTTP", () => {
  let layout: Layout;
  let http: HttpServerProcess;
  let client: Client;
  let before: Record<string, string>;

  beforeAll(async () => {
    layout = makeLayout();
    before = snapshot(layout.outside);
    http = await startHttp("filesystem", [layout.allowed, "--deny", ".env"]);
    client = await http.connect();
  });
  afterAll(async () => {
    expect(await http.stop()).toBe(0);
    expect(snapshot(layout.outside)).toEqual(before);
    layout.cleanup();
  });

  endToEnd(
    () => layout,
    () => (name, args) => client.callTool({ name, arguments: args }) as Promise<CallToolResult>,
  );

  it("passes the MCP conformance scenarios that apply to a real server", async () => {
    const outFile = join(REPO_ROOT, "test", ".conformance", "filesystem.txt");
    const outcomes = await runConformance(http.url, GENERIC_CONFORMANCE_SCENARIOS, outFile);
    for (const outcome of outcomes) {
      expect({ scenario: outcome.scenario, failed: outcome.failed }).toEqual({ scenario: outcome.scenario, failed: 0 });
      expect(outcome.total, outcome.output).toBeGreaterThan(0);
    }
  }, 300_000);

  it("serves read-only mode without any write tool", async () => {
    const readOnly = await startHttp("filesystem", [layout.allowed, "--read-only"]);
    try {
      const c = await readOnly.connect();
      const names = (await c.listTools()).tools.map((t) => t.name);
      expect(names).toContain("read_text_file");
      for (const write of ["write_file", "edit_file", "move_file", "copy_file", "create_directory", "delete_file"]) {
        expect(names).not.toContain(write);
      }
      await expect(c.callTool({ name: "write_file", arguments: { path: "x.txt", content: "x" } })).rejects.toThrow(
        /Unknown tool/,
      );
      expect(existsSync(join(layout.allowed, "x.txt"))).toBe(false);
    } finally {
      await readOnly.stop();
    }
  });
});

describe("MCP roots", () => {
  let layout: Layout;
  beforeAll(() => {
    layout = makeLayout();
  });
  afterAll(() => layout.cleanup());

  function offerRoots(client: Client, roots: () => Root[]) {
    client.setRequestHandler(ListRootsRequestSchema, () => ({ roots: roots() }));
  }

  it("narrows to the client's roots over stdio and follows changes, never widening", async () => {
    let roots: Root[] = [{ uri: pathToFileURL(join(layout.allowed, "sub")).href, name: "sub" }];
    const server = await startStdio("filesystem", [layout.allowed], {
      clientCapabilities: { roots: { listChanged: true } },
    });
    offerRoots(server.client, () => roots);
    try {
      const call = (name: string, args: Record<string, unknown>) =>
        server.client.callTool({ name, arguments: args }) as Promise<CallToolResult>;
      expect(textOf(await call("list_allowed_directories", {}))).toBe(
        `Allowed directories:\n${join(layout.allowed, "sub")}`,
      );
      expect(textOf(await call("read_text_file", { path: "inner.txt" }))).toBe("inner\n");
      expect(errorOf(await call("read_text_file", { path: join(layout.allowed, "file.txt") })).rule).toBe(
        "outside_allowed_directories",
      );

      roots = [{ uri: pathToFileURL("/").href }];
      await server.client.sendRootsListChanged();
      await expect
        .poll(async () => textOf(await call("list_allowed_directories", {})))
        .toBe(`Allowed directories:\n${layout.allowed}`);
      expect(errorOf(await call("read_text_file", { path: join(layout.outside, "secret.txt") })).rule).toBe(
        "outside_allowed_directories",
      );

      roots = [{ uri: pathToFileURL(layout.outside).href }];
      await server.client.sendRootsListChanged();
      await expect
        .poll(async () => errorOf(await call("read_text_file", { path: "file.txt" })).rule)
        .toBe("no_allowed_directories");
    } finally {
      await server.close();
    }
  });

  it("narrows to the client's roots over HTTP", async () => {
    const http = await startHttp("filesystem", [layout.allowed]);
    const client = new Client(
      { name: "roots-client", version: "1.0.0" },
      { capabilities: { roots: { listChanged: true } } },
    );
    offerRoots(client, () => [{ uri: pathToFileURL(join(layout.allowed, "sub")).href }]);
    try {
      await client.connect(new StreamableHTTPClientTransport(http.url));
      const listed = await client.callTool({ name: "list_allowed_directories", arguments: {} });
      expect(textOf(listed)).toBe(`Allowed directories:\n${join(layout.allowed, "sub")}`);
      const refused = (await client.callTool({
        name: "read_text_file",
        arguments: { path: join(layout.allowed, "file.txt") },
      })) as CallToolResult;
      expect(errorOf(refused).rule).toBe("outside_allowed_directories");
    } finally {
      await client.close();
      await http.stop();
    }
  });
});

describe("a 100 MiB file", () => {
  let layout: Layout;
  let server: StdioServer;
  const MiB = 1 << 20;

  beforeAll(async () => {
    layout = makeLayout();
    mkdirSync(join(layout.allowed, "logs"));
    const fd = openSync(join(layout.allowed, "logs", "huge.log"), "w");
    const line = "2026-01-01T00:00:00Z INFO request served in 12 ms by worker 7 for /api/items?page=3\n";
    const block = Buffer.from(line.repeat(Math.floor(MiB / line.length)));
    let written = 0;
    while (written < 100 * MiB) written += writeSync(fd, block);
    writeSync(fd, "THE LAST LINE\n");
    closeSync(fd);
    server = await startStdio("filesystem", [layout.allowed]);
  }, 120_000);
  afterAll(async () => {
    await server.close();
    rmSync(join(layout.allowed, "logs"), { recursive: true, force: true });
    layout.cleanup();
  });

  const peakRssMiB = () => {
    const status = readFileSync(`/proc/${server.transport.pid}/status`, "utf8");
    return Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
  };

  it("is read in bounded pages, never loaded or sent whole", async () => {
    const call = (name: string, args: Record<string, unknown>) =>
      server.client.callTool({ name, arguments: args }) as Promise<CallToolResult>;
    await call("read_text_file", { path: "file.txt" });
    const baseline = peakRssMiB();

    const first = textOf(await call("read_text_file", { path: "logs/huge.log" }));
    expect(first.length).toBeLessThanOrEqual(40_000);
    expect(first).toMatch(/To continue, call read_text_file with offset=\d+/);

    const tail = textOf(await call("read_text_file", { path: "logs/huge.log", tail: 2 }));
    expect(tail.endsWith("THE LAST LINE\n")).toBe(true);
    const deep = textOf(await call("read_text_file", { path: "logs/huge.log", offset: 1_000_000, limit: 2 }));
    expect(deep).toMatch(/^2026-01-01.*\n2026-01-01.*\n/);

    expect(errorOf(await call("read_media_file", { path: "logs/huge.log" })).code).toBe("too_large");
    expect(
      errorOf(await call("edit_file", { path: "logs/huge.log", edits: [{ oldText: "x", newText: "y" }] })).code,
    ).toBe("too_large");
    const info = structured<{ size: number; sha256?: string }>(await call("get_file_info", { path: "logs/huge.log" }));
    expect(info.size).toBeGreaterThan(100 * MiB);
    expect(info.sha256).toBeUndefined();
    const grep = structured<{ skippedLarge: number }>(
      await call("search_content", { path: "logs", query: "THE LAST" }),
    );
    expect(grep.skippedLarge).toBe(1);

    // Loading the file whole would cost well over 100 MiB (bytes plus the decoded string).
    expect(peakRssMiB() - baseline).toBeLessThan(48);
  }, 120_000);
});
