import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { createLogger, parseCommandLine, type ServerApp } from "@portside/shared";
import { connectInMemory, type InMemoryConnection } from "@portside/shared/testing";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type {
  HeadToHead,
  OpeningsReport,
  RatingSeries,
  ResultsReport,
  StreaksReport,
} from "../src/chesscom/analysis.js";
import { chessOptions } from "../src/config.js";
import { chessServer } from "../src/server.js";
import type { Paged } from "../src/tools/common.js";
import { type ChessFixture, startChessFixture } from "./helpers.js";

type Row = Record<string, unknown>;
type Page<T = Row> = Paged<T>;
interface Analysis {
  range: Row;
  games: number;
  results: ResultsReport;
  openings: OpeningsReport;
  streaks: StreaksReport;
  ratingHistory?: RatingSeries[];
}
type H2H = Omit<HeadToHead, "recent"> & { range: Row; recent: Row[] };

let fixture: ChessFixture;
let app: ServerApp;
let connection: InMemoryConnection;
let client: Client;

async function call(name: string, args: Record<string, unknown> = {}): Promise<CallToolResult> {
  return (await client.callTool({ name, arguments: args })) as CallToolResult;
}

async function ok<T = Record<string, unknown>>(name: string, args: Record<string, unknown> = {}): Promise<T> {
  const result = await call(name, args);
  if (result.isError) throw new Error(`${name} failed: ${text(result)}`);
  return result.structuredContent as T;
}

const text = (result: CallToolResult) =>
  result.content.map((block) => (block.type === "text" ? block.text : "")).join("\n");
const errorCode = (result: CallToolResult) => (result._meta?.["io.portside/error"] as { code?: string })?.code;

/** A server as the CLI would start it, with an empty cache. */
async function startApp(extra: string[] = []): Promise<void> {
  const parsed = parseCommandLine(
    chessOptions,
    ["--api-base-url", fixture.baseUrl, "--contact", "tests@example.com", ...extra],
    {},
  );
  if (parsed.kind !== "run") throw new Error("bad test config");
  app = await chessServer.start(parsed.config, { log: createLogger({ level: "error" }), transport: "stdio" });
  connection = await connectInMemory(app);
  client = connection.client;
}

async function stopApp(): Promise<void> {
  await connection.close();
  await app.close?.();
}

beforeAll(async () => {
  fixture = await startChessFixture({ maxAgeSeconds: 300 });
  await startApp();
});
afterAll(async () => {
  await stopApp();
  await fixture.close();
});
beforeEach(() => {
  fixture.reset();
  fixture.setMaxAge(300);
});

describe("tool list", () => {
  it("is short, read-only and open-world", async () => {
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name).sort()).toEqual([
      "analyze_head_to_head",
      "analyze_player",
      "get_club",
      "get_country",
      "get_player",
      "get_player_games",
      "get_puzzle",
      "get_team_match",
      "get_tournament",
      "list_players",
    ]);
    for (const tool of tools) {
      expect(tool.annotations).toMatchObject({ readOnlyHint: true, destructiveHint: false, openWorldHint: true });
      expect(tool.outputSchema).toBeDefined();
      expect(tool.description?.length).toBeGreaterThan(80);
    }
  });
});

