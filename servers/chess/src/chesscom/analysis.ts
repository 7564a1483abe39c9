import type { ChessComClient } from "./client.js";
import { ChessComError } from "./errors.js";
import {
  chronological,
  fromPlayerSide,
  type GameFilter,
  matchesFilter,
  type Outcome,
  type PlayerGame,
} from "./games.js";
import { cancelled } from "./queue.js";
import { formatMonth, type YearMonth } from "./validate.js";

/**
 * Analysis the API does not give, computed from a player's monthly archives so the caller gets a
 * few numbers instead of a thousand raw games.
 */

export type WalkOptions = {
  from?: YearMonth | undefined;
  to?: YearMonth | undefined;
  /** At most this many months are read, the most recent ones. */
  maxMonths: number;
  filter: GameFilter;
  /** Read only these months (`YYYY-MM`), e.g. the ones an opponent also played in. */
  onlyMonths?: ReadonlySet<string> | undefined;
  signal?: AbortSignal | undefined;
  onProgress?: ((done: number, total: number, message: string) => void | Promise<void>) | undefined;
};

export type Walked = {
  games: PlayerGame[];
  /** The months read, oldest first (`YYYY-MM`). */
  months: string[];
  /** Months in the range that were left out because of `maxMonths`. */
  skippedMonths: number;
  /** Months in the range with games at all (before the cap). */
  monthsInRange: number;
};

const monthIndex = (m: YearMonth) => m.year * 12 + (m.month - 1);

/** Reads the player's monthly archives in range, one request at a time, reporting progress. */
export async function walkArchives(client: ChessComClient, username: string, options: WalkOptions): Promise<Walked> {
  const { signal } = options;
  const all = await client.archives(username, signal);
  const from = options.from ? monthIndex(options.from) : Number.NEGATIVE_INFINITY;
  const to = options.to ? monthIndex(options.to) : Number.POSITIVE_INFINITY;
  if (from > to) {
    throw new ChessComError("invalid_argument", "`from` must not be after `to`.", { details: { argument: "from" } });
  }
  const inRange = all.filter(
    (m) =>
      monthIndex(m) >= from &&
      monthIndex(m) <= to &&
      (options.onlyMonths === undefined || options.onlyMonths.has(formatMonth(m))),
  );
  const chosen = inRange.slice(Math.max(0, inRange.length - options.maxMonths));
  const games: PlayerGame[] = [];
  await options.onProgress?.(0, chosen.length, `reading ${chosen.length} monthly archive(s)`);
  for (const [index, month] of chosen.entries()) {
    if (signal?.aborted) throw cancelled();
    const { value } = await client.monthGames(username, month, signal);
    let kept = 0;
    for (const raw of value.games ?? []) {
      const game = fromPlayerSide(raw, username);
      if (game && matchesFilter(game, options.filter)) {
        games.push(game);
        kept++;
      }
    }
    await options.onProgress?.(index + 1, chosen.length, `${formatMonth(month)}: ${kept} game(s)`);
  }
  return {
    games: chronological(games),
    months: chosen.map(formatMonth),
    skippedMonths: inRange.length - chosen.length,
    monthsInRange: inRange.length,
  };
}

export type Record3 = {
  games: number;
  wins: number;
  draws: number;
  losses: number;
  /** Points per game as a percentage (a draw is half a point), one decimal. */
  score: number;
};

export function tally(games: Iterable<{ result: Outcome }>): Record3 {
  const record = { games: 0, wins: 0, draws: 0, losses: 0, score: 0 };
  for (const game of games) {
    record.games++;
    if (game.result === "win") record.wins++;
    else if (game.result === "draw") record.draws++;
    else record.losses++;
  }
  record.score = record.games ? round1(((record.wins + record.draws / 2) / record.games) * 100) : 0;
  return record;
}

export type ColourSplit = {
  total: Record3;
  white: Record3;
  black: Record3;
};

export function splitByColour(games: PlayerGame[]): ColourSplit {
  return {
    total: tally(games),
    white: tally(games.filter((g) => g.colour === "white")),
    black: tally(games.filter((g) => g.colour === "black")),
  };
}

export type ResultsReport = ColourSplit & {
  byTimeClass: ({ timeClass: string } & ColourSplit)[];
};

/** Wins, draws and losses by time class and colour. */
export function results(games: PlayerGame[]): ResultsReport {
  return {
    ...splitByColour(games),
    byTimeClass: byTimeClass(games).map(({ key, items }) => ({ timeClass: key, ...splitByColour(items) })),
  };
}

export type MonthRating = {
  month: string;
  games: number;
  /** Ratings after the month's first and last game. */
  first: number;
  last: number;
  min: number;
  max: number;
  /** `last` minus the previous month's `last` (absent for the first month shown). */
  change?: number;
};

export type RatingSeries = {
  timeClass: string;
  months: MonthRating[];
  start: number;
  end: number;
  peak: { rating: number; month: string };
  low: { rating: number; month: string };
};

/** The rating after each rated game, summarised per time class and month. Unrated games never move it. */
export function ratingHistory(games: PlayerGame[]): RatingSeries[] {
  const rated = games.filter((g) => g.rated && g.rating !== undefined);
  return byTimeClass(rated).map(({ key, items }) => {
    const months: MonthRating[] = [];
    for (const { key: month, items: inMonth } of groupBy(items, (g) => g.month)) {
      const ratings = inMonth.map((g) => g.rating as number);
      const entry: MonthRating = {
        month,
        games: ratings.length,
        first: ratings[0] as number,
        last: ratings[ratings.length - 1] as number,
        min: Math.min(...ratings),
        max: Math.max(...ratings),
      };
      const previous = months[months.length - 1];
      if (previous) entry.change = entry.last - previous.last;
      months.push(entry);
    }
    const peak = months.reduce((best, m) => (m.max > best.max ? m : best));
    const low = months.reduce((worst, m) => (m.min < worst.min ? m : worst));
    return {
      timeClass: key,
      months,
      start: months[0]?.first as number,
      end: months[months.length - 1]?.last as number,
      peak: { rating: peak.max, month: peak.month },
      low: { rating: low.min, month: low.month },
    };
  });
}

