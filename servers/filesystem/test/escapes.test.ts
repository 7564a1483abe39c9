/**
 * The escape suite through the tools, as a hostile model would try it: every tool, every way out.
 * Each attempt must be refused with permission_denied naming the rule, and nothing outside the
 * allowed directory (nor the look-alike next to it) may change.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { connectInMemory } from "@portside/shared/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp, instructionsFor, toolsFor } from "../src/server.js";
import { DESTINATION_ESCAPES, DIRECTORY_ESCAPES, FILE_ESCAPES } from "./escapes.js";
import { type Layout, makeLayout, snapshot } from "./helpers.js";

let layout: Layout;
let client: Client;
let close: () => Promise<void>;
let before: { outside: Record<string, string>; evil: Record<string, string> };

beforeAll(async () => {
  layout = makeLayout();
  const app = await createApp(
    { directories: [layout.allowed], readOnly: false, deny: [".env"], maxReadBytes: 1 << 20, allowDelete: true },
    () => undefined,
  );
  const connection = await connectInMemory({ instructions: instructionsFor(app), tools: toolsFor(app) });
  client = connection.client;
  close = connection.close;
  before = { outside: snapshot(layout.outside), evil: snapshot(layout.evil) };
});

afterAll(async () => {
  await close();
  // The point of it all: nothing outside changed, whatever was attempted.
  expect(snapshot(layout.outside)).toEqual(before.outside);
  expect(snapshot(layout.evil)).toEqual(before.evil);
  expect(existsSync(join(layout.outside, "new.txt"))).toBe(false);
  layout.cleanup();
});

const call = async (name: string, args: Record<string, unknown>) =>
  (await client.callTool({ name, arguments: args })) as CallToolResult;

function refusal(result: CallToolResult): { code?: string; rule?: string } {
  expect(result.isError, JSON.stringify(result.content)).toBe(true);
  return (result._meta?.["io.portside/error"] ?? {}) as { code?: string; rule?: string };
}

const fileTools: Array<[string, (path: string) => Record<string, unknown>]> = [
  ["read_text_file", (path) => ({ path })],
  ["read_file", (path) => ({ path, head: 1 })],
  ["read_media_file", (path) => ({ path })],
  ["get_file_info", (path) => ({ path })],
  ["write_file", (path) => ({ path, content: "pwned" })],
  ["edit_file", (path) => ({ path, edits: [{ oldText: "secret", newText: "pwned" }] })],
  ["create_directory", (path) => ({ path })],
  ["copy_file", (path) => ({ source: path, destination: "stolen.txt" })],
  ["move_file", (path) => ({ source: path, destination: "stolen.txt" })],
  ["search_content", (path) => ({ path, query: "secret" })],
];

describe.each(fileTools)("%s refuses every way out", (tool, args) => {
  it.each(FILE_ESCAPES)("%s", async (_what, path, rule) => {
    const p = path(layout);
    // Naming a link inside as the thing to move is allowed (it moves the link, not its target).
    if (tool === "move_file" && ["link-out", "chain-1", "dangling-out", "link-env"].includes(p)) return;
    const error = refusal(await call(tool, args(p)));
    expect(error.code).toBe("permission_denied");
    expect(error.rule).toBe(rule);
  });
});

const directoryTools: Array<[string, (path: string) => Record<string, unknown>]> = [
  ["list_directory", (path) => ({ path })],
  ["list_directory_with_sizes", (path) => ({ path })],
  ["directory_tree", (path) => ({ path })],
  ["search_files", (path) => ({ path, pattern: "**" })],
  ["search_content", (path) => ({ path, query: "secret" })],
  ["get_file_info", (path) => ({ path })],
  ["create_directory", (path) => ({ path: `${path}/planted` })],
];

describe.each(directoryTools)("%s refuses every directory outside", (tool, args) => {
  it.each(DIRECTORY_ESCAPES)("%s", async (_what, path, rule) => {
    const error = refusal(await call(tool, args(path(layout))));
    expect(error.code).toBe("permission_denied");
    expect(error.rule).toBe(rule);
  });
});

const destinationTools: Array<[string, (path: string) => Record<string, unknown>]> = [
  ["write_file", (path) => ({ path, content: "planted" })],
  ["copy_file", (path) => ({ source: "file.txt", destination: path })],
  ["copy_file (overwrite)", (path) => ({ source: "file.txt", destination: path, overwrite: true })],
  ["move_file", (path) => ({ source: "sub/inner.txt", destination: path })],
  ["move_file (overwrite)", (path) => ({ source: "sub/inner.txt", destination: path, overwrite: true })],
  ["create_directory", (path) => ({ path })],
];

describe.each(destinationTools)("%s never lands outside", (label, args) => {
  it.each(DESTINATION_ESCAPES)("%s", async (_what, path, rule) => {
    const tool = label.split(" ")[0] as string;
    const error = refusal(await call(tool, args(path(layout))));
    expect(error.code).toBe("permission_denied");
    expect(error.rule).toBe(rule);
    expect(existsSync(join(layout.allowed, "sub", "inner.txt"))).toBe(true);
  });
});

describe("other ways out", () => {
  it("delete_file refuses outside paths and the allowed directory itself, but may delete a link inside", async () => {
    for (const [, path, rule] of [...DIRECTORY_ESCAPES, ...FILE_ESCAPES.slice(0, 7)]) {
      // Links inside may themselves be deleted (below); going through them may not.
      if (["dirlink-out", "sub/parent-out"].includes(path(layout))) continue;
      expect(refusal(await call("delete_file", { path: path(layout) })).rule).toBe(rule);
    }
    for (const path of [layout.allowed, ".", "sub/.."]) {
      expect(refusal(await call("delete_file", { path })).rule).toBe("allowed_directory_itself");
    }
    expect(refusal(await call("move_file", { source: ".", destination: "elsewhere" })).rule).toBe(
      "allowed_directory_itself",
    );
    const deleted = await call("delete_file", { path: "dangling-out" });
    expect(deleted.isError).toBeFalsy();
    expect(existsSync(join(layout.allowed, "dangling-out"))).toBe(false);
  });

  it("read_multiple_files refuses each escaping path in place", async () => {
    const result = await call("read_multiple_files", {
      paths: ["file.txt", "../outside/secret.txt", "link-out", "dirlink-out/secret.txt", ".env"],
    });
    const text = (result.content[0] as { text: string }).text;
    expect(text).toContain("file.txt:\ninside");
    expect(text).toContain("(rule: outside_allowed_directories)");
    expect(text).toContain("(rule: symlink_escape)");
    expect(text).toContain("(rule: denied_by_pattern)");
    expect(text).not.toContain("outside secret");
    expect(text).not.toContain("inside-secret");
  });

  it.each([
    ["search_files", { path: ".", pattern: "../**" }],
    ["search_files", { path: ".", pattern: "/etc/*" }],
    ["search_files", { path: ".", pattern: "{..,sub}/*" }],
    ["search_files", { path: ".", pattern: "*", excludePatterns: ["../x"] }],
    ["directory_tree", { path: ".", excludePatterns: ["../../*"] }],
    ["search_content", { path: ".", query: "x", include: ["../outside/*"] }],
  ])("%s refuses a glob that climbs out: %j", async (tool, args) => {
    expect(refusal(await call(tool, args)).rule).toBe("glob_escape");
  });

  const hugeGlob = "*".repeat(70_000);
  it.each([
    ["search_files", { path: ".", pattern: hugeGlob }, "pattern"],
    ["search_files", { path: ".", pattern: "*", excludePatterns: [hugeGlob] }, "excludePatterns[0]"],
    ["directory_tree", { path: ".", excludePatterns: ["*.log", hugeGlob] }, "excludePatterns[1]"],
    ["search_content", { path: ".", query: "x", exclude: [hugeGlob] }, "exclude[0]"],
  ])("%s refuses an over-long glob by name, not as an internal error", async (tool, args, argument) => {
    const result = await call(tool, args);
    expect(result.isError).toBe(true);
    expect(refusal(result)).toMatchObject({ code: "invalid_argument" });
    expect((result.content[0] as { text: string }).text).toContain(`\`${argument}\` is longer than 4096 characters`);
  });

  it("walks do not follow links out, and never show denied entries", async () => {
    const files = await call("search_files", { path: ".", pattern: "**" });
    const found = (files.structuredContent as { matches: string[] }).matches;
    expect(found.length).toBeGreaterThan(5);
    for (const path of found) expect(path.startsWith(`${layout.allowed}/`)).toBe(true);
    expect(found.some((p) => p.includes("deep.txt") || p.endsWith("secret.txt") || p.endsWith(".env"))).toBe(false);

    const tree = (await call("directory_tree", { path: "." })).content[0] as { text: string };
    expect(tree.text).not.toContain("deep.txt");
    expect(tree.text).not.toContain('".env"');

    const listing = (await call("list_directory", { path: "." })).content[0] as { text: string };
    expect(listing.text).not.toContain(".env");
    expect(listing.text).toContain("[FILE] link-out");

    const content = await call("search_content", { path: ".", query: "secret" });
    expect((content.structuredContent as { matches: unknown[] }).matches).toEqual([]);
  });

  it("list_directory_with_sizes measures links themselves, never their targets outside", async () => {
    const text = ((await call("list_directory_with_sizes", { path: "." })).content[0] as { text: string }).text;
    const line = text.split("\n").find((l) => l.startsWith("[FILE] link-out")) ?? "";
    expect(line).toMatch(/21 B$/); // the length of "../outside/secret.txt", not of the secret
  });
});
