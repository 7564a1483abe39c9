import { defineTool, sanitizeDeep, sanitizeText, type Tool, ToolError } from "@portside/shared";
import { z } from "zod";
import { tally } from "../chesscom/analysis.js";
import type { ChessComClient } from "../chesscom/client.js";
import { chronological, fromPlayerSide, type GameFilter, matchesFilter, type PlayerGame } from "../chesscom/games.js";
import { splitPgn } from "../chesscom/pgn.js";
import * as v from "../chesscom/validate.js";
import { formatMonth } from "../chesscom/validate.js";
import {
  budgetFit,
  compact,
  guarded,
  idFromUrl,
  iso,
  limitArg,
  monthArg,
  offsetArg,
  page,
  pagedNote,
  READ_ONLY,
  requiredFor,
} from "./common.js";

const METHODS = ["archives", "month", "month_pgn", "current", "to_move", "live_time_control"] as const;

export const filterArgs = {
  timeClass: z.enum(["daily", "rapid", "blitz", "bullet"]).optional().describe("Only games of this time class."),
  rules: z
    .string()
    .regex(/^[a-z0-9]{1,20}$/, "must be a variant name such as chess or chess960")
    .optional()
    .describe("Only this variant: chess, chess960, bughouse, crazyhouse, kingofthehill, threecheck…"),
  colour: z.enum(["white", "black"]).optional().describe("Only games the player had this colour in."),
  result: z.enum(["win", "draw", "loss"]).optional().describe("Only games the player won, drew or lost."),
  opponent: z.string().max(200).optional().describe("Only games against this username."),
  rated: z.boolean().optional().describe("Only rated (true) or unrated (false) games."),
};

export function gamesTool(client: ChessComClient): Tool {
  return defineTool({
    name: "get_player_games",
    title: "Get a Chess.com player's games",
    description:
      "A player's games. `method`: archives (the months that have games, newest first), month (the " +
      "finished games of one `month`, oldest first, from the player's side: colour, result, how it " +
      "ended, ratings, ECO and opening, accuracy; filter by timeClass, rules, colour, result, " +
      "opponent, rated), month_pgn (the same month as PGN text, paged by game), current (daily games " +
      "in progress), to_move (daily games waiting for the player's move) or live_time_control (all " +
      "live games at one time control: baseSeconds + incrementSeconds, filters apply). Paged with " +
      "offset/limit. For statistics over many months use analyze_player instead of paging raw games.",
    input: z.object({
      username: z.string().min(1).max(200).describe("Chess.com username, or the profile address."),
      method: z.enum(METHODS).default("month"),
      month: monthArg.optional().describe("The month (YYYY-MM) for month and month_pgn."),
      ...filterArgs,
      baseSeconds: z.number().int().optional().describe("live_time_control: base time in seconds, e.g. 180."),
      incrementSeconds: z.number().int().optional().describe("live_time_control: increment in seconds, e.g. 2."),
      offset: offsetArg,
      limit: limitArg(25, 500),
    }),
    output: z.looseObject({ method: z.enum(METHODS), username: z.string() }),
    annotations: READ_ONLY,
    async handler(args, ctx) {
      const { signal } = ctx;
      const { method, offset, limit } = args;
      const fitBudget = budgetFit(ctx.budget);
      return guarded(async () => {
        const username = v.username(args.username);
        const filter = filterOf(args);
        const filtered = Object.values(filter).some((x) => x !== undefined);
        if (filtered && method !== "month" && method !== "live_time_control") {
          throw new ToolError(
            "invalid_argument",
            `Filters apply to methods month and live_time_control, not ${method}.`,
            {
              hint: "Drop timeClass/rules/colour/result/opponent/rated, or use method month.",
              details: { argument: "method" },
            },
          );
        }
        if (method === "archives") {
          const months = (await client.archives(username, signal)).map(formatMonth).reverse();
          const p = page(months, offset, limit);
          return {
            data: { method, username, months: p },
            text: `${pagedNote(p, "months with games")}\n${p.items.join(" ")}`,
          };
        }
        if (method === "month" || method === "month_pgn") {
          if (!args.month) throw requiredFor("month", method);
          const month = v.yearMonth(args.month);
          if (method === "month_pgn") {
            const pgn = (await client.monthPgn(username, month, signal)).value;
            const games = splitPgn(pgn).map(sanitizeText);
            const p = page(games, offset, limit, (items) =>
              ctx.budget.fitItems(items, { reserve: 1000, atLeastOne: true, measure: (g) => g.length + 2 }),
            );
            const note = pagedNote(p, "games");
            return {
              data: { method, username, month: formatMonth(month), games: p },
              text: `${note}\n\n${p.items.join("\n\n")}`,
              untrusted: true,
            };
          }
          const raw = (await client.monthGames(username, month, signal)).value.games ?? [];
          return listGames(method, username, raw, filter, offset, limit, fitBudget, { month: formatMonth(month) });
        }
        if (method === "live_time_control") {
          if (args.baseSeconds === undefined) throw requiredFor("baseSeconds", method);
          const base = args.baseSeconds;
          const increment = args.incrementSeconds ?? 0;
          const raw = (await client.liveGames(username, base, increment, signal)).value.games ?? [];
          return listGames(method, username, raw, filter, offset, limit, fitBudget, {
            timeControl: `${base}+${increment}`,
          });
        }
        if (method === "current") {
          const games = (await client.currentDailyGames(username, signal)).value.games ?? [];
          const rows = games.map((g) =>
            compact({
              white: idFromUrl(g.white),
              black: idFromUrl(g.black),
              turn: g.turn,
              moveBy: iso(g.move_by),
              drawOffer: g.draw_offer ? idFromUrl(g.draw_offer) : undefined,
              timeControl: g.time_control,
              rules: g.rules,
              started: iso(g.start_time),
              lastActivity: iso(g.last_activity),
              fen: g.fen,
              tournament: idFromUrl(g.tournament),
              match: idFromUrl(g.match),
              url: g.url,
            }),
          );
          const p = page(rows, offset, limit, fitBudget);
          const text = [pagedNote(p, "daily games in progress"), ...p.items.map((g) => JSON.stringify(g))].join("\n");
          return { data: sanitizeDeep({ method, username, games: p }), text, untrusted: true };
        }
        const games = (await client.toMoveGames(username, signal)).value.games ?? [];
        const rows = games.map((g) =>
          compact({ url: g.url, moveBy: iso(g.move_by), drawOffer: g.draw_offer, lastActivity: iso(g.last_activity) }),
        );
        const p = page(rows, offset, limit, fitBudget);
        const text = [pagedNote(p, "daily games waiting for a move"), ...p.items.map((g) => JSON.stringify(g))].join(
          "\n",
        );
        return { data: sanitizeDeep({ method, username, games: p }), text, untrusted: true };
      });
    },
  });
}

