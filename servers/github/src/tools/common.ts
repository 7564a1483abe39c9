import { type ResponseBudget, sanitizeDeep, type ToolAnnotations, type ToolContext, ToolError } from "@portside/shared";
import { z } from "zod";
import { OWNER_PATTERN, REPO_PATTERN, type RepoAllowlist } from "../github/allowlist.js";
import type { GitHubClient } from "../github/client.js";
import { type CursorCodec, CursorError, nextLink } from "../github/cursor.js";
import { toToolError } from "../github/errors.js";

/** What every GitHub tool needs; built once per process. */
export interface GitHubDeps {
  client: GitHubClient;
  allowlist: RepoAllowlist;
  cursors: CursorCodec;
  readOnly: boolean;
}

/*
 * Argument checks are refinements, not JSON Schema keywords: a regex, a length limit or a safe-integer
 * bound in the schema is paid for in tokens by every request that carries the tool list, and the
 * server checks every argument anyway, naming it when it refuses.
 */

/** A string of `min`..`max` characters. */
export const text = (max: number, min = 0) =>
  z
    .string()
    .refine(
      (s) => s.length >= min && s.length <= max,
      min > 0 ? `must be ${min} to ${max} characters long` : `must be at most ${max} characters long`,
    );
/** A string matching `pattern`. */
export const matching = (pattern: RegExp, message: string) => z.string().refine((s) => pattern.test(s), message);
/** A whole number from `min` (to `max`). */
export const int = (min: number, max = Number.MAX_SAFE_INTEGER) =>
  z
    .number()
    .refine(
      (n) => Number.isSafeInteger(n) && n >= min && n <= max,
      max === Number.MAX_SAFE_INTEGER
        ? `must be a whole number of at least ${min}`
        : `must be a whole number from ${min} to ${max}`,
    );
const ISO_DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:\d{2})$/;
export const dateTimeArg = z
  .string()
  .refine(
    (s) => ISO_DATE_TIME.test(s) && !Number.isNaN(Date.parse(s)),
    "must be an ISO 8601 date-time such as 2024-05-01T00:00:00Z",
  );
export const GITHUB_LOGIN = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$/;
export const FULL_SHA = /^[0-9a-f]{40}$/i;

export const ownerArg = matching(OWNER_PATTERN, "must be a GitHub user or organization name").describe(
  "Repository owner (user or org)",
);
export const repoArg = matching(REPO_PATTERN, "must be a GitHub repository name").describe("Repository name");
export const numberArg = (what: string) => int(1).describe(what);
export const perPageArg = z.number().int().min(1).max(100).optional().describe("Items per page (GitHub's default 30)");
export const cursorArg = text(2000).optional().describe("nextCursor from the previous page");

/** Every tool talks to GitHub; reads change nothing, writes change a repository (and may not be repeated blindly). */
export const READS: ToolAnnotations = {
  readOnlyHint: true,
  destructiveHint: false,
  idempotentHint: true,
  openWorldHint: true,
};
export const WRITES: ToolAnnotations = {
  readOnlyHint: false,
  destructiveHint: false,
  idempotentHint: false,
  openWorldHint: true,
};

/** Refuses any repository outside the allowlist, before a single request is sent. */
export function assertAllowed(deps: GitHubDeps, owner: string, repo: string, action: "read" | "write" = "read"): void {
  if (deps.allowlist.allows(owner, repo)) return;
  throw new ToolError(
    "permission_denied",
    `${owner}/${repo} is not in this server's repository allowlist, so it cannot be ${action === "write" ? "changed" : "read"}.`,
    {
      hint: `Allowed repositories: ${deps.allowlist.patterns.join(", ")}. Only the operator can change the list (--allowed-repos).`,
      details: { argument: "repo" },
    },
  );
}

/**
 * The start of every call about one repository: refused outside the allowlist before anything is
 * sent, then named for messages.
 */
export function inRepo(
  deps: GitHubDeps,
  target: { owner: string; repo: string },
  signal: AbortSignal,
  action: "read" | "write" = "read",
) {
  const { owner, repo } = target;
  assertAllowed(deps, owner, repo, action);
  return { owner, repo, name: `${owner}/${repo}`, request: { signal } };
}

/** How long one tool call may take: room for waiting out one secondary rate limit. */
export const GITHUB_TIMEOUT_MS = 150_000;

/**
 * Runs a GitHub call and turns its failures into actionable tool errors. A cancelled call returns at
 * once, even while the throttle is still waiting to send the request (which then aborts itself).
 */
export async function github<T>(what: string, signal: AbortSignal, call: () => Promise<T>): Promise<T> {
  if (signal.aborted) throw toToolError(signal.reason, what, signal);
  const pending = call();
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
  });
  pending.catch(() => undefined);
  aborted.catch(() => undefined);
  try {
    return await Promise.race([pending, aborted]);
  } catch (error) {
    throw toToolError(error, what, signal);
  } finally {
    if (onAbort) signal.removeEventListener("abort", onAbort);
  }
}

/** Rethrows a failed GitHub call as an actionable tool error. */
export function fail(error: unknown, what: string, signal: AbortSignal): never {
  throw toToolError(error, what, signal);
}

export interface ListPage<T> {
  items: T[];
  nextCursor?: string;
}

