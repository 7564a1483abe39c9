/**
 * `pnpm bench [suite…]`: runs the named suites (all by default), each comparing servers side by side
 * in one run.
 */
import { readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";

const dir = fileURLToPath(new URL("../suites", import.meta.url));
const available = readdirSync(dir)
  .filter((f) => f.endsWith(".ts"))
  .map((f) => f.slice(0, -3))
  .sort((a, b) => (a === "foundation" ? -1 : b === "foundation" ? 1 : a.localeCompare(b)));
const wanted = process.argv.slice(2).filter((a) => a !== "--");
const unknown = wanted.filter((w) => !available.includes(w));
if (unknown.length) {
  console.error(`unknown suite(s): ${unknown.join(", ")}; available: ${available.join(", ")}`);
  process.exit(2);
}
for (const name of wanted.length ? wanted : available) {
  console.log(`\n# suite ${name}`);
  const suite = (await import(`../suites/${name}.ts`)) as { run(): Promise<void> };
  await suite.run();
}