describe("get_player", () => {
  it("summarises profile and ratings, with the contact User-Agent", async () => {
    const result = await call("get_player", { username: "Nimzo_Lover" });
    expect(result.isError).toBeFalsy();
    expect(result._meta?.["io.portside/untrusted-content"]).toBe(true);
    const data = result.structuredContent as Record<string, unknown>;
    expect(data).toMatchObject({
      view: "summary",
      username: "nimzo_lover",
      name: "Nina Zolotova",
      country: "NO",
      joined: "2023-12-01T00:00:00.000Z",
      tactics: { highest: 2104, lowest: 812 },
      puzzleRush: { best: 28, attempts: 31 },
    });
    expect(data.fide).toBeUndefined();
    const ratings = data.ratings as { type: string; rating: number; games: number }[];
    expect(ratings.find((r) => r.type === "chess_blitz")).toMatchObject({ rating: 1536, best: 1561, games: 639 });
    expect(ratings.map((r) => r.type).sort()).toEqual([
      "chess960_blitz",
      "chess_blitz",
      "chess_bullet",
      "chess_daily",
      "chess_rapid",
    ]);
    expect(text(result)).toMatch(/chess_blitz: 1536 \(best 1561\), \+310 =41 -288 in 639 games/);
    expect(fixture.requests[0]?.userAgent).toMatch(
      /^portside-server-chess\/0\.1\.0 \(\+https:\/\/github\.com\/portside-mcp\/portside; contact: tests@example\.com\)$/,
    );
  });

  it("lists clubs, team matches and tournaments, paged", async () => {
    const clubs = await ok<{ clubs: { items: { club: string }[]; total: number; nextOffset?: number } }>("get_player", {
      username: "nimzo_lover",
      view: "clubs",
      limit: 1,
    });
    expect(clubs.clubs).toMatchObject({ total: 2, offset: 0, nextOffset: 1, items: [{ club: "portside-chess-club" }] });
    const matches = await ok<{ matches: { items: { status: string; match: string }[] } }>("get_player", {
      username: "nimzo_lover",
      view: "matches",
    });
    expect(matches.matches.items.map((m) => [m.status, m.match])).toEqual([
      ["in_progress", "1533000"],
      ["registered", "1535555"],
      ["finished", "1530241"],
    ]);
    const tournaments = await ok<{ tournaments: { items: Record<string, unknown>[] } }>("get_player", {
      username: "nimzo_lover",
      view: "tournaments",
    });
    expect(tournaments.tournaments.items[1]).toMatchObject({
      status: "finished",
      tournament: "portside-spring-open-2024",
      placement: 2,
      wins: 5,
    });
  });

  it("marks club, match and tournament names as third-party text", async () => {
    for (const view of ["clubs", "matches", "tournaments"]) {
      const result = await call("get_player", { username: "nimzo_lover", view });
      expect(result.isError, view).toBeFalsy();
      expect(result._meta?.["io.portside/untrusted-content"], view).toBe(true);
    }
  });

  it("returns the raw profile and stats on request", async () => {
    const profile = await ok<{ raw: Record<string, unknown> }>("get_player", {
      username: "rook_lift",
      view: "profile",
    });
    expect(profile.raw.title).toBe("FM");
    const stats = await ok<{ raw: Record<string, unknown> }>("get_player", { username: "nimzo_lover", view: "stats" });
    expect(stats.raw.chess_daily).toBeDefined();
  });

  it("refuses unknown, closed and malformed players with clear errors", async () => {
    const missing = await call("get_player", { username: "no_such_person" });
    expect(missing.isError).toBe(true);
    expect(errorCode(missing)).toBe("not_found");
    expect(text(missing)).toMatch(/No such player "no_such_person" on Chess.com/);
    const closed = await call("get_player", { username: "closed_account" });
    expect(errorCode(closed)).toBe("not_found");
    expect(text(closed)).toMatch(/410 Gone/);
    const bad = await call("get_player", { username: "../../etc/passwd" });
    expect(errorCode(bad)).toBe("invalid_argument");
    expect(text(bad)).toMatch(/`username`/);
    expect(fixture.requestsTo("/pub/player/no_such_person")).toHaveLength(1);
    expect(fixture.requests.some((r) => r.path.includes(".."))).toBe(false);
  });
});