function listGames(
  method: (typeof METHODS)[number],
  username: string,
  raw: Parameters<typeof fromPlayerSide>[0][],
  filter: GameFilter,
  offset: number,
  limit: number,
  fitBudget: <T>(items: T[]) => { items: T[]; truncated: boolean },
  extra: Record<string, string>,
) {
  const all = raw.map((g) => fromPlayerSide(g, username)).filter((g): g is PlayerGame => g !== undefined);
  const matched = chronological(all.filter((g) => matchesFilter(g, filter)));
  const p = page(matched.map(gameRow), offset, limit, fitBudget);
  const summary = tally(matched);
  const data = sanitizeDeep({
    method,
    username,
    ...extra,
    gamesInSource: all.length,
    matched: matched.length,
    summary,
    games: p,
  });
  const head = `${matched.length} of ${all.length} game(s) match: +${summary.wins} =${summary.draws} -${summary.losses} (score ${summary.score}%). ${pagedNote(p, "games")}`;
  return { data, text: [head, ...p.items.map(gameLine)].join("\n"), untrusted: true };
}

export function gameRow(g: PlayerGame) {
  return compact({
    ended: iso(g.endTime),
    timeClass: g.timeClass,
    timeControl: g.timeControl,
    rules: g.rules === "chess" ? undefined : g.rules,
    rated: g.rated ? undefined : false,
    colour: g.colour,
    result: g.result,
    ending: g.ending,
    rating: g.rating,
    opponent: g.opponent,
    opponentRating: g.opponentRating,
    eco: g.eco,
    opening: g.opening,
    accuracy: g.accuracy,
    opponentAccuracy: g.opponentAccuracy,
    url: g.url,
  });
}

export function gameLine(g: ReturnType<typeof gameRow>): string {
  return [
    `${g.ended?.slice(0, 16).replace("T", " ")} ${g.timeClass}${g.timeControl ? ` ${g.timeControl}` : ""}${g.rules ? ` ${g.rules}` : ""}${g.rated === false ? " unrated" : ""}`,
    `${g.colour} vs ${g.opponent}${g.opponentRating ? ` (${g.opponentRating})` : ""}: ${g.result} by ${g.ending}${g.rating ? `, rating ${g.rating}` : ""}`,
    g.eco ? `${g.eco}${g.opening ? ` ${g.opening}` : ""}` : g.opening,
    g.url,
  ]
    .filter(Boolean)
    .join(" | ");
}

export function filterOf(args: {
  timeClass?: string | undefined;
  rules?: string | undefined;
  colour?: "white" | "black" | undefined;
  result?: "win" | "draw" | "loss" | undefined;
  opponent?: string | undefined;
  rated?: boolean | undefined;
}): GameFilter {
  return {
    timeClass: args.timeClass,
    rules: args.rules,
    colour: args.colour,
    result: args.result,
    opponent: args.opponent === undefined ? undefined : v.username(args.opponent, "opponent"),
    rated: args.rated,
  };
}
