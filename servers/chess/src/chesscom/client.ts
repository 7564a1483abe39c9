import { ChessComError, isChessComError } from "./errors.js";
import { ChessComHttp, type Fetched, type HttpOptions, type Resource } from "./http.js";
import type {
  ArchivedGame,
  Club,
  ClubMembers,
  Country,
  DailyGame,
  Leaderboards,
  PlayerProfile,
  PlayerStats,
  Puzzle,
  Streamer,
  ToMoveGame,
} from "./types.js";
import * as v from "./validate.js";
import { formatMonth, type MatchRef, type YearMonth } from "./validate.js";

const PLAYER_HINT = "Check the spelling: the username is the last part of the profile address chess.com/member/<name>.";

/**
 * A typed client for the Chess.com Published-Data API. Every argument is validated before a request
 * is built; every request goes through one serial, caching {@link ChessComHttp}.
 */
export class ChessComClient {
  readonly http: ChessComHttp;

  constructor(options: HttpOptions) {
    this.http = new ChessComHttp(options);
  }

  close(): Promise<void> {
    return this.http.close();
  }

  // Players

  async profile(username: string, signal?: AbortSignal): Promise<Fetched<PlayerProfile>> {
    const name = v.username(username);
    return this.http.getJson(`/player/${name}`, player(name), signal);
  }

  async stats(username: string, signal?: AbortSignal): Promise<Fetched<PlayerStats>> {
    const name = v.username(username);
    return this.http.getJson(`/player/${name}/stats`, player(name), signal);
  }

  async playerClubs(username: string, signal?: AbortSignal) {
    const name = v.username(username);
    return this.http.getJson<{ clubs?: Record<string, unknown>[] }>(`/player/${name}/clubs`, player(name), signal);
  }

  async playerMatches(username: string, signal?: AbortSignal) {
    const name = v.username(username);
    return this.http.getJson<Partial<Record<"finished" | "in_progress" | "registered", Record<string, unknown>[]>>>(
      `/player/${name}/matches`,
      player(name),
      signal,
    );
  }

  async playerTournaments(username: string, signal?: AbortSignal) {
    const name = v.username(username);
    return this.http.getJson<Partial<Record<"finished" | "in_progress" | "registered", Record<string, unknown>[]>>>(
      `/player/${name}/tournaments`,
      player(name),
      signal,
    );
  }

  async currentDailyGames(username: string, signal?: AbortSignal) {
    const name = v.username(username);
    return this.http.getJson<{ games?: DailyGame[] }>(`/player/${name}/games`, player(name), signal);
  }

  async toMoveGames(username: string, signal?: AbortSignal) {
    const name = v.username(username);
    return this.http.getJson<{ games?: ToMoveGame[] }>(`/player/${name}/games/to-move`, player(name), signal);
  }

  /** The months with games, oldest first. */
  async archives(username: string, signal?: AbortSignal): Promise<YearMonth[]> {
    const name = v.username(username);
    const { value } = await this.http.getJson<{ archives?: string[] }>(
      `/player/${name}/games/archives`,
      player(name),
      signal,
    );
    const months: YearMonth[] = [];
    for (const url of value.archives ?? []) {
      // The list holds absolute api.chess.com URLs; only the month is taken from them.
      const match = /\/games\/(\d{4})\/(\d{2})\/?$/.exec(url);
      if (match) months.push({ year: Number(match[1]), month: Number(match[2]) });
    }
    return months.sort((a, b) => a.year * 12 + a.month - (b.year * 12 + b.month));
  }

  async monthGames(username: string, month: YearMonth, signal?: AbortSignal) {
    const name = v.username(username);
    return this.http.getJson<{ games?: ArchivedGame[] }>(monthPath(name, month), monthResource(name, month), signal);
  }

  async monthPgn(username: string, month: YearMonth, signal?: AbortSignal): Promise<Fetched<string>> {
    const name = v.username(username);
    return this.http.getText(`${monthPath(name, month)}/pgn`, monthResource(name, month), signal);
  }

