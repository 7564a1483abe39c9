import { openingName, pgnTags } from "./pgn.js";
import type { ArchivedGame } from "./types.js";

export type Colour = "white" | "black";
export type Outcome = "win" | "draw" | "loss";
export const TIME_CLASSES = ["daily", "rapid", "blitz", "bullet"] as const;
export type TimeClass = (typeof TIME_CLASSES)[number];

/**
 * Chess.com's result codes (https://www.chess.com/news/view/published-data-api#game-results).
 * Each side of a game carries one; "win" is the winner's, the loser's says how the game was lost.
 */
const DRAW_CODES = new Set(["agreed", "repetition", "stalemate", "insufficient", "50move", "timevsinsufficient"]);

export function outcomeOf(code: string | undefined): Outcome {
  if (code === "win") return "win";
  return code !== undefined && DRAW_CODES.has(code) ? "draw" : "loss";
}

const HOW: Record<string, string> = {
  checkmated: "checkmate",
  resigned: "resignation",
  timeout: "timeout",
  abandoned: "abandonment",
  agreed: "agreement",
  repetition: "repetition",
  stalemate: "stalemate",
  insufficient: "insufficient material",
  "50move": "the 50-move rule",
  timevsinsufficient: "timeout vs insufficient material",
  kingofthehill: "king of the hill",
  threecheck: "three checks",
  bughousepartnerlose: "bughouse partner's loss",
  lose: "loss",
};

/** One finished game seen from one player's side. */
export interface PlayerGame {
  url: string | undefined;
  /** Seconds since the epoch. */
  endTime: number;
  /** `YYYY-MM` of the end time (UTC). */
  month: string;
  timeClass: string;
  timeControl: string | undefined;
  rules: string;
  rated: boolean;
  colour: Colour;
  result: Outcome;
  /** How the game ended, e.g. "resignation", "checkmate", "repetition". */
  ending: string;
  rating: number | undefined;
  opponent: string;
  opponentRating: number | undefined;
  eco: string | undefined;
  opening: string | undefined;
  accuracy: number | undefined;
  opponentAccuracy: number | undefined;
}

/**
 * The game from `username`'s side, or undefined when they did not play in it. ECO and opening come
 * from the PGN headers (the `eco` field is only the opening's address).
 */
export function fromPlayerSide(game: ArchivedGame, username: string): PlayerGame | undefined {
  const me = username.toLowerCase();
  const white = game.white?.username?.toLowerCase();
  const black = game.black?.username?.toLowerCase();
  const colour: Colour | undefined = white === me ? "white" : black === me ? "black" : undefined;
  if (!colour) return undefined;
  const mine = colour === "white" ? game.white : game.black;
  const theirs = colour === "white" ? game.black : game.white;
  const result = outcomeOf(mine?.result);
  const endingCode = result === "win" ? theirs?.result : mine?.result;
  const tags = game.pgn ? pgnTags(game.pgn) : {};
  const endTime = game.end_time ?? 0;
  const eco = tags.ECO && /^[A-E]\d\d$/.test(tags.ECO) ? tags.ECO : undefined;
  return {
    url: game.url,
    endTime,
    month: new Date(endTime * 1000).toISOString().slice(0, 7),
    timeClass: game.time_class ?? "unknown",
    timeControl: game.time_control,
    rules: game.rules ?? "chess",
    rated: game.rated !== false,
    colour,
    result,
    ending: HOW[endingCode ?? ""] ?? endingCode ?? "unknown",
    rating: mine?.rating,
    opponent: theirs?.username ?? "unknown",
    opponentRating: theirs?.rating,
    eco,
    opening: openingName(tags.ECOUrl ?? game.eco),
    accuracy: game.accuracies?.[colour],
    opponentAccuracy: game.accuracies?.[colour === "white" ? "black" : "white"],
  };
}

export interface GameFilter {
  timeClass?: string | undefined;
  /** "chess", "chess960", … or undefined for every variant. */
  rules?: string | undefined;
  colour?: Colour | undefined;
  result?: Outcome | undefined;
  opponent?: string | undefined;
  rated?: boolean | undefined;
}

export function matchesFilter(game: PlayerGame, filter: GameFilter): boolean {
  if (filter.timeClass !== undefined && game.timeClass !== filter.timeClass) return false;
  if (filter.rules !== undefined && game.rules !== filter.rules) return false;
  if (filter.colour !== undefined && game.colour !== filter.colour) return false;
  if (filter.result !== undefined && game.result !== filter.result) return false;
  if (filter.opponent !== undefined && game.opponent.toLowerCase() !== filter.opponent.toLowerCase()) return false;
  if (filter.rated !== undefined && game.rated !== filter.rated) return false;
  return true;
}

/** Oldest first, as Chess.com lists them, with a stable order for games that ended together. */
export function chronological(games: PlayerGame[]): PlayerGame[] {
  return [...games].sort((a, b) => a.endTime - b.endTime || (a.url ?? "").localeCompare(b.url ?? ""));
}
