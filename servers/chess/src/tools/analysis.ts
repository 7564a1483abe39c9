import { defineTool, sanitizeDeep, type Tool, type ToolContext, ToolError } from "@portside/shared";
import { z } from "zod";
import {
  type ColourSplit,
  headToHead,
  openings,
  type Record3,
  ratingHistory,
  results,
  streaks,
  walkArchives,
} from "../chesscom/analysis.js";
import type { ChessComClient } from "../chesscom/client.js";
import type { GameFilter } from "../chesscom/games.js";
import * as v from "../chesscom/validate.js";
import { formatMonth, type YearMonth } from "../chesscom/validate.js";
import { coverage, guarded, monthArg, READ_ONLY } from "./common.js";
import { gameLine, gameRow } from "./games.js";

const ANALYSES = ["rating_history", "results", "openings", "streaks"] as const;

const rangeArgs = {
  from: monthArg.optional().describe("First month to read (YYYY-MM)."),
  to: monthArg.optional().describe("Last month to read (YYYY-MM); default the latest with games."),
  timeClass: z.enum(["daily", "rapid", "blitz", "bullet"]).optional().describe("Only this time class."),
  rules: z
    .string()
    .regex(/^[a-z0-9]{1,20}$/, "must be a variant name such as chess or chess960, or all")
    .default("chess")
    .describe('Variant: chess (default), chess960, …, or "all" for every variant.'),
  ratedOnly: z.boolean().default(false).describe("Only rated games (rating history always uses rated games)."),
};

/** How many monthly archives one call reads: `fallback` unless asked, never more than the server allows. */
const monthsArg = (fallback: number) =>
  z
    .number()
    .int()
    .min(1)
    .max(600)
    .optional()
    .describe(`Most monthly archives to read (default ${fallback}, at most the server's --max-months).`);

export interface AnalysisLimits {
  /** The server's cap on months read per call. */
  maxMonths: number;
}

export function analyzePlayerTool(client: ChessComClient, limits: AnalysisLimits): Tool {
  return defineTool({
    name: "analyze_player",
    title: "Analyse a Chess.com player's games",
    description:
      "Reads a player's monthly game archives on the server and returns only the results: " +
      "rating_history (rating after each rated game, per time class and month: first, last, min, max, " +
      "change; peak and low), results (wins/draws/losses and score by time class and colour), openings " +
      "(ECO codes from the PGN headers with the opening name, games and score, as white and black) and " +
      "streaks (longest win, loss and unbeaten runs, current run). Reads the most recent `months` " +
      "archives (default 12) within from/to, one request each, sending progress; cancel to stop. " +
      "Defaults to standard chess (rules chess), rated and unrated.",
    input: z.object({
      username: z.string().min(1).max(200).describe("Chess.com username, or the profile address."),
      analyses: z
        .array(z.enum(ANALYSES))
        .min(1)
        .default([...ANALYSES])
        .describe("Which analyses to run."),
      months: monthsArg(12),
      ...rangeArgs,
      minGames: z.number().int().min(1).max(10_000).default(1).describe("openings: leave out rarer ECO codes."),
      openingsLimit: z.number().int().min(1).max(200).default(15).describe("openings: how many to show."),
    }),
    output: z.object({
      username: z.string(),
      range: z.looseObject({ monthsRead: z.number() }),
      filter: z.looseObject({}),
      games: z.number().int(),
      ratingHistory: z.array(z.looseObject({ timeClass: z.string() })).optional(),
      results: z.looseObject({ total: z.looseObject({}) }).optional(),
      openings: z.looseObject({ openings: z.array(z.looseObject({ eco: z.string() })) }).optional(),
      streaks: z.looseObject({ games: z.number() }).optional(),
    }),
    annotations: READ_ONLY,
    timeoutMs: 15 * 60_000,
    async handler(args, ctx) {
      return guarded(async () => {
        const username = v.username(args.username);
        const plan = walkPlan(args, 12, limits);
        const filter = analysisFilter(args);
        const walked = await walkArchives(client, username, { ...plan, filter, ...following(ctx) });
        const wanted = new Set(args.analyses);
        const games = walked.games;
        const data = sanitizeDeep({
          username,
          range: coverage(walked),
          filter: describeFilter(filter),
          games: games.length,
          ...(wanted.has("rating_history") ? { ratingHistory: ratingHistory(games) } : {}),
          ...(wanted.has("results") ? { results: results(games) } : {}),
          ...(wanted.has("openings")
            ? { openings: openings(games, { minGames: args.minGames, limit: args.openingsLimit }) }
            : {}),
          ...(wanted.has("streaks") ? { streaks: streaks(games) } : {}),
        });
        return { data, text: renderAnalysis(data), untrusted: true };
      });
    },
  });
}

