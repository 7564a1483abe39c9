import { describe, expect, it } from "vitest";
import { fileDiffFromPatch, pageDiff, splitUnifiedDiff } from "../src/github/diff.ts";
import { decodeFile, pageLines } from "../src/github/text.ts";

const DIFF = [
  "diff --git a/src/app.ts b/src/app.ts",
  "index 1111111..2222222 100644",
  "--- a/src/app.ts",
  "+++ b/src/app.ts",
  "@@ -1,3 +1,3 @@",
  " const a = 1;",
  "-const b = 2;",
  "+const b = 3;",
  "diff --git a/old name.txt b/new name.txt",
  "similarity index 100%",
  "rename from old name.txt",
  "rename to new name.txt",
  "diff --git a/logo.png b/logo.png",
  "new file mode 100644",
  "Binary files /dev/null and b/logo.png differ",
  "diff --git a/gone.md b/gone.md",
  "deleted file mode 100644",
  "--- a/gone.md",
  "+++ /dev/null",
  "@@ -1 +0,0 @@",
  "-bye",
  "",
].join("\n");

describe("splitUnifiedDiff", () => {
  it("splits a raw diff into files with paths, status and counts", () => {
    const files = splitUnifiedDiff(DIFF);
    expect(files.map((f) => [f.path, f.status, f.additions, f.deletions])).toEqual([
      ["src/app.ts", "modified", 1, 1],
      ["new name.txt", "renamed", 0, 0],
      ["logo.png", "added", 0, 0],
      ["gone.md", "removed", 0, 1],
    ]);
    expect(files[1]?.previousPath).toBe("old name.txt");
    expect(files.map((f) => f.text).join("")).toBe(DIFF);
  });

  it("reads git's quoted paths", () => {
    const [file] = splitUnifiedDiff(
      'diff --git "a/caf\\303\\251.txt" "b/caf\\303\\251.txt"\n--- "a/caf\\303\\251.txt"\n+++ "b/caf\\303\\251.txt"\n@@ -1 +1 @@\n-a\n+b\n',
    );
    expect(file?.path).toBe("café.txt");
  });

  it("rebuilds a file section from the files API", () => {
    const diff = fileDiffFromPatch({
      filename: "b.ts",
      previous_filename: "a.ts",
      status: "renamed",
      additions: 1,
      deletions: 0,
      patch: "@@ -1 +1,2 @@\n x\n+y",
    });
    expect(diff.text).toContain("rename from a.ts\nrename to b.ts\n--- a/a.ts\n+++ b/b.ts\n@@ -1 +1,2 @@");
    expect(fileDiffFromPatch({ filename: "x.bin", status: "added", additions: 0, deletions: 0 }).text).toContain(
      "no textual changes",
    );
  });
});

describe("pageDiff", () => {
  const big = (name: string, hunks: number) =>
    fileDiffFromPatch({
      filename: name,
      status: "modified",
      additions: hunks * 20,
      deletions: 0,
      patch: Array.from(
        { length: hunks },
        (_, h) =>
          `@@ -${h * 100},1 +${h * 100},21 @@\n${Array.from({ length: 20 }, (_, i) => `+line ${h}.${i}`).join("\n")}`,
      ).join("\n"),
    });

  it("keeps whole files on a page while they fit and says where to continue", () => {
    const files = [big("a", 1), big("b", 1), big("c", 1)];
    const size = files[0]!.text.length;
    const page = pageDiff(files, { maxChars: size * 2 + 10 });
    expect(page.segments.map((s) => s.path)).toEqual(["a", "b"]);
    expect(page.next).toEqual({ file: 2, offset: 0 });
    const rest = pageDiff(files, { ...page.next, maxChars: size * 2 + 10 });
    expect(rest.segments.map((s) => s.path)).toEqual(["c"]);
    expect(rest.next).toBeUndefined();
  });

  it("cuts one large file at hunk boundaries, and the pages join back into it", () => {
    const files = [big("huge", 40), big("after", 1)];
    let position: { file?: number; offset?: number } = {};
    let joined = "";
    let pages = 0;
    for (;;) {
      const page = pageDiff(files, { ...position, maxChars: 2000 });
      expect(page.text.length).toBeLessThanOrEqual(2000);
      let at = 0;
      for (const segment of page.segments) {
        const length = segment.to - segment.from;
        if (segment.file === 0) joined += page.text.slice(at, at + length);
        at += length;
      }
      pages++;
      if (!page.next) break;
      position = page.next;
      expect(pages).toBeLessThan(100);
    }
    expect(joined).toBe(files[0]!.text);
    expect(pages).toBeGreaterThan(5);
  });

  it("always makes progress, even past a single line longer than the page", () => {
    const files = [
      fileDiffFromPatch({
        filename: "min.js",
        status: "modified",
        additions: 1,
        deletions: 0,
        patch: `@@ -1 +1 @@\n+${"x".repeat(5000)}`,
      }),
    ];
    const page = pageDiff(files, { maxChars: 1000 });
    expect(page.text.length).toBeGreaterThan(0);
    expect(page.next?.offset).toBe(page.text.length);
  });

  it("shows one file by path and refuses positions outside the diff", () => {
    const files = [big("a", 1), big("b", 1)];
    expect(pageDiff(files, { path: "b", maxChars: 100_000 }).segments.map((s) => s.path)).toEqual(["b"]);
    expect(() => pageDiff(files, { path: "nope", maxChars: 1000 })).toThrow(/no file/);
    expect(() => pageDiff(files, { file: 5, maxChars: 1000 })).toThrow(/out of range/);
    expect(() => pageDiff(files, { file: 0, offset: 1e9, maxChars: 1000 })).toThrow(/past the end/);
  });
});

describe("file text", () => {
  it("pages lines within a budget and says where to continue", () => {
    const text = Array.from({ length: 100 }, (_, i) => `line ${i + 1}`).join("\n");
    const first = pageLines(text, 1, 100);
    expect(first.fromLine).toBe(1);
    expect(first.nextFromLine).toBe(first.toLine + 1);
    const last = pageLines(text, 95, 10_000);
    expect(last.text.split("\n")).toHaveLength(6);
    expect(last.nextFromLine).toBeUndefined();
  });

  it("tells binary from text and strips hidden characters from text", () => {
    expect(decodeFile(new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0, 1])).binary).toBe(true);
    expect(decodeFile(new Uint8Array([0xff, 0xfe, 0xfd])).binary).toBe(true);
    const decoded = decodeFile(Buffer.from("ok\u200b\u202e then\n"));
    expect(decoded).toEqual({ binary: false, text: "ok then\n", hiddenRemoved: 2 });
  });
});
