import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import type { CallToolResult, Root } from "@modelcontextprotocol/sdk/types.js";
import { connectInMemory, type InMemoryConnection } from "@portside/shared/testing";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { FilesystemConfig } from "../src/config.js";
import { createApp, instructionsFor, toolsFor } from "../src/server.js";
import { type Layout, makeLayout } from "./helpers.js";

let layout: Layout;
let connection: InMemoryConnection;
let client: Client;

async function connect(
  config: Partial<FilesystemConfig> = {},
  options: { roots?: Root[]; maxResponseChars?: number } = {},
): Promise<void> {
  await connection?.close();
  const app = await createApp(
    {
      directories: [layout.allowed],
      readOnly: false,
      deny: [".env"],
      maxReadBytes: 1 << 20,
      allowDelete: true,
      ...config,
    },
    () => undefined,
  );
  connection = await connectInMemory({ instructions: instructionsFor(app), tools: toolsFor(app) }, options);
  client = connection.client;
}

beforeEach(async () => {
  layout = makeLayout();
  await connect();
});
afterEach(async () => {
  await connection.close();
  layout.cleanup();
});

const call = async (name: string, args: Record<string, unknown>) =>
  (await client.callTool({ name, arguments: args })) as CallToolResult;
const text = (result: CallToolResult) =>
  result.content.map((b) => (b.type === "text" ? b.text : `[${b.type}]`)).join("\n");
async function ok(name: string, args: Record<string, unknown>): Promise<CallToolResult> {
  const result = await call(name, args);
  expect(result.isError, text(result)).toBeFalsy();
  return result;
}
async function failed(name: string, args: Record<string, unknown>): Promise<{ code: string; text: string }> {
  const result = await call(name, args);
  expect(result.isError, text(result)).toBe(true);
  const error = (result._meta?.["io.portside/error"] ?? {}) as { code?: string };
  return { code: error.code ?? "", text: text(result) };
}
const numbered = (n: number) => Array.from({ length: n }, (_, i) => `line ${i + 1}\n`).join("");

describe("tool set", () => {
  const official = [
    "read_text_file",
    "read_file",
    "read_media_file",
    "read_multiple_files",
    "write_file",
    "edit_file",
    "create_directory",
    "list_directory",
    "list_directory_with_sizes",
    "directory_tree",
    "move_file",
    "search_files",
    "get_file_info",
    "list_allowed_directories",
  ];

  it("has every tool of the reference server with its parameters, plus ours", async () => {
    const { tools } = await client.listTools();
    const byName = new Map(tools.map((t) => [t.name, t]));
    for (const name of official) expect(byName.has(name), name).toBe(true);
    for (const name of ["search_content", "copy_file", "delete_file"]) expect(byName.has(name), name).toBe(true);
    const params = (name: string) => Object.keys((byName.get(name)?.inputSchema.properties ?? {}) as object);
    expect(params("read_text_file")).toEqual(expect.arrayContaining(["path", "head", "tail", "offset", "limit"]));
    expect(params("edit_file")).toEqual(expect.arrayContaining(["path", "edits", "dryRun", "expectedHash"]));
    expect(params("directory_tree")).toEqual(
      expect.arrayContaining(["path", "excludePatterns", "maxDepth", "maxEntries"]),
    );
    expect(params("search_files")).toEqual(expect.arrayContaining(["path", "pattern", "excludePatterns"]));
    expect(params("list_directory_with_sizes")).toEqual(expect.arrayContaining(["path", "sortBy"]));
    expect(params("move_file")).toEqual(expect.arrayContaining(["source", "destination", "overwrite"]));
    expect(params("read_multiple_files")).toEqual(["paths"]);
    for (const tool of tools) {
      expect(tool.annotations?.openWorldHint).toBe(false);
      expect(typeof tool.annotations?.readOnlyHint).toBe("boolean");
    }
  });

  it("registers no write tools in read-only mode, and delete only when enabled", async () => {
    await connect({ readOnly: true, allowDelete: true });
    const readOnly = (await client.listTools()).tools.map((t) => t.name);
    for (const name of ["write_file", "edit_file", "create_directory", "move_file", "copy_file", "delete_file"]) {
      expect(readOnly).not.toContain(name);
    }
    expect(readOnly).toContain("search_content");
    await connect({ allowDelete: false });
    expect((await client.listTools()).tools.map((t) => t.name)).not.toContain("delete_file");
  });
});