export type OpeningRow = ColourSplit & {
  eco: string;
  /** The most common opening name among the games with this code. */
  name: string | undefined;
};

export type OpeningsReport = {
  openings: OpeningRow[];
  /** Distinct ECO codes before `limit`/`minGames` cut the list. */
  distinct: number;
  /** Games whose PGN had no ECO header (e.g. Chess960). */
  withoutEco: number;
};

/** Results per ECO code (from the PGN headers), most played first. */
export function openings(games: PlayerGame[], options: { minGames: number; limit: number }): OpeningsReport {
  const withEco = games.filter((g) => g.eco !== undefined);
  const rows = groupBy(withEco, (g) => g.eco as string).map(({ key, items }) => ({
    eco: key,
    name: mostCommon(items.map((g) => g.opening)),
    ...splitByColour(items),
  }));
  rows.sort((a, b) => b.total.games - a.total.games || a.eco.localeCompare(b.eco));
  return {
    openings: rows.filter((r) => r.total.games >= options.minGames).slice(0, options.limit),
    distinct: rows.length,
    withoutEco: games.length - withEco.length,
  };
}

export type Streak = {
  result: "win" | "loss" | "unbeaten";
  length: number;
  /** End times (ISO) of the first and last game of the streak. */
  from: string;
  to: string;
  firstGame: string | undefined;
  lastGame: string | undefined;
};

export type StreaksReport = {
  games: number;
  longestWin: Streak | undefined;
  longestLoss: Streak | undefined;
  /** Longest run without a loss. */
  longestUnbeaten: Streak | undefined;
  /** The run the player is on now: wins, losses or draws in a row. */
  current: { result: Outcome; length: number } | undefined;
};

/** Longest runs in the games' order of play; of equally long runs the most recent is shown. */
export function streaks(games: PlayerGame[]): StreaksReport {
  const ordered = chronological(games);
  const longest = (kind: Streak["result"], counts: (g: PlayerGame) => boolean): Streak | undefined => {
    let best: [number, number] | undefined;
    let start = -1;
    for (let i = 0; i <= ordered.length; i++) {
      const game = ordered[i];
      if (game && counts(game)) {
        if (start === -1) start = i;
        continue;
      }
      if (start !== -1) {
        const length = i - start;
        if (!best || length >= best[1] - best[0]) best = [start, i];
        start = -1;
      }
    }
    if (!best) return undefined;
    const first = ordered[best[0]] as PlayerGame;
    const last = ordered[best[1] - 1] as PlayerGame;
    return {
      result: kind,
      length: best[1] - best[0],
      from: iso(first.endTime),
      to: iso(last.endTime),
      firstGame: first.url,
      lastGame: last.url,
    };
  };
  let current: StreaksReport["current"];
  const latest = ordered[ordered.length - 1];
  if (latest) {
    let length = 0;
    for (let i = ordered.length - 1; i >= 0 && ordered[i]?.result === latest.result; i--) length++;
    current = { result: latest.result, length };
  }
  return {
    games: ordered.length,
    longestWin: longest("win", (g) => g.result === "win"),
    longestLoss: longest("loss", (g) => g.result === "loss"),
    longestUnbeaten: longest("unbeaten", (g) => g.result !== "loss"),
    current,
  };
}

export type HeadToHead = ColourSplit & {
  opponent: string;
  byTimeClass: ({ timeClass: string } & ColourSplit)[];
  first: string | undefined;
  last: string | undefined;
  /** The most recent games, newest first. */
  recent: PlayerGame[];
};

/** Every game against one opponent, from the player's side. */
export function headToHead(games: PlayerGame[], opponent: string, recentCount: number): HeadToHead {
  const against = chronological(games.filter((g) => g.opponent.toLowerCase() === opponent.toLowerCase()));
  const first = against[0];
  const last = against[against.length - 1];
  return {
    opponent: last?.opponent ?? opponent,
    ...results(against),
    first: first ? iso(first.endTime) : undefined,
    last: last ? iso(last.endTime) : undefined,
    recent: against.slice(-recentCount).reverse(),
  };
}

function groupBy<T>(items: T[], key: (item: T) => string): { key: string; items: T[] }[] {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const list = groups.get(k);
    if (list) list.push(item);
    else groups.set(k, [item]);
  }
  return [...groups].map(([k, list]) => ({ key: k, items: list }));
}

function mostCommon(values: (string | undefined)[]): string | undefined {
  const counts = new Map<string, number>();
  let best: string | undefined;
  for (const value of values) {
    if (value === undefined) continue;
    const n = (counts.get(value) ?? 0) + 1;
    counts.set(value, n);
    if (best === undefined || n > (counts.get(best) ?? 0)) best = value;
  }
  return best;
}

const ORDER = ["bullet", "blitz", "rapid", "daily"];
const timeClassOrder = (tc: string) => {
  const i = ORDER.indexOf(tc);
  return i === -1 ? ORDER.length : i;
};

/** Games grouped by time class, fastest first (unknown classes last). */
function byTimeClass<T extends { timeClass: string }>(games: T[]) {
  return groupBy(games, (g) => g.timeClass).sort((a, b) => timeClassOrder(a.key) - timeClassOrder(b.key));
}

const round1 = (n: number) => Math.round(n * 10) / 10;
const iso = (seconds: number) => new Date(seconds * 1000).toISOString();
