import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { type FileHandle, open } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { applyEdits, fencedDiff, usesCrlf } from "../src/fs/edit.js";
import { GitignoreRules } from "../src/fs/gitignore.js";
import { matchingLines, RegexRunner } from "../src/fs/regex-runner.js";
import { hashFile, looksBinary, readAllBytes, readLines, readTail, readWholeIfSmall, sha256 } from "../src/fs/text.js";
import { FsError } from "../src/sandbox/errors.js";

const dir = mkdtempSync(join(tmpdir(), "portside-text-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const context = { argument: "path", shown: "f" };

async function withFile<T>(
  content: string | Buffer,
  use: (file: { handle: FileHandle; size: number }) => Promise<T>,
): Promise<T> {
  const path = join(dir, `f-${Math.random().toString(36).slice(2)}`);
  writeFileSync(path, content);
  const handle = await open(path, "r");
  try {
    return await use({ handle, size: (await handle.stat()).size });
  } finally {
    await handle.close();
  }
}

const numbered = (n: number) => Array.from({ length: n }, (_, i) => `line ${i + 1}\n`).join("");

describe("binary detection", () => {
  it("flags NUL bytes and control-heavy data, not text", () => {
    expect(looksBinary(Buffer.from("plain text\nwith lines\ttabs\r\n"))).toBe(false);
    expect(looksBinary(Buffer.from("naïve — ünïcödé 日本語"))).toBe(false);
    expect(looksBinary(Buffer.from("\u001b[31mcoloured log\u001b[0m\n"))).toBe(false);
    expect(looksBinary(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]))).toBe(true);
    expect(looksBinary(Buffer.from([1, 2, 3, 4, 5, 6, 65, 66]))).toBe(true);
    expect(looksBinary(Buffer.alloc(0))).toBe(false);
  });

  it("refuses a binary file instead of showing it as text", async () => {
    await withFile(Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0, 0, 0, 1]), async (file) => {
      await expect(readWholeIfSmall(file, 1000, context)).rejects.toMatchObject({ code: "invalid_argument" });
      await expect(readLines(file, { offset: 1, maxChars: 1000 }, context)).rejects.toBeInstanceOf(FsError);
      await expect(readTail(file, { count: 1, maxChars: 1000 }, context)).rejects.toBeInstanceOf(FsError);
    });
  });
});