describe("get_player_games", () => {
  it("lists archive months newest first", async () => {
    const data = await ok<{ months: { items: string[] } }>("get_player_games", {
      username: "nimzo_lover",
      method: "archives",
    });
    expect(data.months.items).toEqual(["2024-03", "2024-02", "2024-01"]);
  });

  it("filters a month of games from the player's side", async () => {
    const blitz = await ok<{ matched: number; gamesInSource: number; games: { items: Record<string, unknown>[] } }>(
      "get_player_games",
      { username: "nimzo_lover", month: "2024-02", timeClass: "blitz" },
    );
    expect(blitz.gamesInSource).toBe(6);
    expect(blitz.matched).toBe(4);
    const wins = await call("get_player_games", {
      username: "nimzo_lover",
      month: "2024-02",
      colour: "white",
      result: "win",
    });
    const data = wins.structuredContent as { summary: unknown; games: { items: Record<string, unknown>[] } };
    expect(data.summary).toMatchObject({ games: 2, wins: 2 });
    expect(data.games.items.map((g) => [g.opponent, g.ending, g.eco])).toEqual([
      ["endgame_emma", "checkmate", "C50"],
      ["rook_lift", "resignation", "C50"],
    ]);
    expect(text(wins)).toMatch(/white vs endgame_emma \(1485\): win by checkmate, rating 1510 \| C50 Italian Game/);
    const against = await ok<{ matched: number }>("get_player_games", {
      username: "nimzo_lover",
      month: "2024-01",
      opponent: "ENDGAME_EMMA",
    });
    expect(against.matched).toBe(3);
  });

  it("pages a month's PGN by game", async () => {
    const first = await call("get_player_games", {
      username: "nimzo_lover",
      method: "month_pgn",
      month: "2024-03",
      limit: 3,
    });
    const data = first.structuredContent as { games: { items: string[]; total: number; nextOffset: number } };
    expect(data.games.total).toBe(8);
    expect(data.games.items).toHaveLength(3);
    expect(data.games.nextOffset).toBe(3);
    expect(text(first)).toMatch(/^Games 1–3 of 8 \(more: offset 3\)\./);
    expect(data.games.items[0]).toMatch(/^\[Event "Live Chess"\]/);
  });

  it("shows daily games in progress and those waiting for a move", async () => {
    const current = await ok<{ games: { items: Record<string, unknown>[] } }>("get_player_games", {
      username: "nimzo_lover",
      method: "current",
    });
    expect(current.games.items.map((g) => [g.white, g.black, g.turn])).toEqual([
      ["nimzo_lover", "rook_lift", "white"],
      ["fjord_rook_4", "nimzo_lover", "white"],
    ]);
    const toMove = await ok<{ games: { items: Record<string, unknown>[] } }>("get_player_games", {
      username: "nimzo_lover",
      method: "to_move",
    });
    expect(toMove.games.items).toEqual([
      {
        url: "https://www.chess.com/game/daily/901000001",
        moveBy: "2024-04-01T19:33:20.000Z",
        lastActivity: "2024-03-30T12:00:00.000Z",
      },
    ]);
  });

  it("lists live games at one time control", async () => {
    const data = await ok<{ matched: number; timeControl: string }>("get_player_games", {
      username: "nimzo_lover",
      method: "live_time_control",
      baseSeconds: 180,
      incrementSeconds: 2,
      rules: "chess",
    });
    expect(data.timeControl).toBe("180+2");
    expect(data.matched).toBe(12);
  });

  it("explains missing and misplaced arguments", async () => {
    const noMonth = await call("get_player_games", { username: "nimzo_lover", method: "month" });
    expect(text(noMonth)).toMatch(/`month` is required for method month/);
    const future = await call("get_player_games", { username: "nimzo_lover", month: "2999-01" });
    expect(text(future)).toMatch(/must not be in the future/);
    const misplaced = await call("get_player_games", { username: "nimzo_lover", method: "archives", colour: "white" });
    expect(errorCode(misplaced)).toBe("invalid_argument");
    expect(text(misplaced)).toMatch(/Filters apply to methods month and live_time_control/);
  });
});

