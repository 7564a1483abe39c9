import { defineTool, sanitizeDeep, type Tool } from "@portside/shared";
import { z } from "zod";
import type { ChessComClient } from "../chesscom/client.js";
import * as v from "../chesscom/validate.js";
import {
  budgetFit,
  byStatus,
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

const VIEWS = ["profile", "members", "matches"] as const;
const ACTIVITY = ["weekly", "monthly", "all_time"] as const;

export function clubTool(client: ChessComClient): Tool {
  return defineTool({
    name: "get_club",
    title: "Get a Chess.com club",
    description:
      "One Chess.com club by its URL id (e.g. chess-com-developer-community) or address. `view`: " +
      "profile (default: name, members, average daily rating, admins, description), members (username " +
      "and join date, grouped by how recently they were active: weekly, monthly, all_time; pick one " +
      "with `activity`) or matches (the club's daily team matches: in progress, registered, finished " +
      "with result). Lists are paged with offset/limit.",
    input: z.object({
      club: z.string().min(1).max(300).describe("Club URL id or address."),
      view: z.enum(VIEWS).default("profile"),
      activity: z.enum(ACTIVITY).optional().describe("members: only members last active in this window."),
      offset: offsetArg,
      limit: limitArg(100, 1000),
    }),
    output: z.looseObject({ view: z.enum(VIEWS), club: z.string() }),
    annotations: READ_ONLY,
    async handler({ club, view, activity, offset, limit }, ctx) {
      const { signal } = ctx;
      const fitBudget = budgetFit(ctx.budget);
      return guarded(async () => {
        const id = v.clubId(club);
        if (view === "profile") {
          const c = (await client.club(id, signal)).value;
          const data = sanitizeDeep(
            compact({
              view,
              club: id,
              name: c.name,
              clubId: c.club_id,
              country: idFromUrl(c.country),
              members: c.members_count,
              averageDailyRating: c.average_daily_rating,
              created: iso(c.created),
              lastActivity: iso(c.last_activity),
              visibility: c.visibility,
              admins: c.admin?.map(idFromUrl),
              description: htmlToText(c.description),
              joinRequest: c.join_request,
              url: c.url,
              icon: c.icon,
            }),
          );
          return { data, untrusted: true };
        }
        if (view === "members") {
          const groups = (await client.clubMembers(id, signal)).value;
          const counts = Object.fromEntries(ACTIVITY.map((a) => [a, groups[a]?.length ?? 0]));
          const rows = (activity ? [activity] : ACTIVITY).flatMap((a) =>
            (groups[a] ?? []).map((m) => compact({ username: m.username, joined: iso(m.joined), activity: a })),
          );
          const p = page(rows, offset, limit, fitBudget);
          const data = sanitizeDeep({ view, club: id, counts, members: p });
          const text = [
            `Members by last activity: weekly ${counts.weekly}, monthly ${counts.monthly}, all_time ${counts.all_time}.`,
            pagedNote(p, "members"),
            ...p.items.map((m) => `${m.username} (${m.activity}, joined ${m.joined?.slice(0, 10) ?? "?"})`),
          ].join("\n");
          return { data, text, untrusted: true };
        }
        const lists = (await client.clubMatches(id, signal)).value;
        const rows = byStatus(lists, (m, status) =>
          compact({
            status,
            name: m.name as string | undefined,
            match: idFromUrl(m["@id"]),
            opponent: idFromUrl(m.opponent),
            timeClass: m.time_class as string | undefined,
            start: iso(m.start_time),
            result: m.result as string | undefined,
          }),
        );
        const p = page(rows, offset, limit, fitBudget);
        const text = [pagedNote(p, "team matches"), ...p.items.map((m) => JSON.stringify(m))].join("\n");
        return { data: sanitizeDeep({ view, club: id, matches: p }), text, untrusted: true };
      });
    },
  });
}
