import { fileURLToPath } from "node:url";
import {
  coldStarts,
  connect,
  median,
  percentile,
  report,
  roundTrips,
  rssMiB,
  type ServerCommand,
  throughput,
} from "../src/harness.ts";

const root = fileURLToPath(new URL("../..", import.meta.url));

/** `@portside/shared` (the fixture server) against the floor: a bare SDK echo server. */
export async function run(): Promise<void> {
  const servers: ServerCommand[] = [
    { label: "bare-sdk", command: process.execPath, args: [`${root}bench/floor/echo-server.mjs`] },
    { label: "shared", command: process.execPath, args: [`${root}test/dist/fixture.js`] },
  ];
  const cold = await coldStarts(servers, 15);
  const rows = {
    coldP50: [] as number[],
    rtP50: [] as number[],
    rtP99: [] as number[],
    tput: [] as number[],
    rss: [] as number[],
    big: [] as number[],
  };
  for (const [i, server] of servers.entries()) {
    const c = await connect(server);
    const call = () => c.client.callTool({ name: "echo", arguments: { text: "hello" } });
    const samples = await roundTrips(call, 1000, 100);
    rows.rtP50.push(median(samples));
    rows.rtP99.push(percentile(samples, 99));
    rows.tput.push(await throughput(call, 4000, 16));
    rows.rss.push(rssMiB(c.pid));
    // A large argument exercises the stdio reader: the SDK's re-joins its buffer on every chunk
    // (and its process exits, unanswered, from about 6 MiB).
    const big = "x".repeat(4 * 1024 * 1024);
    const bigCall = () =>
      c.client.callTool({ name: "echo", arguments: { text: big } }, undefined, { timeout: 600_000 });
    rows.big.push(median(await roundTrips(bigCall, 5, 1)));
    rows.coldP50.push(median(cold[i] as number[]));
    await c.close();
  }
  report(
    "foundation: @portside/shared vs the bare SDK",
    servers.map((s) => s.label),
    [
      { metric: "cold start p50", unit: "ms", values: rows.coldP50 },
      { metric: "echo round trip p50", unit: "ms", values: rows.rtP50 },
      { metric: "echo round trip p99", unit: "ms", values: rows.rtP99 },
      { metric: "throughput, 16 in flight", unit: "calls/s", values: rows.tput, lowerIsBetter: false },
      { metric: "RSS after load", unit: "MiB", values: rows.rss },
      { metric: "4 MiB argument round trip p50", unit: "ms", values: rows.big },
    ],
  );
}
