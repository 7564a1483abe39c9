import { defineTool, sanitizeDeep, type Tool } from "@portside/shared";
import { z } from "zod";
import type { ChessComClient } from "../chesscom/client.js";
import * as v from "../chesscom/validate.js";
import { compact, guarded, htmlToText, idFromUrl, iso, limitArg, READ_ONLY } from "./common.js";

export function matchTool(client: ChessComClient): Tool {
  return defineTool({
    name: "get_team_match",
    title: "Get a Chess.com team match",
    description:
      "A club-vs-club team match, daily or live, by numeric id or address. Without `board`: name, " +
      "status, settings, and both teams with score and players (board, rating, results as white and " +
      "black). With `board`: that board's scores and games. A bare id is looked up as a daily match " +
      "first, then as a live one; pass `live` to say which.",
    input: z.object({
      match: z.union([z.string().min(1).max(300), z.number().int()]).describe("Match id or address."),
      board: z.number().int().min(1).max(10_000).optional(),
      live: z.boolean().optional().describe("true for a live team match, false for a daily one."),
      limit: limitArg(100, 1000).describe("Players shown per team, at most 1000."),
    }),
    output: z.looseObject({ match: z.number(), type: z.enum(["daily", "live"]) }),
    annotations: READ_ONLY,
    async handler({ match, board, live, limit }, ctx) {
      const { signal } = ctx;
      return guarded(async () => {
        const id = v.matchRef(match).id;
        if (board !== undefined) {
          const b = await client.matchBoard(match, board, live, signal);
          const games = ((b.value.games as Record<string, unknown>[] | undefined) ?? []).map(boardGame);
          return {
            data: sanitizeDeep({
              match: id,
              type: b.live ? ("live" as const) : ("daily" as const),
              board,
              scores: (b.value.board_scores as Record<string, number> | undefined) ?? {},
              games,
            }),
            untrusted: true,
          };
        }
        const m = await client.match(match, live, signal);
        const t = m.value;
        const teams = (t.teams as Record<string, Record<string, unknown>> | undefined) ?? {};
        const data = sanitizeDeep(
          compact({
            match: id,
            type: m.live ? ("live" as const) : ("daily" as const),
            name: t.name as string | undefined,
            status: t.status as string | undefined,
            start: iso(t.start_time),
            end: iso(t.end_time),
            boards: t.boards as number | undefined,
            settings: t.settings as Record<string, unknown> | undefined,
            description: htmlToText(t.description),
            teams: Object.fromEntries(Object.entries(teams).map(([key, team]) => [key, teamSummary(team, limit)])),
            url: t.url as string | undefined,
          }),
        );
        return { data, untrusted: true };
      });
    },
  });
}

function teamSummary(team: Record<string, unknown>, limit: number) {
  const players = (team.players as Record<string, unknown>[] | undefined) ?? [];
  return compact({
    club: idFromUrl(team["@id"]),
    name: team.name as string | undefined,
    score: team.score as number | undefined,
    result: team.result as string | undefined,
    playerCount: players.length,
    players: players.slice(0, limit).map((p) =>
      compact({
        username: p.username as string | undefined,
        board: idFromUrl(p.board),
        rating: p.rating as number | undefined,
        timeoutPercent: p.timeout_percent as number | undefined,
        status: p.status as string | undefined,
        playedAsWhite: p.played_as_white as string | undefined,
        playedAsBlack: p.played_as_black as string | undefined,
      }),
    ),
    more: players.length > limit ? `${players.length - limit} more player(s); raise limit to see them.` : undefined,
  });
}

function boardGame(game: Record<string, unknown>) {
  const side = (s: unknown) => {
    const o = (s ?? {}) as Record<string, unknown>;
    return compact({
      username: (o.username as string | undefined) ?? idFromUrl(o["@id"]),
      rating: o.rating as number | undefined,
      result: o.result as string | undefined,
      team: idFromUrl(o.team),
    });
  };
  return compact({
    white: side(game.white),
    black: side(game.black),
    ended: iso(game.end_time),
    timeClass: game.time_class as string | undefined,
    timeControl: game.time_control as string | undefined,
    fen: game.fen as string | undefined,
    url: game.url as string | undefined,
  });
}
