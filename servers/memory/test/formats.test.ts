import { describe, expect, it } from "vitest";
import { z } from "zod";
import { defaultStorePath } from "../src/config.ts";
import { decodeCursor, encodeCursor, graphCursorShape } from "../src/memory/cursor.ts";
import { entityLine, parseLine, relationLine } from "../src/memory/jsonl.ts";
import { openSqliteStore } from "../src/memory/sqlite-store.ts";
import { ftsPhrase, likeEscape, queryTerms } from "../src/memory/text.ts";

describe("JSONL lines", () => {
  it("reads the official server's entity and relation lines and round-trips them", () => {
    const entity = { name: "Alice", entityType: "person", observations: ["likes tea"] };
    const relation = { from: "Alice", to: "Bob", relationType: "knows" };
    expect(parseLine(entityLine(entity))).toEqual({ type: "entity", entity });
    expect(parseLine(relationLine(relation))).toEqual({ type: "relation", relation });
    expect(parseLine('{"type":"entity","name":"X","entityType":"t"}')).toEqual({
      type: "entity",
      entity: { name: "X", entityType: "t", observations: [] },
    });
  });

  it("reads memory lines with defaults and ISO timestamps", () => {
    const parsed = parseLine('{"type":"memory","content":"c","tags":["A"],"createdAt":"2026-01-02T00:00:00Z"}');
    expect(parsed).toEqual({
      type: "memory",
      memory: { content: "c", tags: ["a"], metadata: {}, entities: [], createdAt: Date.parse("2026-01-02T00:00:00Z") },
    });
  });

  it("explains bad lines without quoting them", () => {
    const secret = "root:x:0:0:root:/root:/bin/bash";
    const bad = [secret, "[1,2]", '{"type":"node"}', '{"type":"entity","name":""}', '{"type":"relation","from":"a"}'];
    for (const line of bad) {
      const parsed = parseLine(line);
      expect(parsed.type).toBe("invalid");
      expect(JSON.stringify(parsed)).not.toContain("root");
    }
    expect(parseLine("   ")).toEqual({ type: "skip" });
  });
});

describe("cursors", () => {
  it("round-trip and refuse anything else", () => {
    const cursor = encodeCursor("graph", { p: "e", a: 12 });
    expect(decodeCursor("graph", cursor, graphCursorShape)).toEqual({ p: "e", a: 12 });
    expect(decodeCursor("search", cursor, graphCursorShape)).toBeUndefined();
    expect(decodeCursor("graph", "not a cursor!", graphCursorShape)).toBeUndefined();
    expect(
      decodeCursor("graph", Buffer.from('{"k":"graph","p":"x","a":1}').toString("base64url"), graphCursorShape),
    ).toBeUndefined();
    expect(decodeCursor("graph", "x".repeat(600), z.object({}))).toBeUndefined();
  });
});

describe("query text", () => {
  it("keeps meaningful words and makes FTS and LIKE input inert", () => {
    expect(queryTerms("What does Alice's team use for the database?")).toEqual(["alice's", "team", "use", "database"]);
    expect(queryTerms("a the of")).toEqual([]);
    expect(ftsPhrase('say "hi" OR NEAR(x)')).toBe('"say ""hi"" OR NEAR(x)"');
    expect(likeEscape("100%_\\")).toBe("100\\%\\_\\\\");
  });
});

describe("default store path", () => {
  it("follows XDG, then the home data dir, and LOCALAPPDATA on Windows", () => {
    expect(defaultStorePath({ XDG_DATA_HOME: "/x" }, "linux", "/home/u")).toBe("/x/portside/memory.db");
    expect(defaultStorePath({}, "linux", "/home/u")).toBe("/home/u/.local/share/portside/memory.db");
    expect(defaultStorePath({}, "darwin", "/Users/u")).toBe("/Users/u/.local/share/portside/memory.db");
    expect(defaultStorePath({ LOCALAPPDATA: "C:\\L" }, "win32", "C:\\U")).toContain("portside");
  });
});

describe("opening a store", () => {
  it("fails (rather than hangs) where no directory can be made", async () => {
    await expect(openSqliteStore("/proc/portside-memory-test/memory.db")).rejects.toThrow();
  });
});