export function headToHeadTool(client: ChessComClient, limits: AnalysisLimits): Tool {
  return defineTool({
    name: "analyze_head_to_head",
    title: "Head-to-head between two Chess.com players",
    description:
      "Every game between `username` and `opponent`, from `username`'s side: wins/draws/losses and " +
      "score overall, by colour and by time class, first and last meeting, and the most recent games. " +
      "Only months in which both players have games are read (most recent `months`, default 36), one " +
      "request each, sending progress; cancel to stop.",
    input: z.object({
      username: z.string().min(1).max(200),
      opponent: z.string().min(1).max(200),
      months: monthsArg(36),
      ...rangeArgs,
      recent: z.number().int().min(0).max(100).default(10).describe("How many recent games to list."),
    }),
    output: z.object({
      username: z.string(),
      opponent: z.string(),
      range: z.looseObject({ monthsRead: z.number() }),
      filter: z.looseObject({}),
      total: z.looseObject({ games: z.number() }),
      white: z.looseObject({}),
      black: z.looseObject({}),
      byTimeClass: z.array(z.looseObject({ timeClass: z.string() })),
      first: z.string().optional(),
      last: z.string().optional(),
      recent: z.array(z.looseObject({})),
    }),
    annotations: READ_ONLY,
    timeoutMs: 15 * 60_000,
    async handler(args, ctx) {
      return guarded(async () => {
        const username = v.username(args.username);
        const opponent = v.username(args.opponent, "opponent");
        if (opponent === username) {
          throw new ToolError("invalid_argument", "`opponent` must be a different player from `username`.", {
            details: { argument: "opponent" },
          });
        }
        const plan = walkPlan(args, 36, limits);
        // The opponent's archive list both proves they exist and tells which months can hold games.
        const theirs = new Set((await client.archives(opponent, ctx.signal)).map(formatMonth));
        const filter = { ...analysisFilter(args), opponent };
        const walked = await walkArchives(client, username, { ...plan, filter, onlyMonths: theirs, ...following(ctx) });
        const h2h = headToHead(walked.games, opponent, args.recent);
        const data = sanitizeDeep({
          username,
          ...h2h,
          range: coverage(walked),
          filter: describeFilter(filter),
          recent: h2h.recent.map(gameRow),
        });
        return { data, text: renderHeadToHead(data), untrusted: true };
      });
    },
  });
}

/** Which archives to read: the asked range, and how many of its most recent months. */
function walkPlan(
  args: { months?: number | undefined; from?: string | undefined; to?: string | undefined },
  fallbackMonths: number,
  limits: AnalysisLimits,
) {
  const maxMonths = checkMonths(args.months, fallbackMonths, limits);
  return { ...range(args.from, args.to), maxMonths };
}

/** A walk over many archives stops when the call is cancelled and reports each month read. */
const following = (ctx: ToolContext) => ({
  signal: ctx.signal,
  onProgress: (done: number, total: number, message: string) => ctx.progress(done, total, message),
});

/** The months to read: as asked, or the default within the server's cap. */
function checkMonths(months: number | undefined, fallback: number, limits: AnalysisLimits): number {
  if (months === undefined) return Math.min(fallback, limits.maxMonths);
  if (months > limits.maxMonths) {
    throw new ToolError(
      "invalid_argument",
      `\`months\` may be at most ${limits.maxMonths} on this server (got ${months}).`,
      {
        hint: "Narrow the range with from/to, or ask the operator to raise --max-months.",
        details: { argument: "months" },
      },
    );
  }
  return months;
}

function range(from: string | undefined, to: string | undefined): { from?: YearMonth; to?: YearMonth } {
  const start = from === undefined ? undefined : v.yearMonth(from, "from");
  const end = to === undefined ? undefined : v.yearMonth(to, "to");
  if (start && end && start.year * 12 + start.month > end.year * 12 + end.month) {
    throw new ToolError("invalid_argument", "`from` must not be after `to`.", { details: { argument: "from" } });
  }
  return { ...(start ? { from: start } : {}), ...(end ? { to: end } : {}) };
}

function analysisFilter(args: { timeClass?: string | undefined; rules: string; ratedOnly: boolean }): GameFilter {
  return {
    timeClass: args.timeClass,
    rules: args.rules === "all" ? undefined : args.rules,
    rated: args.ratedOnly ? true : undefined,
  };
}