describe("reading", () => {
  it("reads text, head, tail and ranges", async () => {
    writeFileSync(join(layout.allowed, "ten.txt"), numbered(10));
    expect(text(await ok("read_text_file", { path: "ten.txt" }))).toBe(numbered(10));
    expect(text(await ok("read_file", { path: join(layout.allowed, "ten.txt"), head: 2 }))).toBe("line 1\nline 2\n");
    expect(text(await ok("read_text_file", { path: "ten.txt", tail: 2 }))).toBe("line 9\nline 10\n");
    expect(text(await ok("read_text_file", { path: "ten.txt", offset: 4, limit: 2 }))).toBe(
      "line 4\nline 5\n\n[Showing lines 4–5. More follows: call read_text_file with offset=6.]",
    );
    expect((await failed("read_text_file", { path: "ten.txt", head: 1, tail: 1 })).code).toBe("invalid_argument");
  });

  it("cuts a large file to the response and names the offset that continues it", async () => {
    await connect({}, { maxResponseChars: 5000 });
    writeFileSync(join(layout.allowed, "big.txt"), numbered(100_000));
    const first = text(await ok("read_text_file", { path: "big.txt" }));
    expect(first.length).toBeLessThanOrEqual(5000);
    const offset = Number(/offset=(\d+)/.exec(first)?.[1]);
    expect(offset).toBeGreaterThan(100);
    expect(first).toContain(`line ${offset - 1}\n`);
    const next = text(await ok("read_text_file", { path: "big.txt", offset }));
    expect(next.startsWith(`line ${offset}\n`)).toBe(true);
  });

  it("refuses binary files as text and returns them as media", async () => {
    const png = Buffer.from("89504e470d0a1a0a0000000d49484452", "hex");
    writeFileSync(join(layout.allowed, "pic.png"), png);
    expect((await failed("read_text_file", { path: "pic.png" })).text).toMatch(/binary file/);
    const media = await ok("read_media_file", { path: "pic.png" });
    expect(media.content[0]).toEqual({ type: "image", data: png.toString("base64"), mimeType: "image/png" });
    writeFileSync(join(layout.allowed, "data.bin"), png);
    const blob = (await ok("read_media_file", { path: "data.bin" })).content[0] as {
      type: string;
      resource: { uri: string };
    };
    expect(blob.type).toBe("resource");
    expect(blob.resource.uri).toBe(pathToFileURL(join(layout.allowed, "data.bin")).href);
  });

  it("refuses media over the read limit", async () => {
    await connect({ maxReadBytes: 2048 });
    writeFileSync(join(layout.allowed, "big.png"), Buffer.alloc(4096, 1));
    expect((await failed("read_media_file", { path: "big.png" })).code).toBe("too_large");
  });

  it("reads several files, reporting failures in place", async () => {
    const out = text(await ok("read_multiple_files", { paths: ["file.txt", "sub/inner.txt", "nope.txt"] }));
    expect(out).toBe(
      `file.txt:\ninside\n\n\n---\nsub/inner.txt:\ninner\n\n\n---\nnope.txt: Error - \`path\` ("nope.txt") does not exist.`,
    );
  });

  it("refuses to read a directory, FIFO or missing file with clear errors", async () => {
    expect((await failed("read_text_file", { path: "sub" })).text).toMatch(/is a directory/);
    expect((await failed("read_text_file", { path: "missing.txt" })).code).toBe("not_found");
    expect((await failed("read_text_file", { path: "loop-1" })).code).toBe("invalid_argument");
  });
});

