import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  GENERIC_CONFORMANCE_SCENARIOS,
  type HttpServerProcess,
  REPO_ROOT,
  runConformance,
  startHttp,
} from "../src/harness.js";

describe("MCP conformance suite (fixture server over HTTP)", () => {
  let server: HttpServerProcess;
  beforeAll(async () => {
    server = await startHttp("fixture");
  });
  afterAll(async () => {
    await server?.stop();
  });

  it("passes every scenario that applies to a real server", async () => {
    const outFile = join(REPO_ROOT, "test", ".conformance", "fixture.txt");
    const outcomes = await runConformance(server.url, GENERIC_CONFORMANCE_SCENARIOS, outFile);
    for (const outcome of outcomes) {
      expect({ scenario: outcome.scenario, failed: outcome.failed }).toEqual({ scenario: outcome.scenario, failed: 0 });
      expect(outcome.total, outcome.output).toBeGreaterThan(0);
      expect(outcome.passed).toBe(outcome.total);
    }
  }, 300_000);
});
