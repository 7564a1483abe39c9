import { defineTool, sanitizeDeep, type Tool, ToolError } from "@portside/shared";
import { z } from "zod";
import type { ChessComClient } from "../chesscom/client.js";
import type { LeaderboardEntry } from "../chesscom/types.js";
import { TITLES } from "../chesscom/validate.js";
import {
  budgetFit,
  compact,
  guarded,
  idFromUrl,
  limitArg,
  offsetArg,
  page,
  pagedNote,
  READ_ONLY,
  requiredFor,
} from "./common.js";

const METHODS = ["leaderboard", "titled", "streamers"] as const;

export function listPlayersTool(client: ChessComClient): Tool {
  return defineTool({
    name: "list_players",
    title: "List Chess.com players",
    description:
      "Site-wide lists of players. `method`: leaderboard (top 50 per `category`, e.g. live_blitz, " +
      "live_rapid, live_bullet, daily, daily960, tactics, rush, battle, live_blitz960, " +
      "live_bughouse, live_crazyhouse, live_kingofthehill, live_threecheck; without a category, the " +
      "top few of every category), titled (usernames holding a `title`: GM, WGM, IM, WIM, FM, WFM, NM, " +
      "WNM, CM, WCM) or streamers (Chess.com streamers; `liveOnly` for those live now). Paged with " +
      "offset/limit.",
    input: z.object({
      method: z.enum(METHODS),
      category: z
        .string()
        .regex(/^[a-z0-9_]{1,40}$/, "must be a leaderboard name such as live_blitz")
        .optional()
        .describe("leaderboard: which board."),
      title: z.enum(TITLES).optional().describe("titled: which title."),
      liveOnly: z.boolean().default(false).describe("streamers: only those live now."),
      offset: offsetArg,
      limit: limitArg(50, 5000),
    }),
    output: z.looseObject({ method: z.enum(METHODS) }),
    annotations: READ_ONLY,
    async handler({ method, category, title, liveOnly, offset, limit }, ctx) {
      const { signal } = ctx;
      const fitBudget = budgetFit(ctx.budget);
      return guarded(async () => {
        if (method === "titled") {
          if (!title) throw requiredFor("title", method);
          const players = (await client.titled(title, signal)).value.players ?? [];
          const p = page(players, offset, limit, fitBudget);
          return {
            data: sanitizeDeep({ method, title, players: p }),
            text: `${pagedNote(p, `${title} players`)}\n${p.items.join(", ")}`,
            untrusted: true,
          };
        }
        if (method === "streamers") {
          const all = (await client.streamers(signal)).value.streamers ?? [];
          const rows = all
            .filter((s) => !liveOnly || s.is_live || s.platforms?.some((x) => x.is_live))
            .map((s) =>
              compact({
                username: s.username,
                live: Boolean(s.is_live || s.platforms?.some((x) => x.is_live)),
                community: s.is_community_streamer,
                channels:
                  s.platforms?.map((x) => x.channel_url).filter(Boolean) ?? (s.twitch_url ? [s.twitch_url] : []),
                url: s.url,
              }),
            );
          const p = page(rows, offset, limit, fitBudget);
          return {
            data: sanitizeDeep({ method, liveOnly, streamers: p }),
            text: [
              pagedNote(p, liveOnly ? "live streamers" : "streamers"),
              ...p.items.map((s) => JSON.stringify(s)),
            ].join("\n"),
            untrusted: true,
          };
        }
        const boards = (await client.leaderboards(signal)).value;
        const categories = Object.keys(boards).filter((k) => Array.isArray(boards[k]));
        if (!category) {
          const top = Math.min(limit, 5);
          const overview = Object.fromEntries(categories.map((c) => [c, (boards[c] ?? []).slice(0, top).map(entry)]));
          return {
            data: sanitizeDeep({ method, categories, top: overview }),
            text: categories
              .map((c) => `${c}: ${(overview[c] ?? []).map((e) => `${e.rank}. ${e.username} ${e.score}`).join(", ")}`)
              .join("\n"),
            untrusted: true,
          };
        }
        if (!categories.includes(category)) {
          throw new ToolError("invalid_argument", `\`category\` ${JSON.stringify(category)} is not a leaderboard.`, {
            hint: `Use one of: ${categories.join(", ")}.`,
            details: { argument: "category" },
          });
        }
        const p = page((boards[category] ?? []).map(entry), offset, limit, fitBudget);
        return {
          data: sanitizeDeep({ method, category, entries: p }),
          text: [
            pagedNote(p, `${category} leaders`),
            ...p.items.map(
              (e) =>
                `${e.rank}. ${e.title ? `${e.title} ` : ""}${e.username} ${e.score}${e.country ? ` (${e.country})` : ""}`,
            ),
          ].join("\n"),
          untrusted: true,
        };
      });
    },
  });
}

function entry(e: LeaderboardEntry) {
  return compact({
    rank: e.rank,
    username: e.username,
    score: e.score,
    title: e.title,
    name: e.name,
    country: idFromUrl(e.country),
    wins: e.win_count,
    losses: e.loss_count,
    draws: e.draw_count,
    trend: e.trend_score?.delta !== undefined ? (e.trend_score.direction ?? 1) * e.trend_score.delta : undefined,
    url: e.url,
  });
}
