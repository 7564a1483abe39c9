import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";

const MAX_SHOWN = 600;

/** Prints a readable transcript of a demo session: one progress line per step, then what came back. */
export class Transcript {
  private step = 0;
  constructor(private readonly server: string) {}

  heading(text: string): void {
    console.log(`\n━━ ${this.server}: ${text}`);
  }

  note(text: string): void {
    console.log(`   ${text}`);
  }

  skip(reason: string): void {
    console.log(`\n━━ ${this.server}: skipped — ${reason}`);
  }

  /** Calls a tool, printing the step, the arguments and a trimmed view of the answer. */
  async call(client: Client, name: string, args: Record<string, unknown>, why: string): Promise<CallToolResult> {
    this.step++;
    console.log(`\n[${this.server} ${this.step}] ${why}`);
    console.log(`   → ${name} ${JSON.stringify(args)}`);
    const started = performance.now();
    const result = (await client.callTool({ name, arguments: args })) as CallToolResult;
    const ms = (performance.now() - started).toFixed(0);
    const text = result.content.map((block) => (block.type === "text" ? block.text : `[${block.type}]`)).join("\n");
    const shown = text.length > MAX_SHOWN ? `${text.slice(0, MAX_SHOWN)}… (${text.length} chars)` : text;
    console.log(`   ← ${result.isError ? "refused" : "ok"} in ${ms} ms`);
    for (const line of shown.split("\n")) console.log(`     ${line}`);
    return result;
  }
}