describe("writing and editing", () => {
  it("writes atomically, creating parents and keeping permission bits", async () => {
    await ok("write_file", { path: "new/deep/file.txt", content: "hello" });
    expect(readFileSync(join(layout.allowed, "new/deep/file.txt"), "utf8")).toBe("hello");
    chmodSync(join(layout.allowed, "file.txt"), 0o640);
    const result = await ok("write_file", { path: "file.txt", content: "replaced" });
    expect(statSync(join(layout.allowed, "file.txt")).mode & 0o777).toBe(0o640);
    expect(result.structuredContent).toMatchObject({ bytes: 8, created: false });
    expect(readdirSync(layout.allowed).filter((n) => n.includes("portside-tmp"))).toEqual([]);
    expect((await failed("write_file", { path: "sub", content: "x" })).text).toMatch(/is a directory/);
  });

  it("writes through a link inside to its target, keeping the link", async () => {
    await ok("write_file", { path: "link-in", content: "via link" });
    expect(readFileSync(join(layout.allowed, "file.txt"), "utf8")).toBe("via link");
    await ok("write_file", { path: "dangling-in", content: "created" });
    expect(readFileSync(join(layout.allowed, "missing.txt"), "utf8")).toBe("created");
  });

  it("edits with a diff, dry runs, hashes and ambiguity rules", async () => {
    writeFileSync(join(layout.allowed, "code.ts"), "const a = 1;\nconst b = 1;\nconst a = 1;\n");
    const ambiguous = await failed("edit_file", {
      path: "code.ts",
      edits: [{ oldText: "const a = 1;", newText: "const a = 2;" }],
    });
    expect(ambiguous.code).toBe("conflict");

    const dry = await ok("edit_file", {
      path: "code.ts",
      edits: [{ oldText: "const a = 1;", newText: "const a = 2;", replaceAll: true }],
      dryRun: true,
    });
    expect(text(dry)).toContain("-const a = 1;\n+const a = 2;");
    expect(text(dry)).toContain("Dry run");
    expect(readFileSync(join(layout.allowed, "code.ts"), "utf8")).toBe("const a = 1;\nconst b = 1;\nconst a = 1;\n");

    const info = (await ok("get_file_info", { path: "code.ts" })).structuredContent as { sha256: string };
    const edited = await ok("edit_file", {
      path: "code.ts",
      edits: [{ oldText: "const b = 1;", newText: "const b = 2;" }],
      expectedHash: info.sha256.slice(0, 12),
    });
    expect(readFileSync(join(layout.allowed, "code.ts"), "utf8")).toBe("const a = 1;\nconst b = 2;\nconst a = 1;\n");
    const after = (edited.structuredContent as { sha256After: string }).sha256After;
    expect(text(edited)).toContain(`sha256: ${after}`);

    const stale = await failed("edit_file", {
      path: "code.ts",
      edits: [{ oldText: "const b = 2;", newText: "const b = 3;" }],
      expectedHash: info.sha256,
    });
    expect(stale.code).toBe("conflict");
    expect(stale.text).toContain(after);
  });

  it("keeps CRLF line endings when editing", async () => {
    writeFileSync(join(layout.allowed, "win.txt"), "one\r\ntwo\r\n");
    await ok("edit_file", { path: "win.txt", edits: [{ oldText: "two", newText: "2" }] });
    expect(readFileSync(join(layout.allowed, "win.txt"), "utf8")).toBe("one\r\n2\r\n");
  });

  it("creates directories, moves, copies and deletes", async () => {
    await ok("create_directory", { path: "a/b/c" });
    await ok("create_directory", { path: "a/b/c" });
    expect((await failed("create_directory", { path: "file.txt" })).code).toBe("conflict");

    expect((await failed("move_file", { source: "file.txt", destination: "sub/inner.txt" })).code).toBe("conflict");
    await ok("move_file", { source: "file.txt", destination: "sub/inner.txt", overwrite: true });
    expect(readFileSync(join(layout.allowed, "sub/inner.txt"), "utf8")).toBe("inside\n");
    expect(existsSync(join(layout.allowed, "file.txt"))).toBe(false);
    await ok("move_file", { source: "a", destination: "renamed" });
    expect(existsSync(join(layout.allowed, "renamed/b/c"))).toBe(true);
    expect((await failed("move_file", { source: "renamed", destination: "renamed/b/inside" })).code).toBe(
      "invalid_argument",
    );
    await ok("move_file", { source: "link-out", destination: "sub/moved-link" });
    expect(readdirSync(join(layout.allowed, "sub"))).toContain("moved-link");

    await ok("copy_file", { source: "sub/inner.txt", destination: "copies/one.txt" });
    expect(readFileSync(join(layout.allowed, "copies/one.txt"), "utf8")).toBe("inside\n");
    expect((await failed("copy_file", { source: "sub/inner.txt", destination: "copies/one.txt" })).code).toBe(
      "conflict",
    );
    expect((await failed("copy_file", { source: "sub", destination: "sub-copy" })).text).toMatch(/is a directory/);

    await ok("delete_file", { path: "copies/one.txt" });
    expect((await failed("delete_file", { path: "renamed" })).code).toBe("conflict");
    await ok("delete_file", { path: "renamed/b/c" });
    expect(existsSync(join(layout.allowed, "renamed/b/c"))).toBe(false);
    expect((await failed("delete_file", { path: "gone.txt" })).code).toBe("not_found");
  });

  it("refuses to move a directory holding denied entries", async () => {
    mkdirSync(join(layout.allowed, "project"));
    writeFileSync(join(layout.allowed, "project", ".env"), "SECRET=1");
    const refused = await failed("move_file", { source: "project", destination: "public" });
    expect(refused.code).toBe("permission_denied");
    expect(existsSync(join(layout.allowed, "project", ".env"))).toBe(true);
  });
});