describe("analyze_player", () => {
  it("returns the hand-computed analysis and reports progress per month", async () => {
    const progress: string[] = [];
    const result = (await client.callTool(
      { name: "analyze_player", arguments: { username: "nimzo_lover" } },
      undefined,
      {
        onprogress: (p) => {
          progress.push(`${p.progress}/${p.total} ${p.message}`);
        },
      },
    )) as CallToolResult;
    expect(result.isError).toBeFalsy();
    const data = result.structuredContent as unknown as Analysis;
    expect(data.range).toEqual({ from: "2024-01", to: "2024-03", monthsRead: 3, monthsInRange: 3 });
    expect(data.games).toBe(19);
    expect(data.results.total).toEqual({ games: 19, wins: 10, draws: 3, losses: 6, score: 60.5 });
    expect(data.openings.openings[1]).toMatchObject({ eco: "C50", name: "Italian Game", total: { score: 78.6 } });
    expect(data.streaks.longestWin?.length).toBe(4);
    expect(data.ratingHistory?.find((s) => s.timeClass === "blitz")).toMatchObject({
      start: 1500,
      end: 1536,
    });
    expect(progress).toEqual([
      "0/3 reading 3 monthly archive(s)",
      "1/3 2024-01: 6 game(s)",
      "2/3 2024-02: 6 game(s)",
      "3/3 2024-03: 7 game(s)",
    ]);
    expect(text(result)).toMatch(/Results: \+10 =3 -6 \(19 games, score 60.5%\)/);
    expect(text(result)).toMatch(/current: 2 loss\(s\) in a row/);
  });

  it("narrows by time class and months, and says what it left out", async () => {
    const data = await ok<Analysis>("analyze_player", {
      username: "nimzo_lover",
      analyses: ["results"],
      months: 2,
      timeClass: "blitz",
      ratedOnly: true,
    });
    expect(data.range).toMatchObject({ from: "2024-02", to: "2024-03", monthsRead: 2, skippedMonths: 1 });
    expect(data.range.note).toMatch(/raise `months`/);
    expect(data.ratingHistory).toBeUndefined();
    // Feb + Mar rated blitz: W W D L | W W W D
    expect(data.results.total).toEqual({ games: 8, wins: 5, draws: 2, losses: 1, score: 75 });
  });

  it("stops reading archives when the call is cancelled", async () => {
    fixture.setLatency(40);
    const controller = new AbortController();
    const pending = client.callTool(
      { name: "analyze_player", arguments: { username: "bench_player", months: 24 } },
      undefined,
      {
        signal: controller.signal,
        onprogress: (p) => {
          if (p.progress === 2) controller.abort();
        },
      },
    );
    await expect(pending).rejects.toThrow();
    await new Promise((done) => setTimeout(done, 200));
    const months = fixture.requestsTo("/pub/player/bench_player/games/20").length;
    expect(months).toBeGreaterThanOrEqual(2);
    expect(months).toBeLessThan(5);
  });

  it("keeps the default window within a lower server cap", async () => {
    await stopApp();
    await startApp(["--max-months", "2"]);
    try {
      const data = await ok<Analysis>("analyze_player", { username: "nimzo_lover", analyses: ["streaks"] });
      expect(data.range).toMatchObject({ monthsRead: 2, skippedMonths: 1 });
      const tooMany = await call("analyze_player", { username: "nimzo_lover", months: 3 });
      expect(text(tooMany)).toMatch(/`months` may be at most 2 on this server/);
    } finally {
      await stopApp();
      await startApp();
    }
  });

  it("refuses more months than the server allows and bad ranges", async () => {
    const tooMany = await call("analyze_player", { username: "nimzo_lover", months: 500 });
    expect(text(tooMany)).toMatch(/`months` may be at most 120/);
    const backwards = await call("analyze_player", { username: "nimzo_lover", from: "2024-03", to: "2024-01" });
    expect(text(backwards)).toMatch(/`from` must not be after `to`/);
  });
});

describe("analyze_head_to_head", () => {
  it("counts every meeting, from the first player's side", async () => {
    const result = await call("analyze_head_to_head", { username: "nimzo_lover", opponent: "Endgame_Emma", recent: 2 });
    const data = result.structuredContent as unknown as H2H;
    expect(data.total).toEqual({ games: 7, wins: 5, draws: 2, losses: 0, score: 85.7 });
    expect(data.white).toEqual({ games: 4, wins: 3, draws: 1, losses: 0, score: 87.5 });
    expect(data.recent).toHaveLength(2);
    expect(data.recent[0]).toMatchObject({
      colour: "white",
      result: "win",
      opening: "Italian Game Giuoco Pianissimo Variation",
    });
    expect(text(result)).toMatch(/nimzo_lover vs endgame_emma: \+5 =2 -0/);
  });

  it("reads only months both players have games in", async () => {
    const data = await ok<H2H>("analyze_head_to_head", {
      username: "nimzo_lover",
      opponent: "quiet_move_quinn",
    });
    expect(data.total.games).toBe(0);
    expect(data.range.monthsRead).toBe(0);
    expect(fixture.requestsTo("/pub/player/nimzo_lover/games/20")).toHaveLength(0);
  });

  it("refuses an unknown opponent and playing oneself", async () => {
    const unknown = await call("analyze_head_to_head", { username: "nimzo_lover", opponent: "ghost_player" });
    expect(text(unknown)).toMatch(/No such player "ghost_player"/);
    const self = await call("analyze_head_to_head", { username: "nimzo_lover", opponent: "NIMZO_LOVER" });
    expect(text(self)).toMatch(/must be a different player/);
  });
});

