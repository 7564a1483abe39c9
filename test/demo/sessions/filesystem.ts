import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startStdio } from "../../src/harness.ts";
import type { Transcript } from "../transcript.ts";

/** A small project in a temp folder: explore it, find and fix a bug, and try (and fail) to get out. */
export async function run(t: Transcript): Promise<void> {
  t.heading("a sandboxed project folder (stdio)");
  const base = realpathSync(mkdtempSync(join(tmpdir(), "portside-demo-fs-")));
  const project = join(base, "project");
  mkdirSync(join(project, "src"), { recursive: true });
  mkdirSync(join(project, "node_modules", "left-pad"), { recursive: true });
  writeFileSync(join(project, ".gitignore"), "node_modules/\n");
  writeFileSync(join(project, ".env"), "API_KEY=do-not-show-me\n");
  writeFileSync(
    join(project, "README.md"),
    "# Invoice tool\n\nSums invoice lines. Known bug: totals ignore the quantity.\n",
  );
  writeFileSync(
    join(project, "src", "total.ts"),
    [
      "export interface Line {",
      "  price: number;",
      "  quantity: number;",
      "}",
      "",
      "export function total(lines: Line[]): number {",
      "  return lines.reduce((sum, line) => sum + line.price, 0);",
      "}",
      "",
    ].join("\n"),
  );
  writeFileSync(join(project, "node_modules", "left-pad", "index.js"), "module.exports = (s) => s; // total\n");
  writeFileSync(join(base, "secret.txt"), "outside the sandbox\n");
  symlinkSync("../secret.txt", join(project, "shortcut"));

  const server = await startStdio("filesystem", [project, "--deny", ".env"]);
  try {
    await t.call(server.client, "list_allowed_directories", {}, "Which folders may the model touch?");
    await t.call(server.client, "directory_tree", { path: project, excludePatterns: ["node_modules"] }, "Look around");
    await t.call(server.client, "read_text_file", { path: "README.md" }, "Read the README (relative paths work)");
    await t.call(
      server.client,
      "search_content",
      { path: ".", query: "reduce", contextLines: 1 },
      "Find the code that sums (node_modules is skipped through .gitignore)",
    );
    const info = await t.call(server.client, "get_file_info", { path: "src/total.ts" }, "Note the file's hash");
    const sha256 = (info.structuredContent as { sha256: string }).sha256;
    await t.call(
      server.client,
      "edit_file",
      {
        path: "src/total.ts",
        edits: [{ oldText: "sum + line.price", newText: "sum + line.price * line.quantity" }],
        expectedHash: sha256,
      },
      "Fix the bug, refusing the edit if the file changed since we read it",
    );
    await t.call(
      server.client,
      "edit_file",
      { path: "src/total.ts", edits: [{ oldText: "quantity", newText: "qty" }], dryRun: true },
      "An ambiguous edit is refused rather than guessed",
    );
    await t.call(server.client, "read_text_file", { path: ".env" }, "The operator denied .env files");
    await t.call(server.client, "read_text_file", { path: "../secret.txt" }, "Climbing out with .. is refused");
    await t.call(server.client, "read_text_file", { path: "shortcut" }, "So is a symbolic link that points outside");
    await t.call(
      server.client,
      "write_file",
      { path: "CHANGELOG.md", content: "- Totals now count the quantity.\n" },
      "Write a changelog entry (atomically)",
    );
  } finally {
    await server.close();
    rmSync(base, { recursive: true, force: true });
  }
}
