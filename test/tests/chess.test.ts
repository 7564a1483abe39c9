/**
 * The built chess server (servers/chess/dist/cli.js) driven by a real MCP client over stdio and
 * Streamable HTTP, with its API base URL pointed at the local Chess.com stand-in.
 */
import { spawnSync } from "node:child_process";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type ChessFixture, startChessFixture } from "../fixtures/chess/server.js";
import {
  type HttpServerProcess,
  type StdioServer,
  serverCli,
  startHttp,
  startStdio,
  structured,
  textOf,
} from "../src/harness.js";

type Row = Record<string, unknown>;

let fixture: ChessFixture;

beforeAll(async () => {
  fixture = await startChessFixture({ maxAgeSeconds: 300 });
});
afterAll(async () => {
  await fixture.close();
});
beforeEach(() => {
  fixture.reset();
  fixture.setMaxAge(300);
});

const serverArgs = () => ["--api-base-url", fixture.baseUrl, "--max-retry-wait-seconds", "5"];

async function call(client: Client, name: string, args: Row = {}): Promise<CallToolResult> {
  return (await client.callTool({ name, arguments: args })) as CallToolResult;
}

describe("over stdio", () => {
  let server: StdioServer;

  beforeAll(async () => {
    server = await startStdio("chess", [...serverArgs(), "--contact", "ops@example.com"]);
  });
  afterAll(async () => {
    await server.close();
  });

  it("lists ten read-only tools", async () => {
    const { tools } = await server.client.listTools();
    expect(tools).toHaveLength(10);
    expect(tools.every((t) => t.annotations?.readOnlyHint === true && t.outputSchema)).toBe(true);
  });

  it("answers every tool end to end", async () => {
    const c = server.client;
    const calls: [string, Row, (data: Row, text: string) => void][] = [
      [
        "get_player",
        { username: "nimzo_lover" },
        (d, t) => {
          expect(d).toMatchObject({ username: "nimzo_lover", country: "NO" });
          expect(t).toMatch(/chess_blitz: 1536/);
        },
      ],
      [
        "get_player",
        { username: "nimzo_lover", view: "tournaments" },
        (d) => {
          expect(d.tournaments).toMatchObject({ total: 2 });
        },
      ],
      [
        "get_player_games",
        { username: "nimzo_lover", method: "archives" },
        (d) => {
          expect(d.months).toMatchObject({ items: ["2024-03", "2024-02", "2024-01"] });
        },
      ],
      [
        "get_player_games",
        { username: "nimzo_lover", month: "2024-01", result: "win" },
        (d) => {
          expect(d).toMatchObject({ matched: 3, summary: { wins: 3 } });
        },
      ],
      [
        "get_player_games",
        { username: "nimzo_lover", method: "month_pgn", month: "2024-01", limit: 1 },
        (_d, t) => {
          expect(t).toMatch(/^Games 1–1 of 6/);
          expect(t).toMatch(/\[ECO "C50"\]/);
        },
      ],
      [
        "get_player_games",
        { username: "nimzo_lover", method: "current" },
        (d) => {
          expect(d.games).toMatchObject({ total: 2 });
        },
      ],
      [
        "get_player_games",
        { username: "nimzo_lover", method: "to_move" },
        (d) => {
          expect(d.games).toMatchObject({ total: 1 });
        },
      ],
      [
        "get_player_games",
        { username: "nimzo_lover", method: "live_time_control", baseSeconds: 600 },
        (d) => {
          expect(d).toMatchObject({ timeControl: "600+0", matched: 3 });
        },
      ],
      [
        "analyze_player",
        { username: "nimzo_lover" },
        (d) => {
          expect(d).toMatchObject({ games: 19, results: { total: { wins: 10, draws: 3, losses: 6, score: 60.5 } } });
        },
      ],
      [
        "analyze_head_to_head",
        { username: "nimzo_lover", opponent: "rook_lift" },
        (d) => {
          expect(d.total).toEqual({ games: 5, wins: 3, draws: 1, losses: 1, score: 70 });
        },
      ],
      [
        "get_club",
        { club: "portside-chess-club" },
        (d) => {
          expect(d).toMatchObject({ name: "Portside Chess Club", members: 6 });
        },
      ],
      [
        "get_club",
        { club: "portside-chess-club", view: "members" },
        (d) => {
          expect(d.members).toMatchObject({ total: 6 });
        },
      ],
      [
        "get_tournament",
        { tournament: "portside-spring-open-2024", round: 1, group: 1 },
        (d) => {
          expect(d).toMatchObject({ round: 1, group: 1 });
        },
      ],
      [
        "get_team_match",
        { match: 1530241 },
        (d) => {
          expect(d).toMatchObject({ type: "daily", status: "finished" });
        },
      ],
      [
        "get_team_match",
        { match: 5833, live: true, board: 1 },
        (d) => {
          expect(d).toMatchObject({ type: "live", board: 1 });
        },
      ],
      [
        "get_country",
        { country: "NO", view: "clubs" },
        (d) => {
          expect(d.clubs).toMatchObject({ total: 3 });
        },
      ],
      [
        "list_players",
        { method: "leaderboard", category: "daily" },
        (d) => {
          expect(d.entries).toMatchObject({ total: 7 });
        },
      ],
      [
        "list_players",
        { method: "titled", title: "FM" },
        (d) => {
          expect(d.players).toMatchObject({ items: ["rook_lift", "fm_sunday_gambit"] });
        },
      ],
      [
        "list_players",
        { method: "streamers" },
        (d) => {
          expect(d.streamers).toMatchObject({ total: 3 });
        },
      ],
      [
        "get_puzzle",
        { which: "random" },
        (d) => {
          expect(d).toMatchObject({ title: "Battering Ram", toMove: "white" });
        },
      ],
    ];
    for (const [name, args, check] of calls) {
      const result = await call(c, name, args);
      expect(result.isError, `${name} ${JSON.stringify(args)}: ${textOf(result)}`).toBeFalsy();
      check(structured(result), textOf(result));
    }
    expect(fixture.maxInFlight).toBe(1);
    expect(new Set(fixture.requests.map((r) => r.userAgent))).toEqual(
      new Set(["portside-server-chess/0.1.0 (+https://github.com/portside-mcp/portside; contact: ops@example.com)"]),
    );
  });

  it("sends progress while it reads archives", async () => {
    const progress: number[] = [];
    const result = await server.client.callTool(
      { name: "analyze_player", arguments: { username: "bench_player", months: 6, analyses: ["results"] } },
      undefined,
      { onprogress: (p) => void progress.push(p.progress) },
    );
    expect(result.isError).toBeFalsy();
    expect(progress).toEqual([0, 1, 2, 3, 4, 5, 6]);
  });

  it("revalidates with conditional requests and serves 304s from its cache", async () => {
    fixture.setMaxAge(0);
    const first = await call(server.client, "get_club", { club: "portside-chess-club", view: "matches" });
    const second = await call(server.client, "get_club", { club: "portside-chess-club", view: "matches" });
    expect(textOf(second)).toBe(textOf(first));
    expect(fixture.requests.map((r) => r.status)).toEqual([200, 304]);
    expect(fixture.requests[1]?.ifNoneMatch).toMatch(/^W\//);
  });

  it("recovers from a 429 by honouring Retry-After", async () => {
    fixture.rateLimit(1, "1", "/pub/country/NO/players");
    const result = await call(server.client, "get_country", { country: "NO", view: "players", limit: 3 });
    expect(result.isError).toBeFalsy();
    expect(structured(result).players).toMatchObject({ total: 300, nextOffset: 3 });
    expect(fixture.requests.map((r) => r.status)).toEqual([429, 200]);
  });

  it("refuses hostile input and unknown things with actionable errors", async () => {
    const cases: [string, Row, RegExp][] = [
      ["get_player", { username: "a/../../b" }, /invalid_argument[\s\S]*`username`/],
      ["get_player", { username: "ghost_player" }, /not_found[\s\S]*No such player "ghost_player"/],
      ["get_player", { username: "closed_account" }, /410 Gone/],
      ["get_club", { club: "<script>" }, /`club`/],
      ["get_country", { country: "../../x" }, /`country`/],
      ["get_player_games", { username: "nimzo_lover", month: "2024-1x" }, /`month` must be a month written YYYY-MM/],
      ["get_team_match", { match: "1; DROP TABLE" }, /`match`/],
      ["analyze_player", { username: "nimzo_lover", months: 0 }, /`months`/],
    ];
    for (const [name, args, pattern] of cases) {
      const result = await call(server.client, name, args);
      expect(result.isError, name).toBe(true);
      expect(textOf(result)).toMatch(pattern);
      expect(textOf(result)).not.toMatch(/\bat .*:\d+:\d+/);
    }
    expect(fixture.requests.map((r) => r.path)).toEqual(["/pub/player/ghost_player", "/pub/player/closed_account"]);
    expect(server.transportErrors).toEqual([]);
  });
});

describe("over Streamable HTTP", () => {
  let http: HttpServerProcess;
  let client: Client;

  beforeAll(async () => {
    http = await startHttp("chess", serverArgs(), { env: { MCP_AUTH_TOKEN: "chess-test-token" } });
    client = await http.connect({ token: "chess-test-token" });
  });
  afterAll(async () => {
    await http.stop();
  });

  it("answers tools for an authenticated client", async () => {
    const player = await call(client, "get_player", { username: "rook_lift", view: "profile" });
    expect(structured(player)).toMatchObject({ username: "rook_lift", title: "FM", isStreamer: true });
    const analysis = await call(client, "analyze_player", {
      username: "nimzo_lover",
      analyses: ["openings"],
      openingsLimit: 2,
    });
    expect(structured<{ openings: { openings: Row[] } }>(analysis).openings.openings).toMatchObject([
      { eco: "B20", total: { games: 7 } },
      { eco: "C50", total: { games: 7, score: 78.6 } },
    ]);
    const puzzle = await call(client, "get_puzzle", {});
    expect(textOf(puzzle)).toMatch(/Solution hidden/);
  });

  it("keeps one request in flight across concurrent sessions", async () => {
    fixture.setLatency(10);
    const second = await http.connect({ token: "chess-test-token" });
    const results = await Promise.all([
      call(client, "get_tournament", { tournament: "portside-spring-open-2024" }),
      call(second, "get_team_match", { match: 5833 }),
      call(client, "list_players", { method: "leaderboard" }),
      call(second, "get_player_games", { username: "nimzo_lover", month: "2024-02" }),
    ]);
    expect(results.every((r) => !r.isError)).toBe(true);
    expect(fixture.maxInFlight).toBe(1);
    expect(fixture.parallelRejected).toBe(0);
  });

  it("refuses a client without the token", async () => {
    const response = await fetch(http.url, {
      method: "POST",
      body: "{}",
      headers: { "content-type": "application/json" },
    });
    expect(response.status).toBe(401);
  });
});

describe("settings", () => {
  it("rejects a bad base URL or contact with one line and exit code 2", () => {
    for (const args of [
      ["--api-base-url", "ftp://example.com"],
      ["--contact", "evil\r\nX-Injected: 1"],
      ["--max-months", "0"],
    ]) {
      const run = spawnSync(process.execPath, [serverCli("chess"), ...args], { encoding: "utf8", timeout: 20_000 });
      expect(run.status).toBe(2);
      expect(run.stderr.trim().split("\n")).toHaveLength(1);
      expect(run.stdout).toBe("");
    }
  });
});
