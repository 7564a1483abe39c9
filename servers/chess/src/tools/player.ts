import { defineTool, sanitizeDeep, type Tool } from "@portside/shared";
import { z } from "zod";
import type { ChessComClient } from "../chesscom/client.js";
import type { GameTypeStats, PlayerProfile, PlayerStats } from "../chesscom/types.js";
import {
  budgetFit,
  byStatus,
  compact,
  guarded,
  idFromUrl,
  iso,
  limitArg,
  offsetArg,
  page,
  pagedNote,
  READ_ONLY,
} from "./common.js";

const VIEWS = ["summary", "profile", "stats", "clubs", "matches", "tournaments"] as const;

export function playerTool(client: ChessComClient): Tool {
  return defineTool({
    name: "get_player",
    title: "Get a Chess.com player",
    description:
      "Looks up one Chess.com player. `view`: summary (default: profile plus current and best rating, " +
      "win/loss/draw record per game type, tactics, Puzzle Rush), profile, stats (the raw stats), clubs " +
      "(clubs joined), matches (daily team matches: finished, in progress, registered) or tournaments " +
      "(finished, in progress, registered). Lists are paged with offset/limit. For games use " +
      "get_player_games; for rating history, openings and streaks use analyze_player.",
    input: z.object({
      username: z.string().min(1).max(200).describe("Chess.com username, or the profile address."),
      view: z.enum(VIEWS).default("summary"),
      offset: offsetArg,
      limit: limitArg(50, 500),
    }),
    output: z.looseObject({ view: z.enum(VIEWS), username: z.string().optional() }),
    annotations: READ_ONLY,
    async handler({ username, view, offset, limit }, ctx) {
      const { signal } = ctx;
      return guarded(async () => {
        if (view === "summary") {
          const profile = (await client.profile(username, signal)).value;
          const stats = (await client.stats(username, signal)).value;
          const data = sanitizeDeep({ view, ...profileSummary(profile), ...statsSummary(stats) });
          return { data, text: renderSummary(data), untrusted: true };
        }
        if (view === "profile") {
          const profile = (await client.profile(username, signal)).value;
          return { data: sanitizeDeep({ view, ...profileSummary(profile), raw: profile }), untrusted: true };
        }
        if (view === "stats") {
          const stats = (await client.stats(username, signal)).value;
          return { data: sanitizeDeep({ view, username, ...statsSummary(stats), raw: stats }), untrusted: true };
        }
        const fitBudget = budgetFit(ctx.budget);
        if (view === "clubs") {
          const clubs = (await client.playerClubs(username, signal)).value.clubs ?? [];
          const rows = clubs.map((c) =>
            compact({
              name: c.name as string | undefined,
              club: idFromUrl(c["@id"]),
              joined: iso(c.joined),
              lastActivity: iso(c.last_activity),
              url: c.url as string | undefined,
            }),
          );
          const p = page(rows, offset, limit, fitBudget);
          return {
            data: sanitizeDeep({ view, username, clubs: p }),
            text: listText(pagedNote(p, "clubs"), p.items),
            untrusted: true,
          };
        }
        const lists =
          view === "matches"
            ? (await client.playerMatches(username, signal)).value
            : (await client.playerTournaments(username, signal)).value;
        const rows = byStatus(lists, (entry, status) =>
          view === "matches" ? matchRow(entry, status) : tournamentRow(entry, status),
        );
        const p = page(rows, offset, limit, fitBudget);
        const data = sanitizeDeep({ view, username, [view]: p });
        return {
          data,
          text: listText(pagedNote(p, view === "matches" ? "team matches" : "tournaments"), p.items),
          untrusted: true,
        };
      });
    },
  });
}

function profileSummary(p: PlayerProfile) {
  return compact({
    username: p.username,
    name: p.name,
    title: p.title,
    status: p.status,
    country: idFromUrl(p.country),
    location: p.location,
    joined: iso(p.joined),
    lastOnline: iso(p.last_online),
    followers: p.followers,
    league: p.league,
    fide: p.fide,
    verified: p.verified,
    isStreamer: p.is_streamer,
    streams: p.streaming_platforms?.length ? p.streaming_platforms.map((s) => s.channel_url) : undefined,
    url: p.url,
    avatar: p.avatar,
  });
}