describe("browsing and searching", () => {
  beforeEach(() => {
    mkdirSync(join(layout.allowed, "src", "lib"), { recursive: true });
    mkdirSync(join(layout.allowed, "node_modules", "dep"), { recursive: true });
    writeFileSync(join(layout.allowed, "src", "app.ts"), "import { helper } from './lib/util';\nhelper();\n");
    writeFileSync(join(layout.allowed, "src", "lib", "util.ts"), "export function helper() {\n  return 42;\n}\n");
    writeFileSync(join(layout.allowed, "src", "big.bin"), Buffer.from([0, 1, 2, 3]));
    writeFileSync(join(layout.allowed, "node_modules", "dep", "index.ts"), "export const helper = 1;\n");
    writeFileSync(join(layout.allowed, ".gitignore"), "node_modules/\n");
    writeFileSync(join(layout.allowed, "top.ts"), "helper\n");
  });

  it("lists a directory like the reference server, with pagination", async () => {
    const listing = text(await ok("list_directory", { path: "src" }));
    expect(listing).toBe("[FILE] app.ts\n[FILE] big.bin\n[DIR] lib");
    await connect({}, { maxResponseChars: 1200 });
    for (let i = 0; i < 100; i++)
      writeFileSync(join(layout.allowed, "sub", `entry-${String(i).padStart(3, "0")}.txt`), "");
    const page = await ok("list_directory", { path: "sub" });
    const next = (page.structuredContent as { nextOffset: number }).nextOffset;
    expect(next).toBeGreaterThan(0);
    const rest = text(await ok("list_directory", { path: "sub", offset: next }));
    expect(rest.split("\n")[0]).toBe(`[FILE] entry-${String(next).padStart(3, "0")}.txt`);
  });

  it("lists sizes sorted by size", async () => {
    const out = text(await ok("list_directory_with_sizes", { path: "src", sortBy: "size" }));
    const files = out.split("\n").filter((l) => l.startsWith("[FILE]"));
    expect(files[0]).toMatch(/^\[FILE\] app\.ts\s+\d+ B$/);
    expect(files[1]).toMatch(/^\[FILE\] big\.bin\s+4 B$/);
    expect(out).toContain("Total: 2 files, 1 directories");
  });

  it("builds trees with excludes, depth and entry limits", async () => {
    const tree = JSON.parse(text(await ok("directory_tree", { path: "src" }))) as Array<{
      name: string;
      children?: unknown[];
    }>;
    expect(tree.map((n) => n.name)).toEqual(["app.ts", "big.bin", "lib"]);
    expect(tree[2]?.children).toEqual([{ name: "util.ts", type: "file" }]);
    const excluded = text(await ok("directory_tree", { path: ".", excludePatterns: ["node_modules", "**/*.bin"] }));
    expect(excluded).not.toContain("node_modules");
    expect(excluded).not.toContain("big.bin");
    const shallow = text(await ok("directory_tree", { path: "src", maxDepth: 1 }));
    expect(shallow).toContain('"truncated": true');
    const few = text(await ok("directory_tree", { path: ".", maxEntries: 3 }));
    expect(few).toContain("Stopped at maxEntries=3");
  });

  it("matches search_files globs relative to the path, like the reference server", async () => {
    const top = (await ok("search_files", { path: ".", pattern: "*.ts" })).structuredContent as { matches: string[] };
    expect(top.matches).toEqual([join(layout.allowed, "top.ts")]);
    const all = (await ok("search_files", { path: ".", pattern: "**/*.ts", excludePatterns: ["node_modules"] }))
      .structuredContent as { matches: string[] };
    expect(all.matches).toEqual([
      join(layout.allowed, "top.ts"),
      join(layout.allowed, "src/app.ts"),
      join(layout.allowed, "src/lib/util.ts"),
    ]);
    expect(text(await ok("search_files", { path: ".", pattern: "**/*.none" }))).toBe("No matches found");
    const capped = await ok("search_files", { path: ".", pattern: "**", maxResults: 2 });
    expect((capped.structuredContent as { truncated: boolean }).truncated).toBe(true);
    expect(text(capped)).toContain("raise maxResults");
  });

  it("searches contents, honouring .gitignore, globs, case and context", async () => {
    const found = await ok("search_content", { path: ".", query: "helper", contextLines: 1 });
    const data = found.structuredContent as { matches: Array<{ path: string; line: number }>; skippedBinary: number };
    expect(data.matches.map((m) => `${m.path}:${m.line}`)).toEqual([
      "top.ts:1",
      "src/app.ts:1",
      "src/app.ts:2",
      "src/lib/util.ts:1",
    ]);
    expect(data.skippedBinary).toBe(1);
    expect(text(found)).toContain(
      `${join(layout.allowed, "src/app.ts")}\n1:import { helper } from './lib/util';\n2:helper();`,
    );

    const all = (await ok("search_content", { path: ".", query: "helper", respectGitignore: false }))
      .structuredContent as {
      matches: Array<{ path: string }>;
    };
    expect(all.matches.map((m) => m.path)).toContain("node_modules/dep/index.ts");

    const regex = (await ok("search_content", { path: "src", query: "return \\d+", regex: true, include: ["*.ts"] }))
      .structuredContent as { matches: Array<{ path: string; text: string }> };
    expect(regex.matches).toEqual([expect.objectContaining({ path: "lib/util.ts", text: "  return 42;" })]);

    expect((await ok("search_content", { path: ".", query: "HELPER" })).structuredContent).toMatchObject({
      matches: [],
    });
    const single = (await ok("search_content", { path: "src/app.ts", query: "helper" })).structuredContent as {
      matches: unknown[];
    };
    expect(single.matches).toHaveLength(2);
    expect((await failed("search_content", { path: ".", query: "(", regex: true })).code).toBe("invalid_argument");
    const capped = await ok("search_content", { path: ".", query: "helper", maxResults: 1 });
    expect((capped.structuredContent as { truncated: boolean }).truncated).toBe(true);
  });

  it("applies .gitignore files above the search directory, up to the repository's top", async () => {
    mkdirSync(join(layout.allowed, "repo", ".git"), { recursive: true });
    mkdirSync(join(layout.allowed, "repo", "pkg", "gen"), { recursive: true });
    writeFileSync(join(layout.allowed, ".gitignore"), "*.ts\n"); // above the repository: must not apply
    writeFileSync(join(layout.allowed, "repo", ".gitignore"), "gen/\n");
    writeFileSync(join(layout.allowed, "repo", "pkg", "gen", "out.ts"), "needle\n");
    writeFileSync(join(layout.allowed, "repo", "pkg", "main.ts"), "needle\n");
    const found = (await ok("search_content", { path: "repo/pkg", query: "needle" })).structuredContent as {
      matches: Array<{ path: string }>;
    };
    expect(found.matches.map((m) => m.path)).toEqual(["main.ts"]);
  });

  it("reports progress while searching", async () => {
    const updates: string[] = [];
    const result = await client.callTool(
      { name: "search_content", arguments: { path: ".", query: "helper" } },
      undefined,
      {
        onprogress: (p) => updates.push(p.message ?? ""),
      },
    );
    expect(result.isError).toBeFalsy();
    expect(updates.some((m) => /searched \d+ of \d+ files/.test(m))).toBe(true);
  });

  it("stops a catastrophic regex instead of hanging the server", async () => {
    writeFileSync(join(layout.allowed, "evil.txt"), `${"a".repeat(4000)}!\n`);
    const slow = await failed("search_content", { path: ".", query: "^(a+)+$", regex: true });
    expect(slow.text).toMatch(/took more than/);
    expect(text(await ok("read_text_file", { path: "top.ts" }))).toBe("helper\n");
  }, 20_000);

  it("gives file info with a hash and names the allowed directories", async () => {
    const info = await ok("get_file_info", { path: "link-in" });
    expect(info.structuredContent).toMatchObject({ type: "file", isFile: true, isSymbolicLink: true, size: 7 });
    expect(text(info)).toMatch(/^path: .*\ntype: file\nsize: 7\n/m);
    const dir = await ok("get_file_info", { path: "." });
    expect(dir.structuredContent).toMatchObject({ type: "directory", isDirectory: true });
    expect(text(await ok("list_allowed_directories", {}))).toBe(`Allowed directories:\n${layout.allowed}`);
  });
});

