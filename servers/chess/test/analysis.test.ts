/**
 * Analysis checked against answers worked out by hand from the fixture's games for nimzo_lover
 * (test/fixtures/chess/data/player/nimzo_lover/games/2024/{01,02,03}.json): 20 games, of which one is
 * Chess960 (excluded by the default rules filter) and one is unrated.
 *
 *  #  date   class   colour opponent        result       rating  ECO
 *  1  01-03  blitz   white  endgame_emma    win (res)    1500    C50
 *  2  01-05  blitz   black  rook_lift       loss (mate)  1492    B20
 *  3  01-09  rapid   white  Endgame_Emma    draw (agr)   1650    C50
 *  4  01-14  blitz   black  fianchetto_fred win (time)   1501    B20
 *  5  01-20  bullet  white  zugzwang_zoe    loss (time)  1390    A40
 *  6  01-28  daily   black  endgame_emma    win (res)    1700    D02
 *  7  02-02  blitz   white  endgame_emma    win (mate)   1510    C50
 *  8  02-04  blitz   white  rook_lift       win (res)    1519    C50
 *  9  02-10  rapid   black  zugzwang_zoe    loss (res)   1641    B20
 * 10  02-15  blitz   black  endgame_emma    draw (rep)   1519    B20
 * 11  02-21  bullet  black  rook_lift       win (time)   1400    A40
 * 12  02-27  blitz   white  fianchetto_fred loss (res)   1510    C50
 * 13  03-01  blitz   black  endgame_emma    win (res)    1518    B20
 * 14  03-06  blitz   white  zugzwang_zoe    win (time)   1527    C50
 * 15  03-11  rapid   white  rook_lift       win (mate)   1650    D02
 * 16  03-18  blitz   white  endgame_emma    win (res)    1536    C50 (Giuoco Pianissimo)
 * 17  03-22  blitz   black  rook_lift       draw (stal)  1536    B20
 * 19  03-25  blitz   white  rook_lift       win          1400    —   chess960
 * 20  03-27  blitz   black  zugzwang_zoe    loss (mate)  1536    B20 unrated
 * 18  03-30  daily   white  fianchetto_fred loss (res)   1690    D02
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  headToHead,
  openings,
  ratingHistory,
  results,
  streaks,
  tally,
  type Walked,
  walkArchives,
} from "../src/chesscom/analysis.js";
import type { ChessComClient } from "../src/chesscom/client.js";
import { outcomeOf } from "../src/chesscom/games.js";
import { openingName, pgnTags, splitPgn } from "../src/chesscom/pgn.js";
import { type ChessFixture, clientFor, startChessFixture } from "./helpers.js";

let fixture: ChessFixture;
let client: ChessComClient;
let chess: Walked;

const rec = (games: number, wins: number, draws: number, losses: number, score: number) => ({
  games,
  wins,
  draws,
  losses,
  score,
});

beforeAll(async () => {
  fixture = await startChessFixture({ maxAgeSeconds: 300 });
  client = clientFor(fixture.baseUrl);
  chess = await walkArchives(client, "nimzo_lover", { maxMonths: 12, filter: { rules: "chess" } });
});
afterAll(async () => {
  await client.close();
  await fixture.close();
});

describe("walking the archives", () => {
  it("reads every month once, oldest first, and keeps the player's side of each game", () => {
    expect(chess.months).toEqual(["2024-01", "2024-02", "2024-03"]);
    expect(chess.games).toHaveLength(19);
    expect(chess.games.every((g, i) => i === 0 || (chess.games[i - 1]?.endTime ?? 0) <= g.endTime)).toBe(true);
    const first = chess.games[0];
    expect(first).toMatchObject({
      colour: "white",
      result: "win",
      ending: "resignation",
      rating: 1500,
      opponent: "endgame_emma",
      opponentRating: 1480,
      eco: "C50",
      opening: "Italian Game",
      timeClass: "blitz",
      timeControl: "180+2",
      month: "2024-01",
    });
  });

  it("reports progress for each month and respects the month cap", async () => {
    const seen: string[] = [];
    const capped = await walkArchives(client, "nimzo_lover", {
      maxMonths: 2,
      filter: {},
      onProgress: (done, total, message) => {
        seen.push(`${done}/${total} ${message}`);
      },
    });
    expect(capped.months).toEqual(["2024-02", "2024-03"]);
    expect(capped.skippedMonths).toBe(1);
    expect(seen).toEqual(["0/2 reading 2 monthly archive(s)", "1/2 2024-02: 6 game(s)", "2/2 2024-03: 8 game(s)"]);
  });

  it("stops when cancelled", async () => {
    const controller = new AbortController();
    fixture.reset();
    await expect(
      walkArchives(client, "bench_player", {
        maxMonths: 24,
        filter: {},
        signal: controller.signal,
        onProgress: (done) => {
          if (done === 2) controller.abort();
        },
      }),
    ).rejects.toMatchObject({ kind: "cancelled" });
    expect(fixture.requestsTo("/pub/player/bench_player/games/20").length).toBe(2);
  });
});

describe("results by time class and colour", () => {
  it("matches the hand count", () => {
    const r = results(chess.games);
    expect(r.total).toEqual(rec(19, 10, 3, 6, 60.5));
    expect(r.white).toEqual(rec(10, 6, 1, 3, 65));
    expect(r.black).toEqual(rec(9, 4, 2, 3, 55.6));
    const by = Object.fromEntries(r.byTimeClass.map((t) => [t.timeClass, t]));
    expect(r.byTimeClass.map((t) => t.timeClass)).toEqual(["bullet", "blitz", "rapid", "daily"]);
    expect(by.blitz?.total).toEqual(rec(12, 7, 2, 3, 66.7));
    expect(by.blitz?.white).toEqual(rec(6, 5, 0, 1, 83.3));
    expect(by.blitz?.black).toEqual(rec(6, 2, 2, 2, 50));
    expect(by.rapid?.total).toEqual(rec(3, 1, 1, 1, 50));
    expect(by.rapid?.white).toEqual(rec(2, 1, 1, 0, 75));
    expect(by.bullet?.total).toEqual(rec(2, 1, 0, 1, 50));
    expect(by.daily?.white).toEqual(rec(1, 0, 0, 1, 0));
    expect(by.daily?.black).toEqual(rec(1, 1, 0, 0, 100));
  });

  it("classifies Chess.com's result codes", () => {
    expect(
      ["agreed", "repetition", "stalemate", "insufficient", "50move", "timevsinsufficient"].map(outcomeOf),
    ).toEqual(Array(6).fill("draw"));
    expect(
      ["checkmated", "resigned", "timeout", "abandoned", "lose", "kingofthehill", "threecheck"].map(outcomeOf),
    ).toEqual(Array(7).fill("loss"));
    expect(outcomeOf("win")).toBe("win");
    expect(tally([])).toEqual(rec(0, 0, 0, 0, 0));
  });
});

describe("rating history", () => {
  it("summarises the rating after each rated game per time class and month", () => {
    const history = Object.fromEntries(ratingHistory(chess.games).map((s) => [s.timeClass, s]));
    expect(history.blitz?.months).toEqual([
      { month: "2024-01", games: 3, first: 1500, last: 1501, min: 1492, max: 1501 },
      { month: "2024-02", games: 4, first: 1510, last: 1510, min: 1510, max: 1519, change: 9 },
      // The unrated loss on 03-27 is left out: unrated games never move the rating.
      { month: "2024-03", games: 4, first: 1518, last: 1536, min: 1518, max: 1536, change: 26 },
    ]);
    expect(history.blitz).toMatchObject({
      start: 1500,
      end: 1536,
      peak: { rating: 1536, month: "2024-03" },
      low: { rating: 1492, month: "2024-01" },
    });
    expect(history.rapid?.months.map((m) => [m.month, m.last, m.change])).toEqual([
      ["2024-01", 1650, undefined],
      ["2024-02", 1641, -9],
      ["2024-03", 1650, 9],
    ]);
    expect(history.bullet?.months.map((m) => [m.month, m.last])).toEqual([
      ["2024-01", 1390],
      ["2024-02", 1400],
    ]);
    expect(history.daily?.months.map((m) => [m.month, m.last, m.change])).toEqual([
      ["2024-01", 1700, undefined],
      ["2024-03", 1690, -10],
    ]);
  });
});

describe("openings by ECO", () => {
  it("groups by the PGN's ECO header with scores by colour", () => {
    const report = openings(chess.games, { minGames: 1, limit: 10 });
    expect(report.distinct).toBe(4);
    expect(report.withoutEco).toBe(0);
    expect(report.openings.map((o) => [o.eco, o.name, o.total.games])).toEqual([
      ["B20", "Sicilian Defense", 7],
      ["C50", "Italian Game", 7],
      ["D02", "Queens Pawn Opening London System", 3],
      ["A40", "Queens Pawn Opening Horwitz Defense", 2],
    ]);
    const [b20, c50, d02, a40] = report.openings;
    expect(b20?.total).toEqual(rec(7, 2, 2, 3, 42.9));
    expect(b20?.black).toEqual(rec(7, 2, 2, 3, 42.9));
    expect(b20?.white.games).toBe(0);
    expect(c50?.total).toEqual(rec(7, 5, 1, 1, 78.6));
    expect(c50?.white).toEqual(rec(7, 5, 1, 1, 78.6));
    expect(d02?.total).toEqual(rec(3, 2, 0, 1, 66.7));
    expect(d02?.white).toEqual(rec(2, 1, 0, 1, 50));
    expect(d02?.black).toEqual(rec(1, 1, 0, 0, 100));
    expect(a40?.total).toEqual(rec(2, 1, 0, 1, 50));
  });

  it("cuts by minimum games and limit, and counts games without ECO", async () => {
    const all = await walkArchives(client, "nimzo_lover", { maxMonths: 12, filter: {} });
    const report = openings(all.games, { minGames: 3, limit: 1 });
    expect(report.openings.map((o) => o.eco)).toEqual(["B20"]);
    expect(report.withoutEco).toBe(1);
  });
});

describe("streaks", () => {
  it("finds the longest runs in order of play", () => {
    // W L D W L W W W L D W L W W W W D L L
    const s = streaks(chess.games);
    expect(s.games).toBe(19);
    expect(s.longestWin).toMatchObject({ length: 4, from: "2024-03-01T12:00:00.000Z", to: "2024-03-18T20:20:20.000Z" });
    expect(s.longestLoss).toMatchObject({
      length: 2,
      from: "2024-03-27T22:45:00.000Z",
      to: "2024-03-30T09:30:00.000Z",
    });
    expect(s.longestUnbeaten).toMatchObject({
      length: 5,
      from: "2024-03-01T12:00:00.000Z",
      to: "2024-03-22T21:21:21.000Z",
    });
    expect(s.current).toEqual({ result: "loss", length: 2 });
  });

  it("shows the most recent of equally long runs", () => {
    // Blitz only: W L W W W D L W W W D L
    const s = streaks(chess.games.filter((g) => g.timeClass === "blitz"));
    expect(s.longestWin).toMatchObject({ length: 3, from: "2024-03-01T12:00:00.000Z" });
    expect(s.longestLoss).toMatchObject({ length: 1, from: "2024-03-27T22:45:00.000Z" });
    expect(s.longestUnbeaten).toMatchObject({
      length: 4,
      from: "2024-03-01T12:00:00.000Z",
      to: "2024-03-22T21:21:21.000Z",
    });
    expect(s.current).toEqual({ result: "loss", length: 1 });
    expect(streaks([])).toEqual({
      games: 0,
      longestWin: undefined,
      longestLoss: undefined,
      longestUnbeaten: undefined,
      current: undefined,
    });
  });
});

describe("head-to-head", () => {
  it("counts every game against one opponent, whatever the case of the name", () => {
    const h = headToHead(chess.games, "ENDGAME_EMMA", 3);
    expect(h.total).toEqual(rec(7, 5, 2, 0, 85.7));
    expect(h.white).toEqual(rec(4, 3, 1, 0, 87.5));
    expect(h.black).toEqual(rec(3, 2, 1, 0, 83.3));
    expect(h.byTimeClass.map((t) => [t.timeClass, t.total.wins, t.total.draws, t.total.losses])).toEqual([
      ["blitz", 4, 1, 0],
      ["rapid", 0, 1, 0],
      ["daily", 1, 0, 0],
    ]);
    expect(h.first).toBe("2024-01-03T18:09:40.000Z");
    expect(h.last).toBe("2024-03-18T20:20:20.000Z");
    expect(h.recent.map((g) => g.endTime)).toEqual([1710793220, 1709294400, 1708027199]);
  });

  it("against rook_lift in standard chess", () => {
    const h = headToHead(chess.games, "rook_lift", 10);
    expect(h.total).toEqual(rec(5, 3, 1, 1, 70));
  });
});

describe("PGN", () => {
  it("reads tag pairs and splits a month's download into games", async () => {
    const { value } = await client.monthPgn("nimzo_lover", { year: 2024, month: 3 });
    const games = splitPgn(value);
    expect(games).toHaveLength(8);
    expect(pgnTags(games[0] as string)).toMatchObject({ ECO: "B20", White: "endgame_emma", Black: "Nimzo_Lover" });
    expect(pgnTags('[Event "A \\"quoted\\" name"]\n\n1. e4 *').Event).toBe('A "quoted" name');
    expect(openingName("https://www.chess.com/openings/Italian-Game-Two-Knights-Defense")).toBe(
      "Italian Game Two Knights Defense",
    );
    expect(openingName("https://example.com/other")).toBeUndefined();
  });
});
