import { invalidArgument } from "./errors.js";

/**
 * Every identifier that ends up in a request path is checked here first, so a request is only ever
 * built from a small alphabet: no slashes, dots, percent signs or query characters can reach the URL.
 * Where people naturally paste a Chess.com web or API address, the identifier is taken from it.
 */

const USERNAME = /^[a-z0-9_-]{1,50}$/;
const SLUG = /^[a-z0-9_-]{1,200}$/;
const COUNTRY = /^[A-Z]{2}$/;

export const TITLES = ["GM", "WGM", "IM", "WIM", "FM", "WFM", "NM", "WNM", "CM", "WCM"] as const;
export type Title = (typeof TITLES)[number];

/** Chess.com treats usernames case-insensitively; the lowercase form is also the cache key. */
export function username(value: string, argument = "username"): string {
  const raw = lastSegmentAfter(value.trim(), ["/member/", "/player/"]) ?? value.trim();
  const name = raw.toLowerCase();
  if (!USERNAME.test(name)) {
    throw invalidArgument(
      argument,
      `must be a Chess.com username: 1–50 letters, digits, "_" or "-" (got ${show(value)}).`,
      "Pass the username as shown on the player's profile, e.g. hikaru.",
    );
  }
  return name;
}

/** A club's URL id, e.g. `chess-com-developer-community`, or its web/API address. */
export function clubId(value: string, argument = "club"): string {
  const raw = lastSegmentAfter(value.trim(), ["/club/"]) ?? value.trim();
  const id = raw.toLowerCase();
  if (!SLUG.test(id)) {
    throw invalidArgument(
      argument,
      `must be a club's URL id, e.g. chess-com-developer-community, or its chess.com address (got ${show(value)}).`,
      "Take the id from the club's address: https://www.chess.com/club/<id>.",
    );
  }
  return id;
}

/** A tournament's URL id, e.g. `-33rd-chesscom-quick-knockouts-1401-1600`, or its web/API address. */
export function tournamentId(value: string, argument = "tournament"): string {
  const trimmed = value.trim();
  const fromUrl = segmentsAfter(trimmed, "/tournament/");
  const raw = fromUrl ? (fromUrl[0] === "live" ? fromUrl[1] : fromUrl[0]) : trimmed;
  const id = (raw ?? "").toLowerCase();
  if (!SLUG.test(id)) {
    throw invalidArgument(
      argument,
      `must be a tournament's URL id, e.g. -33rd-chesscom-quick-knockouts-1401-1600, or its address (got ${show(value)}).`,
      "Take the id from the tournament's address: https://www.chess.com/tournament/<id>.",
    );
  }
  return id;
}

export interface MatchRef {
  id: number;
  /** Live team matches live under their own path. */
  live: boolean | undefined;
}

/** A team match's numeric id, or its web/API address (which also tells daily from live). */
export function matchRef(value: string | number, argument = "match"): MatchRef {
  if (typeof value === "number") return { id: positiveInt(value, argument, 1e12), live: undefined };
  const trimmed = value.trim();
  const api = segmentsAfter(trimmed, "/match/");
  if (api) {
    const live = api[0] === "live";
    return { id: positiveInt(live ? api[1] : api[0], argument, 1e12), live };
  }
  const web = segmentsAfter(trimmed, "/matches/");
  if (web) {
    const live = web[0] === "live";
    return { id: positiveInt(live ? web[1] : web[0], argument, 1e12), live };
  }
  return { id: positiveInt(trimmed, argument, 1e12), live: undefined };
}

/** An ISO 3166 two-letter code as Chess.com uses it (it adds codes such as XE for England). */
export function countryCode(value: string, argument = "country"): string {
  const raw = lastSegmentAfter(value.trim(), ["/country/"]) ?? value.trim();
  const code = raw.toUpperCase();
  if (!COUNTRY.test(code)) {
    throw invalidArgument(
      argument,
      `must be a two-letter ISO 3166 country code such as US, NO or IN (got ${show(value)}).`,
      "Chess.com also uses XA–XZ for regions without their own code, e.g. XE for England.",
    );
  }
  return code;
}

