/**
 * `pnpm demo`: starts every built server on its embedded defaults and drives each through a short,
 * realistic session with a real MCP client, printing a transcript.
 */
import { readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Transcript } from "./transcript.ts";

const dir = fileURLToPath(new URL("./sessions", import.meta.url));
const names = readdirSync(dir)
  .filter((f) => f.endsWith(".ts"))
  .map((f) => f.slice(0, -3))
  .sort();
const only = process.argv.slice(2).filter((a) => a !== "--");
let failed = 0;
for (const name of only.length ? only : names) {
  const transcript = new Transcript(name);
  try {
    const session = (await import(`./sessions/${name}.ts`)) as { run(t: Transcript): Promise<void> };
    await session.run(transcript);
  } catch (error) {
    failed++;
    console.log(`\n✗ ${name} demo failed: ${error instanceof Error ? error.message : String(error)}`);
  }
}
console.log(failed ? `\n${failed} demo session(s) failed.` : "\nAll demo sessions finished.");
process.exit(failed ? 1 : 0);
