import { fileURLToPath } from "node:url";
import { startChessFixture } from "../../test/fixtures/chess/server.ts";
import { coldStarts, connect, median, percentile, report, rssMiB, type ServerCommand, time } from "../src/harness.ts";

const root = fileURLToPath(new URL("../..", import.meta.url));

/**
 * There is no official Chess.com MCP server on npm to run beside ours, so this suite measures our
 * server against its own floors, all against the local Chess.com stand-in (no latency added):
 * cold start; a profile read as a plain HTTP GET, through the tool uncached (200), revalidated (304)
 * and fresh from the cache; and analyze_player over N months of archives, uncached, revalidated and
 * cached.
 */
export async function run(): Promise<void> {
  const fixture = await startChessFixture({ latencyMs: 0, syntheticMonths: 60, syntheticGamesPerMonth: 40 });
  const server: ServerCommand = {
    label: "portside-chess",
    command: process.execPath,
    args: [`${root}servers/chess/dist/cli.js`, "--api-base-url", fixture.baseUrl, "--max-months", "60"],
  };
  try {
    const [cold] = await coldStarts([server], 15);
    const startup = await connect(server);
    const rss = rssMiB(startup.pid);
    await startup.close();
    report(
      "chess: cold start (spawn → initialize → tools/list)",
      [server.label],
      [
        { metric: "cold start p50", unit: "ms", values: [median(cold ?? [])] },
        { metric: "cold start p99", unit: "ms", values: [percentile(cold ?? [], 99)] },
        { metric: "RSS after start", unit: "MiB", values: [rss] },
      ],
    );

    await profileReads(fixture, server);
    await analysis(fixture, server);
  } finally {
    await fixture.close();
  }
}

async function profileReads(fixture: Awaited<ReturnType<typeof startChessFixture>>, server: ServerCommand) {
  const reads = 200;
  const path = "/pub/player/nimzo_lover";
  const samples = {
    floor: [] as number[],
    uncached: [] as number[],
    revalidated: [] as number[],
    cached: [] as number[],
  };
  for (let i = 0; i < reads; i++) {
    samples.floor.push((await time(async () => (await fetch(`${fixture.baseUrl}/player/nimzo_lover`)).json()))[0]);
  }
  const c = await connect(server);
  const read = () => c.client.callTool({ name: "get_player", arguments: { username: "nimzo_lover", view: "profile" } });
  try {
    fixture.setMaxAge(0);
    await read();
    for (let i = 0; i < reads; i++) {
      // A new version on every read: the conditional request misses and the full body comes back.
      fixture.update(path, (body) => ({ ...(body as object), followers: 1000 + i }));
      samples.uncached.push((await time(read))[0]);
    }
    for (let i = 0; i < reads; i++) samples.revalidated.push((await time(read))[0]);
    fixture.setMaxAge(3600);
    await read();
    await read();
    for (let i = 0; i < reads; i++) samples.cached.push((await time(read))[0]);
  } finally {
    await c.close();
    fixture.reset();
  }
  const labels = ["plain HTTP GET (floor)", "uncached (200)", "revalidated (304)", "cached (fresh)"];
  const all = [samples.floor, samples.uncached, samples.revalidated, samples.cached];
  report("chess: one profile read (get_player view=profile), 200 reads each", labels, [
    { metric: "read p50", unit: "ms", values: all.map(median) },
    { metric: "read p99", unit: "ms", values: all.map((s) => percentile(s, 99)) },
  ]);
}

async function analysis(fixture: Awaited<ReturnType<typeof startChessFixture>>, server: ServerCommand) {
  const runs = 3;
  const rows = [];
  for (const months of [6, 24, 60]) {
    const uncached: number[] = [];
    const revalidated: number[] = [];
    const cached: number[] = [];
    for (let r = 0; r < runs; r++) {
      // A fresh process has an empty cache.
      const c = await connect(server);
      const analyse = () =>
        c.client.callTool({ name: "analyze_player", arguments: { username: "bench_player", months } }, undefined, {
          timeout: 600_000,
        });
      try {
        fixture.setMaxAge(0);
        uncached.push((await time(analyse))[0]);
        revalidated.push((await time(analyse))[0]);
        fixture.setMaxAge(3600);
        await analyse();
        cached.push((await time(analyse))[0]);
      } finally {
        await c.close();
        fixture.reset();
      }
    }
    rows.push({
      metric: `analyze_player, ${months} months (${months * 40} games)`,
      unit: "ms",
      values: [median(uncached), median(revalidated), median(cached)],
    });
  }
  report("chess: analysis over N monthly archives (median of 3)", ["uncached", "revalidated (304s)", "cached"], rows);
}