function describeFilter(filter: GameFilter) {
  return {
    rules: filter.rules ?? "all",
    timeClass: filter.timeClass ?? "all",
    games: filter.rated ? "rated only" : "rated and unrated",
  };
}

const rec = (r: Record3) =>
  `+${r.wins} =${r.draws} -${r.losses} (${r.games} game${r.games === 1 ? "" : "s"}, score ${r.score}%)`;
/** The total, then each colour that was played. */
const split = (s: ColourSplit) =>
  [rec(s.total), s.white.games ? `white ${rec(s.white)}` : "", s.black.games ? `black ${rec(s.black)}` : ""]
    .filter(Boolean)
    .join("; ");

function rangeLine(d: { username: string; range: Record<string, unknown>; games: number }): string[] {
  const r = d.range;
  const lines = [
    `${d.username}: ${d.games} game(s) in ${r.monthsRead} month(s)${r.from ? ` (${r.from} to ${r.to})` : ""}.`,
  ];
  if (r.note) lines.push(String(r.note));
  return lines;
}

function renderAnalysis(d: {
  username: string;
  range: Record<string, unknown>;
  games: number;
  filter: Record<string, string>;
  ratingHistory?: ReturnType<typeof ratingHistory>;
  results?: ReturnType<typeof results>;
  openings?: ReturnType<typeof openings>;
  streaks?: ReturnType<typeof streaks>;
}): string {
  const lines = rangeLine(d);
  lines.push(`Filter: ${d.filter.rules}, ${d.filter.timeClass} time classes, ${d.filter.games}.`);
  if (d.ratingHistory) {
    lines.push("", "Rating history (after each rated game):");
    if (!d.ratingHistory.length) lines.push("  no rated games");
    for (const s of d.ratingHistory) {
      lines.push(
        `  ${s.timeClass}: ${s.start} → ${s.end}, peak ${s.peak.rating} (${s.peak.month}), low ${s.low.rating} (${s.low.month})`,
      );
      for (const m of s.months) {
        const change = m.change === undefined ? "" : ` (${m.change >= 0 ? "+" : ""}${m.change})`;
        lines.push(`    ${m.month}: ${m.games} game(s), last ${m.last}${change}, range ${m.min}–${m.max}`);
      }
    }
  }
  if (d.results) {
    lines.push("", `Results: ${split(d.results)}`);
    for (const t of d.results.byTimeClass) lines.push(`  ${t.timeClass}: ${split(t)}`);
  }
  if (d.openings) {
    const o = d.openings;
    lines.push("", `Openings (${o.distinct} ECO code(s); ${o.withoutEco} game(s) without ECO):`);
    for (const row of o.openings) {
      lines.push(
        `  ${row.eco}${row.name ? ` ${row.name}` : ""}: ${rec(row.total)}; as white ${rec(row.white)}; as black ${rec(row.black)}`,
      );
    }
  }
  if (d.streaks) {
    const s = d.streaks;
    const show = (x: typeof s.longestWin) =>
      x ? `${x.length} (${x.from.slice(0, 10)} to ${x.to.slice(0, 10)})` : "none";
    lines.push(
      "",
      `Streaks over ${s.games} game(s): longest win ${show(s.longestWin)}, longest loss ${show(s.longestLoss)}, longest unbeaten ${show(s.longestUnbeaten)}` +
        (s.current ? `; current: ${s.current.length} ${s.current.result}(s) in a row.` : "."),
    );
  }
  return lines.join("\n");
}

function renderHeadToHead(d: {
  username: string;
  opponent: string;
  range: Record<string, unknown>;
  total: Record3;
  white: Record3;
  black: Record3;
  byTimeClass: ({ timeClass: string } & ColourSplit)[];
  first?: string | undefined;
  last?: string | undefined;
  recent: ReturnType<typeof gameRow>[];
}): string {
  const lines = rangeLine({ username: d.username, range: d.range, games: d.total.games });
  lines.push(`${d.username} vs ${d.opponent}: ${split(d)}`);
  for (const t of d.byTimeClass) lines.push(`  ${t.timeClass}: ${split(t)}`);
  if (d.first) lines.push(`First game ${d.first.slice(0, 10)}, last ${d.last?.slice(0, 10)}.`);
  if (d.recent.length) lines.push("Recent games:", ...d.recent.map((g) => `  ${gameLine(g)}`));
  return lines.join("\n");
}