  async liveGames(username: string, baseSeconds: number, incrementSeconds: number, signal?: AbortSignal) {
    const name = v.username(username);
    const [base, increment] = v.liveTimeControl(baseSeconds, incrementSeconds);
    return this.http.getJson<{ games?: ArchivedGame[] }>(
      `/player/${name}/games/live/${base}/${increment}`,
      {
        notFound: `No live games of ${name} at ${base}+${increment} on Chess.com (or no such player).`,
        notFoundHint: "Check the username and the time control (base seconds and increment seconds).",
      },
      signal,
    );
  }

  async titled(title: string, signal?: AbortSignal) {
    const t = v.title(title);
    return this.http.getJson<{ players?: string[] }>(
      `/titled/${t}`,
      { notFound: `No ${t} list on Chess.com.` },
      signal,
    );
  }

  // Clubs

  async club(id: string, signal?: AbortSignal): Promise<Fetched<Club>> {
    const clubId = v.clubId(id);
    return this.http.getJson(`/club/${clubId}`, club(clubId), signal);
  }

  async clubMembers(id: string, signal?: AbortSignal): Promise<Fetched<ClubMembers>> {
    const clubId = v.clubId(id);
    return this.http.getJson(`/club/${clubId}/members`, club(clubId), signal);
  }

  async clubMatches(id: string, signal?: AbortSignal) {
    const clubId = v.clubId(id);
    return this.http.getJson<Partial<Record<"finished" | "in_progress" | "registered", Record<string, unknown>[]>>>(
      `/club/${clubId}/matches`,
      club(clubId),
      signal,
    );
  }

  // Tournaments

  async tournament(id: string, signal?: AbortSignal) {
    const t = v.tournamentId(id);
    return this.http.getJson<Record<string, unknown>>(`/tournament/${t}`, tournament(t), signal);
  }

  async tournamentRound(id: string, round: number, signal?: AbortSignal) {
    const t = v.tournamentId(id);
    const r = v.positiveInt(round, "round", 1000);
    return this.http.getJson<Record<string, unknown>>(
      `/tournament/${t}/${r}`,
      { notFound: `No round ${r} in tournament "${t}" on Chess.com (or no such tournament).` },
      signal,
    );
  }

  async tournamentGroup(id: string, round: number, group: number, signal?: AbortSignal) {
    const t = v.tournamentId(id);
    const r = v.positiveInt(round, "round", 1000);
    const g = v.positiveInt(group, "group", 10_000);
    return this.http.getJson<Record<string, unknown>>(
      `/tournament/${t}/${r}/${g}`,
      { notFound: `No group ${g} in round ${r} of tournament "${t}" on Chess.com.` },
      signal,
    );
  }

  // Team matches

  /**
   * A daily or live team match. A bare id is tried as a daily match first, then as a live one: the
   * API keeps them apart but people rarely know which kind a number is.
   */
  async match(
    ref: string | number,
    live: boolean | undefined,
    signal?: AbortSignal,
  ): Promise<Fetched<Record<string, unknown>> & { live: boolean }> {
    const parsed = v.matchRef(ref);
    const kind = live ?? parsed.live;
    return this.eitherKind(parsed, kind, (isLive) =>
      this.http.getJson<Record<string, unknown>>(
        isLive ? `/match/live/${parsed.id}` : `/match/${parsed.id}`,
        matchResource(parsed.id, kind),
        signal,
      ),
    );
  }

  async matchBoard(
    ref: string | number,
    board: number,
    live: boolean | undefined,
    signal?: AbortSignal,
  ): Promise<Fetched<Record<string, unknown>> & { live: boolean }> {
    const parsed = v.matchRef(ref);
    const b = v.positiveInt(board, "board", 10_000);
    const kind = live ?? parsed.live;
    return this.eitherKind(parsed, kind, (isLive) =>
      this.http.getJson<Record<string, unknown>>(
        isLive ? `/match/live/${parsed.id}/${b}` : `/match/${parsed.id}/${b}`,
        { notFound: `No board ${b} in team match ${parsed.id} on Chess.com (or no such match).` },
        signal,
      ),
    );
  }