describe("reading pages of lines", () => {
  it("reads a small file whole", async () => {
    await withFile(numbered(3), async (file) => {
      const page = await readWholeIfSmall(file, 1000, context);
      expect(page).toMatchObject({ text: numbered(3), lineCount: 3, totalLines: 3, more: false, cut: false });
    });
    await withFile("", async (file) => {
      expect(await readWholeIfSmall(file, 1000, context)).toMatchObject({ text: "", lineCount: 0 });
    });
  });

  it("leaves a file larger than the cap to paging", async () => {
    await withFile(numbered(1000), async (file) => {
      expect(await readWholeIfSmall(file, 100, context)).toBeUndefined();
    });
  });

  it("pages by offset and limit, saying whether more follows", async () => {
    await withFile(numbered(10), async (file) => {
      expect(await readLines(file, { offset: 1, limit: 3, maxChars: 1000 }, context)).toMatchObject({
        text: "line 1\nline 2\nline 3\n",
        startLine: 1,
        lineCount: 3,
        more: true,
      });
      expect(await readLines(file, { offset: 9, limit: 5, maxChars: 1000 }, context)).toMatchObject({
        text: "line 9\nline 10\n",
        lineCount: 2,
        more: false,
        totalLines: 10,
      });
      expect(await readLines(file, { offset: 10, limit: 1, maxChars: 1000 }, context)).toMatchObject({
        text: "line 10\n",
        more: false,
      });
      expect(await readLines(file, { offset: 50, maxChars: 1000 }, context)).toMatchObject({
        text: "",
        lineCount: 0,
        totalLines: 10,
      });
    });
  });

  it("counts a last line without a newline", async () => {
    await withFile("a\nb", async (file) => {
      expect(await readLines(file, { offset: 2, maxChars: 100 }, context)).toMatchObject({
        text: "b",
        lineCount: 1,
        totalLines: 2,
      });
    });
  });

  it("cuts at a line boundary when the cap is reached, and the next offset continues exactly", async () => {
    const content = numbered(5000);
    await withFile(content, async (file) => {
      let offset = 1;
      let rebuilt = "";
      for (let guard = 0; guard < 100; guard++) {
        const page = await readLines(file, { offset, maxChars: 4000 }, context);
        expect(page.text.length).toBeLessThanOrEqual(4000);
        expect(page.text.endsWith("\n")).toBe(true);
        rebuilt += page.text;
        if (!page.more) break;
        expect(page.cut).toBe(true);
        offset = page.startLine + page.lineCount;
      }
      expect(rebuilt).toBe(content);
    });
  });

  it("shows the start of a single line longer than the cap", async () => {
    await withFile(`${"x".repeat(10_000)}\nnext\n`, async (file) => {
      const page = await readLines(file, { offset: 1, maxChars: 1000 }, context);
      expect(page).toMatchObject({ lineCut: true, cut: true, more: true, lineCount: 1 });
      expect(page.text).toBe("x".repeat(1000));
      expect(await readLines(file, { offset: 2, maxChars: 1000 }, context)).toMatchObject({ text: "next\n" });
    });
  });

  it("keeps multi-byte characters whole across read chunks", async () => {
    const content = `${"é".repeat(200_000)}\n€\n`;
    await withFile(content, async (file) => {
      const page = await readLines(file, { offset: 2, maxChars: 100 }, context);
      expect(page.text).toBe("€\n");
    });
  });
});

describe("reading the tail", () => {
  it("returns the last lines, with or without a final newline", async () => {
    await withFile(numbered(10), async (file) => {
      expect((await readTail(file, { count: 2, maxChars: 1000 }, context)).text).toBe("line 9\nline 10\n");
      expect((await readTail(file, { count: 50, maxChars: 1000 }, context)).text).toBe(numbered(10));
    });
    await withFile("a\nb\nc", async (file) => {
      expect((await readTail(file, { count: 2, maxChars: 1000 }, context)).text).toBe("b\nc");
    });
  });

  it("finds the boundary across chunk edges in a large file and keeps within the cap", async () => {
    await withFile(numbered(200_000), async (file) => {
      const page = await readTail(file, { count: 3, maxChars: 1000 }, context);
      expect(page.text).toBe("line 199998\nline 199999\nline 200000\n");
      const capped = await readTail(file, { count: 100_000, maxChars: 2000 }, context);
      expect(capped.cut).toBe(true);
      expect(capped.text.length).toBeLessThanOrEqual(2000);
      expect(capped.text.endsWith("line 200000\n")).toBe(true);
      expect(capped.text.startsWith("line ")).toBe(true);
    });
  });
});

describe("whole reads and hashes", () => {
  it("refuses files over the byte limit and hashes by streaming", async () => {
    await withFile("x".repeat(5000), async (file) => {
      await expect(readAllBytes(file, 4096, context)).rejects.toMatchObject({ code: "too_large" });
      expect((await readAllBytes(file, 8192, context)).length).toBe(5000);
      expect(await hashFile(file)).toBe(sha256("x".repeat(5000)));
    });
  });
});