describe("clubs, tournaments, matches and countries", () => {
  it("shows a club with its description as clean text", async () => {
    const club = await ok<Row>("get_club", { club: "https://www.chess.com/club/portside-chess-club" });
    expect(club).toMatchObject({
      club: "portside-chess-club",
      name: "Portside Chess Club",
      members: 6,
      admins: ["nimzo_lover", "rook_lift"],
      country: "NO",
    });
    expect(club.description).toBe(
      "A friendly club for daily and team-match players.\n• Weekly arenas\n• Team matches vs other clubs",
    );
    expect(JSON.stringify(club)).not.toMatch(/ignore previous instructions|hidden text/);
  });

  it("lists club members by activity and the club's matches", async () => {
    const members = await ok<{ counts: Row; members: Page }>("get_club", {
      club: "portside-chess-club",
      view: "members",
    });
    expect(members.counts).toEqual({ weekly: 2, monthly: 2, all_time: 2 });
    expect(members.members.total).toBe(6);
    const monthly = await ok<{ members: Page<{ username: string }> }>("get_club", {
      club: "portside-chess-club",
      view: "members",
      activity: "monthly",
    });
    expect(monthly.members.items.map((m) => m.username)).toEqual(["endgame_emma", "zugzwang_zoe"]);
    const matches = await ok<{ matches: Page }>("get_club", { club: "portside-chess-club", view: "matches" });
    expect(matches.matches.items[2]).toMatchObject({ status: "finished", opponent: "harbour-knights", result: "win" });
    const missing = await call("get_club", { club: "no-such-club" });
    expect(text(missing)).toMatch(/No such club "no-such-club"/);
  });

  it("walks a tournament down to a group's standings", async () => {
    const t = await ok<Row & { players: Page; settings: Row }>("get_tournament", {
      tournament: "portside-spring-open-2024",
      limit: 3,
    });
    expect(t).toMatchObject({ name: "Portside Spring Open 2024", status: "finished", rounds: [1, 2] });
    expect(t.players).toMatchObject({ total: 8, nextOffset: 3 });
    expect(t.settings.time_control).toBe("1/86400");
    const round = await ok<Row>("get_tournament", {
      tournament: "portside-spring-open-2024",
      round: 1,
    });
    expect(round).toMatchObject({ groups: [1, 2], advancing: 2 });
    const group = await ok<{ standings: { username: string }[]; games: Page<{ white: Row }> }>("get_tournament", {
      tournament: "portside-spring-open-2024",
      round: 1,
      group: 1,
    });
    expect(group.standings.map((s) => s.username)).toEqual([
      "nimzo_lover",
      "rook_lift",
      "zugzwang_zoe",
      "endgame_emma",
    ]);
    expect(group.games.items[0]?.white).toEqual({ username: "Nimzo_Lover", rating: 1688, result: "win" });
    const noRound = await call("get_tournament", { tournament: "portside-spring-open-2024", group: 1 });
    expect(text(noRound)).toMatch(/`group` needs `round`/);
  });

  it("shows daily and live team matches and their boards", async () => {
    const daily = await ok<Row & { teams: Record<string, Row> }>("get_team_match", {
      match: "https://www.chess.com/club/matches/1530241",
    });
    expect(daily).toMatchObject({ match: 1530241, type: "daily", status: "finished", boards: 2 });
    expect(daily.teams.team1).toMatchObject({ club: "portside-chess-club", score: 2.5, result: "win", playerCount: 2 });
    const board = await ok<{ scores: Row; games: Row[] }>("get_team_match", { match: 1530241, board: 1 });
    expect(board.scores).toEqual({ nimzo_lover: 1.5, harbour_hana: 0.5 });
    expect(board.games).toHaveLength(2);
    // A bare id that is not a daily match is tried as a live one.
    const live = await ok<Row>("get_team_match", { match: "5833" });
    expect(live).toMatchObject({ match: 5833, type: "live", name: "Portside vs Fjord Rooks Blitz" });
    const liveBoard = await ok<{ games: { white: Row }[] }>("get_team_match", { match: 5833, board: 1, live: true });
    expect(liveBoard.games[0]?.white).toMatchObject({ username: "Nimzo_Lover", result: "win" });
    const none = await call("get_team_match", { match: 999 });
    expect(text(none)).toMatch(/No daily or live team match 999/);
  });

  it("shows a country, its players (paged) and clubs", async () => {
    const country = await ok<Row>("get_country", { country: "no" });
    expect(country).toMatchObject({ country: "NO", name: "Norway" });
    const players = await ok<{ players: Page<string> }>("get_country", {
      country: "NO",
      view: "players",
      offset: 100,
      limit: 100,
    });
    expect(players.players).toMatchObject({ total: 300, offset: 100, nextOffset: 200 });
    expect(players.players.items).toHaveLength(100);
    const clubs = await ok<{ clubs: Page<string> }>("get_country", { country: "NO", view: "clubs" });
    expect(clubs.clubs.items).toEqual(["portside-chess-club", "fjord-rooks", "nordic-endgame-study"]);
    const bad = await call("get_country", { country: "Norway" });
    expect(errorCode(bad)).toBe("invalid_argument");
  });
});