const GAME_TYPE = /^([a-z0-9]+)_(daily|rapid|blitz|bullet)$/;

function statsSummary(stats: PlayerStats) {
  const ratings = Object.entries(stats)
    .filter(([key]) => GAME_TYPE.test(key))
    .map(([key, raw]) => {
      const s = raw as GameTypeStats;
      const [, rules, timeClass] = GAME_TYPE.exec(key) as RegExpExecArray;
      const win = s.record?.win ?? 0;
      const loss = s.record?.loss ?? 0;
      const draw = s.record?.draw ?? 0;
      return compact({
        type: key,
        rules,
        timeClass,
        rating: s.last?.rating,
        rd: s.last?.rd,
        asOf: iso(s.last?.date),
        best: s.best?.rating,
        bestOn: iso(s.best?.date),
        bestGame: s.best?.game,
        wins: win,
        losses: loss,
        draws: draw,
        games: win + loss + draw,
        timeoutPercent: s.record?.timeout_percent,
        tournaments: s.tournament?.count,
      });
    });
  return compact({
    ratings,
    tactics: stats.tactics
      ? compact({ highest: stats.tactics.highest?.rating, lowest: stats.tactics.lowest?.rating })
      : undefined,
    puzzleRush: stats.puzzle_rush?.best
      ? compact({ best: stats.puzzle_rush.best.score, attempts: stats.puzzle_rush.best.total_attempts })
      : undefined,
    fide: typeof stats.fide === "number" && stats.fide > 0 ? stats.fide : undefined,
  });
}

function matchRow(entry: Record<string, unknown>, status: string) {
  const results = entry.results as { played_as_white?: string; played_as_black?: string } | undefined;
  return compact({
    status,
    name: entry.name as string | undefined,
    match: idFromUrl(entry["@id"]),
    club: idFromUrl(entry.club),
    board: idFromUrl(entry.board),
    playedAsWhite: results?.played_as_white,
    playedAsBlack: results?.played_as_black,
    url: entry.url as string | undefined,
  });
}

function tournamentRow(entry: Record<string, unknown>, status: string) {
  return compact({
    status,
    tournament: idFromUrl(entry["@id"]),
    placement: entry.placement as number | undefined,
    players: entry.total_players as number | undefined,
    wins: entry.wins as number | undefined,
    losses: entry.losses as number | undefined,
    draws: entry.draws as number | undefined,
    points: entry.points_awarded as number | undefined,
    result: entry.status as string | undefined,
    url: entry.url as string | undefined,
  });
}

function renderSummary(d: ReturnType<typeof profileSummary> & ReturnType<typeof statsSummary>): string {
  const head = [
    `${d.title ? `${d.title} ` : ""}${d.username}${d.name ? ` (${d.name})` : ""}`,
    [
      d.country && `country ${d.country}`,
      d.status && `status ${d.status}`,
      d.joined && `joined ${d.joined.slice(0, 10)}`,
      d.lastOnline && `last online ${d.lastOnline.slice(0, 10)}`,
      d.followers !== undefined && `${d.followers} followers`,
      d.league && `league ${d.league}`,
    ]
      .filter(Boolean)
      .join(", "),
  ];
  const lines = (d.ratings ?? []).map(
    (r) =>
      `${r.type}: ${r.rating ?? "—"}${r.best ? ` (best ${r.best})` : ""}, +${r.wins} =${r.draws} -${r.losses} in ${r.games} games`,
  );
  if (d.tactics) lines.push(`tactics: highest ${d.tactics.highest ?? "—"}`);
  if (d.puzzleRush) lines.push(`puzzle rush: best ${d.puzzleRush.best ?? "—"}`);
  if (d.fide) lines.push(`FIDE (self-reported): ${d.fide}`);
  return [...head, ...lines].join("\n");
}

const listText = (note: string, items: unknown[]) => [note, ...items.map((i) => JSON.stringify(i))].join("\n");
