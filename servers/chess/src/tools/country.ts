import { defineTool, sanitizeDeep, type Tool } from "@portside/shared";
import { z } from "zod";
import type { ChessComClient } from "../chesscom/client.js";
import * as v from "../chesscom/validate.js";
import { guarded, idFromUrl, limitArg, offsetArg, page, pagedNote, READ_ONLY } from "./common.js";

const VIEWS = ["profile", "players", "clubs"] as const;

export function countryTool(client: ChessComClient): Tool {
  return defineTool({
    name: "get_country",
    title: "Get a Chess.com country",
    description:
      "A country on Chess.com by two-letter ISO 3166 code (Chess.com adds XA–XZ for regions, e.g. XE " +
      "England). `view`: profile (name and code), players (usernames of players who list the country " +
      "and were active recently; lists can be very long, so page with offset/limit) or clubs (club ids " +
      "based there).",
    input: z.object({
      country: z.string().min(1).max(100).describe("ISO 3166 alpha-2 code, e.g. US, NO, IN."),
      view: z.enum(VIEWS).default("profile"),
      offset: offsetArg,
      limit: limitArg(200, 5000),
    }),
    output: z.looseObject({ view: z.enum(VIEWS), country: z.string() }),
    annotations: READ_ONLY,
    async handler({ country, view, offset, limit }, ctx) {
      const { signal } = ctx;
      return guarded(async () => {
        const code = v.countryCode(country);
        if (view === "profile") {
          const c = (await client.country(code, signal)).value;
          return { data: sanitizeDeep({ view, country: c.code ?? code, name: c.name }), untrusted: true };
        }
        const names =
          view === "players"
            ? ((await client.countryPlayers(code, signal)).value.players ?? [])
            : ((await client.countryClubs(code, signal)).value.clubs ?? []).map((url) => idFromUrl(url) ?? url);
        const p = page(names, offset, limit, (items) =>
          ctx.budget.fitItems(items, { reserve: 800, atLeastOne: true, measure: (s) => s.length + 4 }),
        );
        const noun = view === "players" ? "players" : "clubs";
        return {
          data: sanitizeDeep({ view, country: code, [noun]: p }),
          text: `${pagedNote(p, noun)}\n${p.items.join(", ")}`,
          untrusted: true,
        };
      });
    },
  });
}