export function title(value: string, argument = "title"): Title {
  const upper = value.trim().toUpperCase();
  if (!(TITLES as readonly string[]).includes(upper)) {
    throw invalidArgument(argument, `must be one of ${TITLES.join(", ")} (got ${show(value)}).`);
  }
  return upper as Title;
}

export interface YearMonth {
  year: number;
  month: number;
}

export const formatMonth = ({ year, month }: YearMonth): string => `${year}-${String(month).padStart(2, "0")}`;

/** Chess.com opened in 2007; nothing earlier can exist. */
const FIRST_YEAR = 2007;

/** A calendar month as `YYYY-MM`, not before 2007 and not after the current month (UTC). */
export function yearMonth(value: string, argument = "month", now: Date = new Date()): YearMonth {
  const match = /^(\d{4})[-/](\d{1,2})$/.exec(value.trim());
  const year = Number(match?.[1]);
  const month = Number(match?.[2]);
  if (!match || month < 1 || month > 12) {
    throw invalidArgument(argument, `must be a month written YYYY-MM, e.g. 2024-01 (got ${show(value)}).`);
  }
  if (year < FIRST_YEAR) {
    throw invalidArgument(argument, `must not be before ${FIRST_YEAR}-01: Chess.com has no games that old.`);
  }
  const current = { year: now.getUTCFullYear(), month: now.getUTCMonth() + 1 };
  if (year * 12 + month > current.year * 12 + current.month) {
    throw invalidArgument(
      argument,
      `must not be in the future (got ${formatMonth({ year, month })}, the current month is ${formatMonth(current)}).`,
    );
  }
  return { year, month };
}

export function positiveInt(value: unknown, argument: string, max: number): number {
  const n = typeof value === "number" ? value : typeof value === "string" && /^\d+$/.test(value) ? Number(value) : NaN;
  if (!Number.isSafeInteger(n) || n < 1 || n > max) {
    throw invalidArgument(argument, `must be a whole number from 1 to ${max} (got ${show(value)}).`);
  }
  return n;
}

export function liveTimeControl(baseSeconds: number, incrementSeconds: number): [number, number] {
  if (!Number.isSafeInteger(baseSeconds) || baseSeconds < 1 || baseSeconds > 10_800) {
    throw invalidArgument("baseSeconds", `must be the base time in seconds, 1 to 10800 (got ${show(baseSeconds)}).`);
  }
  if (!Number.isSafeInteger(incrementSeconds) || incrementSeconds < 0 || incrementSeconds > 180) {
    throw invalidArgument(
      "incrementSeconds",
      `must be the increment in seconds, 0 to 180 (got ${show(incrementSeconds)}).`,
    );
  }
  return [baseSeconds, incrementSeconds];
}

/** The path segments after `marker` in a Chess.com address, or undefined if it isn't one. */
function segmentsAfter(value: string, marker: string): string[] | undefined {
  if (!/^https?:\/\/([a-z0-9-]+\.)*chess\.com\//i.test(value)) return undefined;
  let path: string;
  try {
    path = new URL(value).pathname;
  } catch {
    return undefined;
  }
  const at = path.indexOf(marker);
  if (at === -1) return undefined;
  return path
    .slice(at + marker.length)
    .split("/")
    .filter((s) => s.length > 0);
}

function lastSegmentAfter(value: string, markers: string[]): string | undefined {
  for (const marker of markers) {
    const segments = segmentsAfter(value, marker);
    if (segments?.[0] !== undefined) return segments[0];
  }
  return undefined;
}

function show(value: unknown): string {
  const text = typeof value === "string" ? value : String(value);
  return JSON.stringify(text.length > 60 ? `${text.slice(0, 60)}…` : text);
}
