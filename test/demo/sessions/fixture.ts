import { startStdio } from "../../src/harness.ts";
import type { Transcript } from "../transcript.ts";

/** The foundation itself: validation errors, progress and the response budget, on the fixture server. */
export async function run(t: Transcript): Promise<void> {
  t.heading("the shared foundation (fixture server over stdio)");
  const server = await startStdio("fixture");
  try {
    await t.call(server.client, "echo", { text: "hello from Portside" }, "A plain call with structured output");
    await t.call(server.client, "echo", { text: 42 }, "A bad argument: the error names it and says how to fix it");
    await t.call(
      server.client,
      "echo",
      { text: "Portside keeps answers bounded. ", times: 1000 },
      "A big answer is cut to the response budget",
    );
    await t.call(server.client, "count_slowly", { steps: 5, stepMs: 50 }, "A long call that reports progress");
  } finally {
    await server.close();
  }
}