  private async eitherKind<T>(
    parsed: MatchRef,
    kind: boolean | undefined,
    fetch: (live: boolean) => Promise<Fetched<T>>,
  ): Promise<Fetched<T> & { live: boolean }> {
    if (kind !== undefined) return { ...(await fetch(kind)), live: kind };
    try {
      return { ...(await fetch(false)), live: false };
    } catch (error) {
      if (!isChessComError(error) || error.kind !== "not_found") throw error;
      try {
        return { ...(await fetch(true)), live: true };
      } catch (second) {
        if (isChessComError(second) && second.kind === "not_found") {
          throw new ChessComError("not_found", `No daily or live team match ${parsed.id} on Chess.com.`, {
            hint: "Take the id from the match address, e.g. https://www.chess.com/club/matches/<id>.",
          });
        }
        throw second;
      }
    }
  }

  // Countries

  async country(code: string, signal?: AbortSignal): Promise<Fetched<Country>> {
    const c = v.countryCode(code);
    return this.http.getJson(`/country/${c}`, country(c), signal);
  }

  async countryPlayers(code: string, signal?: AbortSignal) {
    const c = v.countryCode(code);
    return this.http.getJson<{ players?: string[] }>(`/country/${c}/players`, country(c), signal);
  }

  async countryClubs(code: string, signal?: AbortSignal) {
    const c = v.countryCode(code);
    return this.http.getJson<{ clubs?: string[] }>(`/country/${c}/clubs`, country(c), signal);
  }

  // Site-wide

  async leaderboards(signal?: AbortSignal): Promise<Fetched<Leaderboards>> {
    return this.http.getJson("/leaderboards", { notFound: "Chess.com has no leaderboards right now." }, signal);
  }

  async dailyPuzzle(signal?: AbortSignal): Promise<Fetched<Puzzle>> {
    return this.http.getJson("/puzzle", { notFound: "Chess.com has no daily puzzle right now." }, signal);
  }

  async randomPuzzle(signal?: AbortSignal): Promise<Fetched<Puzzle>> {
    return this.http.getJson("/puzzle/random", { notFound: "Chess.com has no random puzzle right now." }, signal);
  }

  async streamers(signal?: AbortSignal): Promise<Fetched<{ streamers?: Streamer[] }>> {
    return this.http.getJson("/streamers", { notFound: "Chess.com has no streamer list right now." }, signal);
  }
}

const player = (name: string): Resource => ({
  notFound: `No such player "${name}" on Chess.com.`,
  notFoundHint: PLAYER_HINT,
});

const club = (id: string): Resource => ({
  notFound: `No such club "${id}" on Chess.com.`,
  notFoundHint: "Take the id from the club's address: https://www.chess.com/club/<id>.",
});

const tournament = (id: string): Resource => ({
  notFound: `No such tournament "${id}" on Chess.com.`,
  notFoundHint: "Take the id from the tournament's address: https://www.chess.com/tournament/<id>.",
});

const country = (code: string): Resource => ({
  notFound: `No such country "${code}" on Chess.com.`,
  notFoundHint: "Use a two-letter ISO 3166 code such as US, NO or IN.",
});

const matchResource = (id: number, live: boolean | undefined): Resource => ({
  notFound: `No such ${live === true ? "live " : live === false ? "daily " : ""}team match ${id} on Chess.com.`,
  notFoundHint: "Take the id from the match address, e.g. https://www.chess.com/club/matches/<id>.",
});

const monthPath = (name: string, { year, month }: YearMonth) =>
  `/player/${name}/games/${year}/${String(month).padStart(2, "0")}`;

const monthResource = (name: string, month: YearMonth): Resource => ({
  notFound: `No games archive for "${name}" in ${formatMonth(month)} on Chess.com (no such player, or no games that month).`,
  notFoundHint: "List the months that have games with the archives method first.",
});