describe("edits", () => {
  it("replaces a unique match", () => {
    expect(applyEdits("a\nb\nc\n", [{ oldText: "b", newText: "B" }]).content).toBe("a\nB\nc\n");
  });

  it("refuses an ambiguous match unless told which or all", () => {
    const text = "x = 1\ny = 2\nx = 1\n";
    let error: unknown;
    try {
      applyEdits(text, [{ oldText: "x = 1", newText: "x = 3" }]);
    } catch (e) {
      error = e;
    }
    expect(error).toMatchObject({ code: "conflict", argument: "edits[0].oldText" });
    expect((error as Error).message).toContain("lines 1, 3");
    expect(applyEdits(text, [{ oldText: "x = 1", newText: "x = 3", occurrence: 2 }]).content).toBe(
      "x = 1\ny = 2\nx = 3\n",
    );
    expect(applyEdits(text, [{ oldText: "x = 1", newText: "x = 3", replaceAll: true }]).content).toBe(
      "x = 3\ny = 2\nx = 3\n",
    );
    expect(() => applyEdits(text, [{ oldText: "x = 1", newText: "", occurrence: 3 }])).toThrow(/only 2/);
  });

  it("falls back to a match that ignores indentation, and re-indents", () => {
    const text = "function f() {\n    if (a) {\n        go();\n    }\n}\n";
    const { content, applied } = applyEdits(text, [
      { oldText: "if (a) {\n    go();\n}", newText: "if (b) {\n    stop();\n}" },
    ]);
    expect(content).toBe("function f() {\n    if (b) {\n        stop();\n    }\n}\n");
    expect(applied[0]?.match).toBe("whitespace");
  });

  it("applies edits in order and refuses what is missing or empty", () => {
    expect(
      applyEdits("one two", [
        { oldText: "one", newText: "1" },
        { oldText: "1 two", newText: "done" },
      ]).content,
    ).toBe("done");
    expect(() => applyEdits("abc", [{ oldText: "zzz", newText: "" }])).toThrow(/not found/);
    expect(() => applyEdits("abc", [{ oldText: "", newText: "x" }])).toThrow(/empty/);
  });

  it("treats $ in the new text literally", () => {
    expect(applyEdits("price", [{ oldText: "price", newText: "$& $1 $$" }]).content).toBe("$& $1 $$");
  });

  it("detects CRLF files and renders a fenced unified diff", () => {
    expect(usesCrlf("a\r\nb\r\n")).toBe(true);
    expect(usesCrlf("a\nb\n")).toBe(false);
    const diff = fencedDiff("a\nb\n", "a\nc\n", "/x/f.txt");
    expect(diff.startsWith("```diff\n")).toBe(true);
    expect(diff).toContain("-b\n+c");
    expect(fencedDiff("```\n", "````\n", "f")).toMatch(/^`{5}diff/);
  });
});

describe("gitignore rules", () => {
  it("applies each file's rules relative to its own directory", () => {
    const rules = new GitignoreRules();
    rules.addAbove("pkg", "*.log\n/pkg/generated\n");
    rules.addWithin("", "dist/\n!keep.log\n");
    rules.addWithin("src", "/local.ts\n");
    expect(rules.ignores("x.log", false)).toBe(true);
    expect(rules.ignores("generated", true)).toBe(true);
    expect(rules.ignores("dist", true)).toBe(true);
    expect(rules.ignores("src/dist", true)).toBe(true);
    expect(rules.ignores("src/local.ts", false)).toBe(true);
    expect(rules.ignores("local.ts", false)).toBe(false);
    expect(rules.ignores("src/deep/local.ts", false)).toBe(false);
    expect(rules.ignores("src/app.ts", false)).toBe(false);
  });
});

describe("regex matching", () => {
  it("finds matching lines in process and in the worker alike", async () => {
    const text = "alpha\nbeta\ngamma\nbetamax\n";
    expect(matchingLines(text, (l) => /^beta/.test(l), 10)).toEqual([1, 3]);
    const runner = new RegexRunner("^beta", "", 5000);
    try {
      expect(
        await runner.run([
          { text, maxHits: 10 },
          { text: "none", maxHits: 10 },
        ]),
      ).toEqual([[1, 3], []]);
    } finally {
      runner.close();
    }
  });

  it("stops a catastrophic pattern at the deadline instead of hanging", async () => {
    const runner = new RegexRunner("^(a+)+$", "", 300);
    try {
      await expect(runner.run([{ text: `${"a".repeat(40)}!`, maxHits: 1 }])).rejects.toMatchObject({
        code: "invalid_argument",
        argument: "query",
      });
    } finally {
      runner.close();
    }
  });
});
