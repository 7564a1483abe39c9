import {
  type ErrorCode,
  type ResponseBudget,
  sanitizeMarkup,
  sanitizeText,
  type ToolAnnotations,
  ToolError,
} from "@portside/shared";
import { z } from "zod";
import type { Walked } from "../chesscom/analysis.js";
import { type ChessComErrorKind, isChessComError } from "../chesscom/errors.js";

/** Every tool here only reads public data from Chess.com. */
export const READ_ONLY: ToolAnnotations = {
  readOnlyHint: true,
  destructiveHint: false,
  idempotentHint: true,
  openWorldHint: true,
};

const CODES: Record<ChessComErrorKind, ErrorCode> = {
  invalid_argument: "invalid_argument",
  not_found: "not_found",
  gone: "not_found",
  rate_limited: "rate_limited",
  timeout: "timeout",
  cancelled: "cancelled",
  too_large: "too_large",
  upstream: "upstream_error",
};

/** Runs client calls, turning the client's expected failures into tool errors the model can act on. */
export async function guarded<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (isChessComError(error)) {
      throw new ToolError(CODES[error.kind], error.message, {
        ...(error.hint ? { hint: error.hint } : {}),
        ...(error.details ? { details: error.details } : {}),
      });
    }
    throw error;
  }
}

export const offsetArg = z.number().int().min(0).max(10_000_000).default(0).describe("Items to skip (for paging).");
export const limitArg = (fallback: number, max: number) =>
  z.number().int().min(1).max(max).default(fallback).describe(`Items to return, at most ${max}.`);

export interface Paged<T> {
  items: T[];
  total: number;
  offset: number;
  /** Pass as `offset` to get the next page; absent on the last page. */
  nextOffset?: number;
}

/**
 * One page of a list, cut further if it would not fitBudget the response budget, with the offset to
 * continue from.
 */
export function page<T>(
  all: readonly T[],
  offset: number,
  limit: number,
  fitBudget?: (items: T[]) => { items: T[]; truncated: boolean },
): Paged<T> {
  const wanted = all.slice(offset, offset + limit);
  const items = fitBudget ? fitBudget(wanted).items : wanted;
  const next = offset + items.length;
  return { items, total: all.length, offset, ...(next < all.length ? { nextOffset: next } : {}) };
}

/** Cuts a page further to the response budget, leaving `reserve` characters for the rest of the answer. */
export function budgetFit(budget: ResponseBudget, reserve = 1500) {
  return <T>(items: T[]) => budget.fitItems(items, { reserve, atLeastOne: true });
}

export const pagedNote = (p: Paged<unknown>, noun: string): string =>
  p.total === 0
    ? `No ${noun}.`
    : `${noun[0]?.toUpperCase()}${noun.slice(1)} ${p.offset + 1}–${p.offset + p.items.length} of ${p.total}` +
      (p.nextOffset !== undefined ? ` (more: offset ${p.nextOffset}).` : ".");

/** A `method` that needs an argument the call left out. */
export const requiredFor = (argument: string, method: string) =>
  new ToolError("invalid_argument", `\`${argument}\` is required for method ${method}.`, {
    details: { argument },
  });

type EventStatus = "in_progress" | "registered" | "finished";

/**
 * Chess.com lists a player's or club's team matches and tournaments in three groups; this flattens
 * them into rows, in progress first.
 */
export function byStatus<T>(
  lists: Partial<Record<EventStatus, Record<string, unknown>[]>>,
  row: (entry: Record<string, unknown>, status: EventStatus) => T,
): T[] {
  return (["in_progress", "registered", "finished"] as const).flatMap((status) =>
    (lists[status] ?? []).map((entry) => row(entry, status)),
  );
}

/** Unix seconds to ISO 8601, keeping absent values absent. */
export const iso = (seconds: unknown): string | undefined =>
  typeof seconds === "number" && Number.isFinite(seconds) && seconds > 0
    ? new Date(seconds * 1000).toISOString()
    : undefined;

/** The last path segment of a Chess.com API address (a username, club id, country code…). */
export const idFromUrl = (url: unknown): string | undefined =>
  typeof url === "string" ? url.replace(/\/+$/, "").split("/").pop() || undefined : undefined;

/** Club and tournament descriptions are HTML written by members: reduce them to plain text. */
export function htmlToText(html: unknown, maxChars = 2000): string | undefined {
  if (typeof html !== "string" || html.trim() === "") return undefined;
  const text = sanitizeMarkup(html)
    .replace(/<br\s*\/?>|<\/(p|div|li|h[1-6])>/gi, "\n")
    .replace(/<li\b[^>]*>/gi, "• ")
    .replace(/<[^>]*>/g, "")
    .replace(/&nbsp;/g, " ")
    .replace(/&amp;/g, "&")
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&quot;/g, '"')
    .replace(/&#0?39;|&apos;/g, "'")
    .replace(/[ \t]+/g, " ")
    .replace(/\s*\n\s*/g, "\n")
    .trim();
  const clean = sanitizeText(text);
  return clean.length > maxChars ? `${clean.slice(0, maxChars)}…` : clean || undefined;
}

/** Drops undefined fields so structured output and its text stay compact. */
export function compact<T extends Record<string, unknown>>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

export const monthArg = z.string().describe("A month written YYYY-MM, e.g. 2024-01.");

/** The range an analysis covered, and what it left out. */
export function coverage(walked: Walked) {
  return compact({
    from: walked.months[0],
    to: walked.months[walked.months.length - 1],
    monthsRead: walked.months.length,
    monthsInRange: walked.monthsInRange,
    skippedMonths: walked.skippedMonths || undefined,
    note: walked.skippedMonths
      ? `Only the ${walked.months.length} most recent month(s) in range were read; raise \`months\` or narrow \`from\`/\`to\` to include the other ${walked.skippedMonths}.`
      : undefined,
  });
}