describe("MCP roots", () => {
  it("narrows the sandbox to the client's roots and follows changes, never widening", async () => {
    const sub = join(layout.allowed, "sub");
    await connect({}, { roots: [{ uri: pathToFileURL(sub).href, name: "sub" }] });
    expect(text(await ok("list_allowed_directories", {}))).toBe(`Allowed directories:\n${sub}`);
    expect(text(await ok("read_text_file", { path: "inner.txt" }))).toBe("inner\n");
    const outside = await call("read_text_file", { path: join(layout.allowed, "file.txt") });
    expect(outside._meta?.["io.portside/error"]).toMatchObject({
      code: "permission_denied",
      rule: "outside_allowed_directories",
    });

    await connection.setRoots([{ uri: pathToFileURL(layout.base).href }]);
    await expect
      .poll(async () => text(await call("list_allowed_directories", {})))
      .toBe(`Allowed directories:\n${layout.allowed}`);
    expect(text(await ok("read_text_file", { path: "file.txt" }))).toBe("inside\n");
    const wider = await call("read_text_file", { path: join(layout.outside, "secret.txt") });
    expect(wider._meta?.["io.portside/error"]).toMatchObject({ rule: "outside_allowed_directories" });

    await connection.setRoots([{ uri: pathToFileURL(layout.outside).href }]);
    await expect
      .poll(async () => (await call("read_text_file", { path: "file.txt" }))._meta?.["io.portside/error"])
      .toMatchObject({ code: "permission_denied", rule: "no_allowed_directories" });
  });

  it("ignores roots that do not exist, and fails closed when the roots cannot be read", async () => {
    await connect(
      {},
      { roots: [{ uri: pathToFileURL(join(layout.base, "gone")).href }, { uri: pathToFileURL(layout.allowed).href }] },
    );
    expect(text(await ok("list_allowed_directories", {}))).toBe(`Allowed directories:\n${layout.allowed}`);
    // Not a valid MCP root (roots are file:// URIs): the server cannot know the client's intent.
    await connect({}, { roots: [{ uri: "https://example.com/repo" }] });
    expect((await failed("read_text_file", { path: "file.txt" })).code).toBe("unavailable");
  });
});
