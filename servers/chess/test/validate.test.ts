import { describe, expect, it } from "vitest";
import { ChessComError } from "../src/chesscom/errors.js";
import * as v from "../src/chesscom/validate.js";

function refusal(fn: () => unknown): ChessComError {
  try {
    fn();
  } catch (error) {
    if (error instanceof ChessComError) return error;
    throw error;
  }
  throw new Error("expected a refusal");
}

describe("usernames", () => {
  it("lowercases and accepts profile addresses", () => {
    expect(v.username("Hikaru")).toBe("hikaru");
    expect(v.username("  Nimzo_Lover ")).toBe("nimzo_lover");
    expect(v.username("https://www.chess.com/member/Erik")).toBe("erik");
    expect(v.username("https://api.chess.com/pub/player/some-one")).toBe("some-one");
  });

  it.each([
    "",
    "../etc/passwd",
    "a/b",
    "hikaru?x=1",
    "hikaru#frag",
    "%2e%2e",
    "hi karu",
    "hik\naru",
    "ünïcode",
    "a".repeat(51),
    "https://evil.example/member/hikaru",
    "https://www.chess.com/member/../../x",
  ])("refuses %j, naming the argument", (bad) => {
    const error = refusal(() => v.username(bad));
    expect(error.kind).toBe("invalid_argument");
    expect(error.details).toEqual({ argument: "username" });
    expect(error.message).toMatch(/`username`/);
  });

  it("names the argument it was given", () => {
    expect(refusal(() => v.username("x/y", "opponent")).details).toEqual({ argument: "opponent" });
  });
});

describe("ids", () => {
  it("takes club, tournament and match ids from addresses", () => {
    expect(v.clubId("https://www.chess.com/club/chess-com-developer-community")).toBe("chess-com-developer-community");
    expect(v.tournamentId("https://www.chess.com/tournament/-33rd-chesscom-quick-knockouts-1401-1600")).toBe(
      "-33rd-chesscom-quick-knockouts-1401-1600",
    );
    expect(v.tournamentId("https://www.chess.com/tournament/live/titled-tuesday-blitz-1")).toBe(
      "titled-tuesday-blitz-1",
    );
    expect(v.matchRef("https://www.chess.com/club/matches/1530241")).toEqual({ id: 1530241, live: false });
    expect(v.matchRef("https://www.chess.com/club/matches/live/5833")).toEqual({ id: 5833, live: true });
    expect(v.matchRef("https://api.chess.com/pub/match/live/5833")).toEqual({ id: 5833, live: true });
    expect(v.matchRef(42)).toEqual({ id: 42, live: undefined });
    expect(v.matchRef("42")).toEqual({ id: 42, live: undefined });
  });

  it.each([
    ["club", () => v.clubId("a b")],
    ["club", () => v.clubId("../admin")],
    ["tournament", () => v.tournamentId("x/y")],
    ["match", () => v.matchRef("12abc")],
    ["match", () => v.matchRef(-1)],
    ["match", () => v.matchRef(1.5)],
    ["match", () => v.matchRef("https://www.chess.com/club/matches/../1")],
    ["country", () => v.countryCode("USA")],
    ["country", () => v.countryCode("u$")],
    ["title", () => v.title("GOAT")],
  ])("refuses a bad %s", (argument, fn) => {
    const error = refusal(fn);
    expect(error.kind).toBe("invalid_argument");
    expect(error.details).toEqual({ argument });
  });

  it("normalises country codes and titles", () => {
    expect(v.countryCode("no")).toBe("NO");
    expect(v.countryCode("https://api.chess.com/pub/country/XE")).toBe("XE");
    expect(v.title("gm")).toBe("GM");
  });
});

describe("months", () => {
  const now = new Date(Date.UTC(2024, 2, 15));

  it("parses YYYY-MM", () => {
    expect(v.yearMonth("2024-01", "month", now)).toEqual({ year: 2024, month: 1 });
    expect(v.yearMonth("2023/7", "month", now)).toEqual({ year: 2023, month: 7 });
    expect(v.formatMonth({ year: 2024, month: 3 })).toBe("2024-03");
  });

  it.each(["2024-13", "2024-00", "24-01", "January", "2006-12", "2024-04", "2024-01-01"])("refuses %j", (bad) => {
    const error = refusal(() => v.yearMonth(bad, "month", now));
    expect(error.kind).toBe("invalid_argument");
    expect(error.details).toEqual({ argument: "month" });
  });

  it("refuses live time controls out of range", () => {
    expect(v.liveTimeControl(180, 2)).toEqual([180, 2]);
    expect(refusal(() => v.liveTimeControl(0, 2)).details).toEqual({ argument: "baseSeconds" });
    expect(refusal(() => v.liveTimeControl(180, -1)).details).toEqual({ argument: "incrementSeconds" });
  });
});