describe("site-wide lists and puzzles", () => {
  it("shows leaderboards, titled players and streamers", async () => {
    const overview = await ok<{ categories: string[]; top: Record<string, { username: string }[]> }>("list_players", {
      method: "leaderboard",
      limit: 2,
    });
    expect(overview.categories).toContain("live_blitz");
    expect(overview.top.live_blitz?.map((e) => e.username)).toEqual(["Hikaru", "MagnusCarlsen"]);
    const blitz = await ok<{ entries: Page }>("list_players", { method: "leaderboard", category: "live_blitz" });
    expect(blitz.entries.items[1]).toMatchObject({ rank: 2, username: "MagnusCarlsen", title: "GM", country: "NO" });
    const badBoard = await call("list_players", { method: "leaderboard", category: "live_chess" });
    expect(text(badBoard)).toMatch(/is not a leaderboard.*\n.*live_blitz/);
    const gms = await ok<{ players: Page<string> }>("list_players", { method: "titled", title: "GM", limit: 5 });
    expect(gms.players).toMatchObject({ total: 12, nextOffset: 5 });
    const noTitle = await call("list_players", { method: "titled" });
    expect(text(noTitle)).toMatch(/`title` is required/);
    const live = await ok<{ streamers: Page<{ username: string }> }>("list_players", {
      method: "streamers",
      liveOnly: true,
    });
    expect(live.streamers.items.map((s) => s.username)).toEqual(["rook_lift"]);
  });

  it("hides a puzzle's solution until asked", async () => {
    const hidden = await call("get_puzzle");
    expect(hidden.structuredContent).toMatchObject({ which: "daily", toMove: "white", title: "Back Rank Blues" });
    expect(JSON.stringify(hidden)).not.toMatch(/Rd8/);
    expect(text(hidden)).toMatch(/Solution hidden/);
    const shown = await ok<Row>("get_puzzle", { includeSolution: true });
    expect(shown.solution).toBe("1.Rd8# *");
    const random = await ok<Row>("get_puzzle", { which: "random", includeSolution: true });
    expect(random.solution).toBe("1.Qxg8+ Kxg8 2.f7+ Kh7 3.f8=Q *");
  });
});

describe("a good citizen through the tools", () => {
  beforeEach(async () => {
    await stopApp();
    await startApp();
  });

  it("keeps one request in flight when many tool calls run at once", async () => {
    fixture.setMaxAge(0);
    fixture.setLatency(10);
    const batch = () =>
      Promise.all([
        call("get_player", { username: "nimzo_lover" }),
        call("get_club", { club: "portside-chess-club" }),
        call("list_players", { method: "leaderboard" }),
        call("get_puzzle"),
        call("get_country", { country: "NO" }),
        call("analyze_player", { username: "nimzo_lover", analyses: ["results"] }),
      ]);
    const first = await batch();
    const sent = fixture.requests.length;
    const second = await batch();
    expect([...first, ...second].every((r) => !r.isError)).toBe(true);
    expect(second.map(text)).toEqual(first.map(text));
    expect(fixture.maxInFlight).toBe(1);
    expect(fixture.parallelRejected).toBe(0);
    // With max-age 0 the second round revalidated everything and got only 304s.
    expect(fixture.requests.slice(sent).map((r) => r.status)).toEqual(Array(sent).fill(304));
  });

  it("says how long to wait when Chess.com rate-limits for too long", async () => {
    fixture.rateLimit(1, "600", "/pub/streamers");
    const result = await call("list_players", { method: "streamers" });
    expect(errorCode(result)).toBe("rate_limited");
    expect(text(result)).toMatch(/Wait about 600 s/);
  });
});
