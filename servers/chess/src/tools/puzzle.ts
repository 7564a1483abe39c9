import { defineTool, sanitizeDeep, type Tool } from "@portside/shared";
import { z } from "zod";
import type { ChessComClient } from "../chesscom/client.js";
import { compact, guarded, iso, READ_ONLY } from "./common.js";

export function puzzleTool(client: ChessComClient): Tool {
  return defineTool({
    name: "get_puzzle",
    title: "Get a Chess.com puzzle",
    description:
      "Chess.com's daily puzzle (`which`: daily, the default) or a random earlier daily puzzle " +
      "(random). Gives the title, date, position (FEN), side to move and an image link. The solution " +
      "(the PGN moves) is left out unless `includeSolution` is true, so the user can solve it first.",
    input: z.object({
      which: z.enum(["daily", "random"]).default("daily"),
      includeSolution: z.boolean().default(false),
    }),
    output: z.looseObject({ which: z.enum(["daily", "random"]), fen: z.string().optional() }),
    annotations: { ...READ_ONLY, idempotentHint: false },
    async handler({ which, includeSolution }, ctx) {
      return guarded(async () => {
        const p = (which === "daily" ? await client.dailyPuzzle(ctx.signal) : await client.randomPuzzle(ctx.signal))
          .value;
        const fen = p.fen?.trim();
        const toMove = fen?.split(/\s+/)[1] === "b" ? "black" : fen ? "white" : undefined;
        const solution = includeSolution && p.pgn ? movesOf(p.pgn) : undefined;
        const data = sanitizeDeep(
          compact({
            which,
            title: p.title,
            published: iso(p.publish_time),
            fen,
            toMove,
            solution,
            pgn: includeSolution ? p.pgn : undefined,
            image: p.image,
            url: p.url,
          }),
        );
        const text = [
          `${data.title ?? "Puzzle"}${data.published ? ` (${data.published.slice(0, 10)})` : ""}`,
          data.fen ? `FEN: ${data.fen}` : undefined,
          data.toMove ? `${data.toMove} to move` : undefined,
          data.solution ? `Solution: ${data.solution}` : "Solution hidden: call again with includeSolution true.",
          data.url,
        ]
          .filter(Boolean)
          .join("\n");
        return { data, text, untrusted: true };
      });
    },
  });
}

/** The move text of a puzzle's PGN, without its tag pairs. */
function movesOf(pgn: string): string {
  return pgn
    .split(/\r?\n/)
    .filter((line) => !/^\s*\[/.test(line))
    .join(" ")
    .replace(/\s+/g, " ")
    .trim();
}