interface RawPage<R> {
  data: R[] | unknown;
  url: string;
  headers: Record<string, string | number | undefined>;
}

/** What differs from one listing to the next; the call's own cursor, signal and budget come from `pager`. */
export interface PageRequest<R, T> {
  scope: string;
  what: string;
  /** Characters to leave for the rest of the answer. */
  reserve?: number;
  first: () => Promise<RawPage<R>>;
  /** Extracts the items of a page (search answers wrap them in an object). */
  items?: (data: unknown) => R[];
  shape: (item: R) => T | undefined;
  mediaType?: { format?: string };
}

/** Binds `listPage` to one tool call: its cursor argument, cancellation and response budget. */
export function pager(deps: GitHubDeps, ctx: Pick<ToolContext, "signal" | "budget">, cursor: string | undefined) {
  return <R, T>(request: PageRequest<R, T>) =>
    listPage({ deps, cursor, signal: ctx.signal, budget: ctx.budget, ...request });
}

/** A page of a listing as the tool's answer: `{ [key]: items, …extra, nextCursor }`, third-party text. */
export function pagedAnswer(key: string, page: ListPage<unknown>, extra: Record<string, unknown> = {}) {
  return {
    text: jsonText(compact({ [key]: page.items, ...extra, nextCursor: page.nextCursor })),
    untrusted: true,
  };
}

/**
 * One page of a GitHub listing, cut to the response budget. The first page comes from `first()`;
 * later pages from the cursor (GitHub's own `Link` URL, signed and bound to `scope`). When the
 * budget cuts a page short, the cursor remembers how many of its items were shown.
 */
async function listPage<R, T>(
  options: PageRequest<R, T> & {
    deps: GitHubDeps;
    cursor: string | undefined;
    signal: AbortSignal;
    budget: ResponseBudget;
  },
): Promise<ListPage<T> & { raw: unknown }> {
  const { deps, scope, signal } = options;
  let skip = 0;
  let pagePath: string | undefined;
  let response: { data: unknown; url: string; headers: Record<string, string | number | undefined> };
  if (options.cursor) {
    const position = decodeCursor(deps, options.cursor, scope);
    skip = position.skip;
    pagePath = position.path;
    response = await github(options.what, signal, () =>
      deps.client.getPath<unknown>(position.path, signal, options.mediaType),
    );
  } else {
    response = await github(options.what, signal, options.first);
  }
  const raw = response.data;
  const all = options.items ? options.items(raw) : (raw as R[]);
  const shaped = all.slice(skip).map((item) => (item === undefined ? undefined : options.shape(item)));
  const fitted = options.budget.fitItems(
    shaped.map((item) => item ?? null),
    { reserve: options.reserve ?? 1500, atLeastOne: true },
  );
  const items = fitted.items.filter((item): item is NonNullable<typeof item> => item !== null) as T[];
  let nextCursor: string | undefined;
  if (fitted.truncated) {
    const here = pagePath ?? deps.client.apiPath(response.url);
    if (here) nextCursor = deps.cursors.encode(scope, { path: here, skip: skip + fitted.items.length });
  }
  if (!nextCursor) {
    const next = nextLink(response.headers.link as string | undefined);
    const path = next ? deps.client.apiPath(next) : undefined;
    if (path) nextCursor = deps.cursors.encode(scope, { path, skip: 0 });
  }
  return { items, raw, ...(nextCursor ? { nextCursor } : {}) };
}

function decodeCursor(deps: GitHubDeps, cursor: string, scope: string) {
  try {
    return deps.cursors.decode(cursor, scope);
  } catch (error) {
    if (error instanceof CursorError) {
      throw new ToolError("invalid_argument", `The cursor cannot be used here: ${error.message}.`, {
        hint: "Pass nextCursor exactly as returned, with the same owner, repo and method; or omit it to start again.",
        details: { argument: "cursor" },
      });
    }
    throw error;
  }
}

/** The final pass over every result: whatever string a user wrote, hidden characters go. */
export function clean<T>(value: T): T {
  return sanitizeDeep(value);
}

/** A result as compact JSON text, cleaned. */
export function jsonText(value: unknown): string {
  return JSON.stringify(clean(value));
}

/** Drops undefined and null fields so results stay small. */
export function compact<T extends Record<string, unknown>>(value: T): T {
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    if (item === undefined || item === null) continue;
    if (Array.isArray(item) && item.length === 0) continue;
    out[key] = item;
  }
  return out as T;
}

/** Only the parameters the caller actually gave, so requests match GitHub's defaults otherwise. */
export function given<T extends Record<string, unknown>>(params: T): Partial<T> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(params)) if (value !== undefined) out[key] = value;
  return out as Partial<T>;
}

export function requireArg<T>(value: T | undefined, argument: string, method: string): T {
  if (value === undefined || value === null || value === "") {
    throw new ToolError("invalid_argument", `\`${argument}\` is required when method is "${method}".`, {
      hint: `Pass ${argument}.`,
      details: { argument },
    });
  }
  return value;
}

/** Renders a tool answer: a compact JSON header, then (optionally) raw text such as a diff or a file. */
export function renderWithBody(header: unknown, body: string | undefined): string {
  return body === undefined ? JSON.stringify(header) : `${JSON.stringify(header)}\n---\n${body}`;
}
