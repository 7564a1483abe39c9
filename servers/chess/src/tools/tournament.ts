import { defineTool, sanitizeDeep, type Tool, ToolError } from "@portside/shared";
import { z } from "zod";
import type { ChessComClient } from "../chesscom/client.js";
import * as v from "../chesscom/validate.js";
import {
  budgetFit,
  compact,
  guarded,
  htmlToText,
  idFromUrl,
  iso,
  limitArg,
  offsetArg,
  page,
  pagedNote,
  READ_ONLY,
} from "./common.js";

export function tournamentTool(client: ChessComClient): Tool {
  return defineTool({
    name: "get_tournament",
    title: "Get a Chess.com tournament",
    description:
      "A Chess.com tournament by URL id (e.g. -33rd-chesscom-quick-knockouts-1401-1600) or address. " +
      "Without `round`: name, status, settings, description, players and the round numbers. With " +
      "`round`: that round's groups and players (advancing or not). With `round` and `group`: the " +
      "group's standings (points, tie-break) and games. Players and games are paged with offset/limit.",
    input: z.object({
      tournament: z.string().min(1).max(300).describe("Tournament URL id or address."),
      round: z.number().int().min(1).max(1000).optional(),
      group: z.number().int().min(1).max(10_000).optional().describe("Needs `round`."),
      offset: offsetArg,
      limit: limitArg(100, 1000),
    }),
    output: z.looseObject({ tournament: z.string() }),
    annotations: READ_ONLY,
    async handler({ tournament, round, group, offset, limit }, ctx) {
      const { signal } = ctx;
      const fitBudget = budgetFit(ctx.budget, 2500);
      return guarded(async () => {
        const id = v.tournamentId(tournament);
        if (group !== undefined && round === undefined) {
          throw new ToolError("invalid_argument", "`group` needs `round`: groups are numbered within a round.", {
            details: { argument: "group" },
          });
        }
        if (round === undefined) {
          const t = (await client.tournament(id, signal)).value;
          const players = (t.players as { username?: string; status?: string }[] | undefined) ?? [];
          const p = page(
            players.map((x) => compact({ username: x.username, status: x.status })),
            offset,
            limit,
            fitBudget,
          );
          const rounds = ((t.rounds as string[] | undefined) ?? []).map((url) => Number(idFromUrl(url)));
          const data = sanitizeDeep(
            compact({
              tournament: id,
              name: t.name as string | undefined,
              status: t.status as string | undefined,
              creator: t.creator as string | undefined,
              finished: iso(t.finish_time),
              settings: t.settings as Record<string, unknown> | undefined,
              description: htmlToText(t.description),
              rounds,
              players: p,
              url: t.url as string | undefined,
            }),
          );
          return { data, untrusted: true };
        }
        if (group === undefined) {
          const r = (await client.tournamentRound(id, round, signal)).value;
          const groups = ((r.groups as string[] | undefined) ?? []).map((url) => Number(idFromUrl(url)));
          const players = (r.players as { username?: string; is_advancing?: boolean }[] | undefined) ?? [];
          const p = page(
            players.map((x) => compact({ username: x.username, advancing: x.is_advancing })),
            offset,
            limit,
            fitBudget,
          );
          const advancing = players.filter((x) => x.is_advancing).length;
          return {
            data: sanitizeDeep({ tournament: id, round, groups, advancing, players: p }),
            text: [
              `Round ${round}: ${groups.length} group(s), ${players.length} player(s), ${advancing} advancing.`,
              pagedNote(p, "players"),
              ...p.items.map((x) => `${x.username}${x.advancing ? " (advancing)" : ""}`),
            ].join("\n"),
            untrusted: true,
          };
        }
        const g = (await client.tournamentGroup(id, round, group, signal)).value;
        const standings = ((g.players as Record<string, unknown>[] | undefined) ?? [])
          .map((x) =>
            compact({
              username: x.username as string | undefined,
              points: x.points as number | undefined,
              tieBreak: x.tie_break as number | undefined,
              advancing: x.is_advancing as boolean | undefined,
            }),
          )
          .sort((a, b) => (b.points ?? 0) - (a.points ?? 0) || (b.tieBreak ?? 0) - (a.tieBreak ?? 0));
        const games = ((g.games as Record<string, unknown>[] | undefined) ?? []).map(groupGame);
        const p = page(games, offset, limit, fitBudget);
        return {
          data: sanitizeDeep({
            tournament: id,
            round,
            group,
            standings,
            fairPlayRemovals: (g.fair_play_removals as string[] | undefined) ?? [],
            games: p,
          }),
          untrusted: true,
        };
      });
    },
  });
}

function side(value: unknown): { username?: string; rating?: number; result?: string } {
  if (typeof value === "string") return { username: idFromUrl(value) };
  const s = (value ?? {}) as Record<string, unknown>;
  return compact({
    username: (s.username as string | undefined) ?? idFromUrl(s["@id"]),
    rating: s.rating as number | undefined,
    result: s.result as string | undefined,
  });
}

function groupGame(game: Record<string, unknown>) {
  return compact({
    white: side(game.white),
    black: side(game.black),
    timeClass: game.time_class as string | undefined,
    timeControl: game.time_control as string | undefined,
    ended: iso(game.end_time),
    turn: game.turn as string | undefined,
    moveBy: iso(game.move_by),
    url: game.url as string | undefined,
  });
}
