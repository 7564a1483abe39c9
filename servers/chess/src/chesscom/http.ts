import type { Agent, Dispatcher } from "undici";
import { type CacheEntry, freshness, header, ResponseCache } from "./cache.js";
import { ChessComError } from "./errors.js";
import { cancelled, SerialQueue, sleep } from "./queue.js";

export interface HttpOptions {
  /** e.g. `https://api.chess.com/pub`; every request stays under it. */
  baseUrl: string;
  /** Chess.com blocks clients without a User-Agent that says who to contact. */
  userAgent: string;
  /** Per attempt, from sending the request to the last byte of the body. */
  timeoutMs: number;
  /** Extra attempts after a 429 or a 5xx answer. */
  maxRetries: number;
  /** A Retry-After longer than this fails at once (with the wait in the error) instead of blocking. */
  maxRetryWaitMs: number;
  cacheBytes: number;
  /** Cap on one answer's size, before and after decompression. */
  maxResponseBytes: number;
  /** Called once per HTTP exchange, for logs and tests. */
  onExchange?: (exchange: Exchange) => void;
}

export interface Exchange {
  url: string;
  status: number;
  ms: number;
  attempt: number;
  conditional: boolean;
}

/** Where an answer came from. */
export type Source = "cache" | "revalidated" | "network";

export interface Fetched<T> {
  value: T;
  source: Source;
  /** The URL that answered, after any redirect. */
  url: string;
}

export interface Resource {
  /** The message for a 404, e.g. `No such player "x" on Chess.com.` */
  notFound: string;
  /** What to do about a 404. */
  notFoundHint?: string;
}

export interface HttpStats {
  /** HTTP requests actually sent. */
  requests: number;
  /** Answers served from the cache without asking Chess.com. */
  cacheHits: number;
  /** 304 answers: the cached copy was still good. */
  notModified: number;
  /** Attempts repeated after a 429 or 5xx. */
  retries: number;
  rateLimited: number;
}

const MAX_REDIRECTS = 5;
const RETRYABLE = new Set([429, 500, 502, 503, 504]);

/**
 * The one way this server talks to Chess.com: requests go out one at a time (a serial queue), answers
 * are cached and revalidated with ETag / Last-Modified, 301s are followed and remembered, 410s are
 * remembered and never asked again, and 429s wait as long as Retry-After says.
 */
export class ChessComHttp {
  readonly stats: HttpStats = { requests: 0, cacheHits: 0, notModified: 0, retries: 0, rateLimited: 0 };
  private readonly base: URL;
  private readonly basePath: string;
  private readonly queue = new SerialQueue();
  private readonly cache: ResponseCache;
  private readonly movedTo = new Map<string, string>();
  private readonly gone = new Set<string>();
  private connection: Promise<{ agent: Agent; dispatcher: Dispatcher }> | undefined;

  constructor(private readonly options: HttpOptions) {
    this.base = new URL(options.baseUrl.replace(/\/+$/, ""));
    this.basePath = this.base.pathname.replace(/\/+$/, "");
    this.cache = new ResponseCache(options.cacheBytes);
  }

  /** undici is loaded on the first request, not at start-up: most of a cold start is parsing code. */
  private connect(): Promise<{ agent: Agent; dispatcher: Dispatcher }> {
    this.connection ??= import("undici").then(({ Agent, interceptors }) => {
      const agent = new Agent({
        connections: 1,
        pipelining: 1,
        maxResponseSize: this.options.maxResponseBytes,
        headersTimeout: this.options.timeoutMs,
        bodyTimeout: this.options.timeoutMs,
      });
      const dispatcher = agent.compose(interceptors.decompress({ maxSize: this.options.maxResponseBytes }));
      return { agent, dispatcher };
    });
    return this.connection;
  }

  /** Requests queued or in flight. */
  get pending(): number {
    return this.queue.length;
  }

  get cacheSize(): { entries: number; bytes: number } {
    return { entries: this.cache.size, bytes: this.cache.totalBytes };
  }

  /** The absolute URL of an API path such as `/player/hikaru`. */
  urlOf(path: string): string {
    return `${this.base.origin}${this.basePath}${path}`;
  }

  async getJson<T>(path: string, resource: Resource, signal?: AbortSignal): Promise<Fetched<T>> {
    return this.get<T>(path, resource, "json", signal);
  }

  async getText(path: string, resource: Resource, signal?: AbortSignal): Promise<Fetched<string>> {
    return this.get<string>(path, resource, "text", signal);
  }

  async close(): Promise<void> {
    const connection = this.connection;
    this.connection = undefined;
    if (connection) await (await connection).agent.close();
  }

  private async get<T>(
    path: string,
    resource: Resource,
    as: "json" | "text",
    signal: AbortSignal | undefined,
  ): Promise<Fetched<T>> {
    if (signal?.aborted) throw cancelled();
    const requested = this.urlOf(path);
    const fresh = this.freshEntry(requested);
    if (fresh) {
      this.stats.cacheHits++;
      return { value: fresh.entry.value as T, source: "cache", url: fresh.url };
    }
    return this.queue.run(async () => {
      // Another caller may have fetched the same URL while this one waited its turn.
      const now = this.freshEntry(requested);
      if (now) {
        this.stats.cacheHits++;
        return { value: now.entry.value as T, source: "cache", url: now.url };
      }
      return this.fetchQueued<T>(requested, resource, as, signal);
    }, signal);
  }

  private freshEntry(requested: string): { url: string; entry: CacheEntry } | undefined {
    const url = this.resolveMoved(requested);
    const entry = this.cache.get(url);
    return entry && entry.freshUntil > Date.now() ? { url, entry } : undefined;
  }

  private resolveMoved(url: string): string {
    let current = url;
    for (let hop = 0; hop < MAX_REDIRECTS; hop++) {
      const next = this.movedTo.get(current);
      if (next === undefined) break;
      current = next;
    }
    return current;
  }

  private async fetchQueued<T>(
    requested: string,
    resource: Resource,
    as: "json" | "text",
    signal: AbortSignal | undefined,
  ): Promise<Fetched<T>> {
    let url = this.resolveMoved(requested);
    let redirects = 0;
    let attempt = 0;
    for (;;) {
      if (this.gone.has(url)) throw goneError(resource);
      const cached = this.cache.get(url);
      const { response, timeout } = await this.exchange(url, cached, attempt, signal);
      const { statusCode: status, headers } = response;

      if (status === 200) {
        const text = await this.readBody(response, signal, timeout);
        const value = as === "json" ? parseJson(text, url) : text;
        this.store(url, value, text.length, headers);
        return { value: value as T, source: "network", url };
      }
      await response.body.dump().catch(() => undefined);

      if (status === 304 && cached) {
        this.stats.notModified++;
        this.refresh(url, cached, headers);
        return { value: cached.value as T, source: "revalidated", url };
      }
      if (status === 304) {
        // A 304 for something never cached: ask again plainly.
        this.cache.delete(url);
        if (++attempt > this.options.maxRetries) throw upstream(status, url);
        continue;
      }
      if (status === 301 || status === 302 || status === 303 || status === 307 || status === 308) {
        const target = this.redirectTarget(url, header(headers, "location"));
        if (++redirects > MAX_REDIRECTS) {
          throw new ChessComError("upstream", `Chess.com redirected ${url} more than ${MAX_REDIRECTS} times.`);
        }
        if (status === 301 || status === 308) this.movedTo.set(url, target);
        url = target;
        continue;
      }
      if (status === 404) {
        throw new ChessComError("not_found", resource.notFound, {
          ...(resource.notFoundHint ? { hint: resource.notFoundHint } : {}),
          details: { status },
        });
      }
      if (status === 410) {
        this.gone.add(url);
        throw goneError(resource);
      }
      if (RETRYABLE.has(status)) {
        if (status === 429) this.stats.rateLimited++;
        const wait = retryAfterMs(header(headers, "retry-after")) ?? backoffMs(attempt);
        if (attempt >= this.options.maxRetries || wait > this.options.maxRetryWaitMs) {
          throw status === 429 ? rateLimited(wait) : upstream(status, url);
        }
        attempt++;
        this.stats.retries++;
        await sleep(wait, signal);
        continue;
      }
      throw upstream(status, url);
    }
  }

  private async exchange(
    url: string,
    cached: CacheEntry | undefined,
    attempt: number,
    signal: AbortSignal | undefined,
  ): Promise<{ response: Dispatcher.ResponseData; timeout: AbortSignal }> {
    if (signal?.aborted) throw cancelled();
    const target = new URL(url);
    const headers: Record<string, string> = {
      "user-agent": this.options.userAgent,
      accept: "application/json, application/x-chess-pgn;q=0.9, */*;q=0.1",
      "accept-encoding": "gzip, deflate, br",
    };
    if (cached?.etag) headers["if-none-match"] = cached.etag;
    if (cached?.lastModified) headers["if-modified-since"] = cached.lastModified;
    const timeout = AbortSignal.timeout(this.options.timeoutMs);
    const combined = signal ? AbortSignal.any([signal, timeout]) : timeout;
    const started = performance.now();
    this.stats.requests++;
    const { dispatcher } = await this.connect();
    try {
      const response = await dispatcher.request({
        origin: target.origin,
        path: `${target.pathname}${target.search}`,
        method: "GET",
        headers,
        signal: combined,
      });
      this.options.onExchange?.({
        url,
        status: response.statusCode,
        ms: performance.now() - started,
        attempt,
        conditional: cached !== undefined,
      });
      // The body has to arrive within the same deadline, so the caller gets the timeout signal too.
      return { response, timeout };
    } catch (error) {
      throw transportError(error, url, signal, timeout, this.options.timeoutMs);
    }
  }

  private async readBody(
    response: Dispatcher.ResponseData,
    signal: AbortSignal | undefined,
    timeout: AbortSignal,
  ): Promise<string> {
    try {
      return await response.body.text();
    } catch (error) {
      throw transportError(error, "the response body", signal, timeout, this.options.timeoutMs);
    }
  }

  private store(url: string, value: unknown, bytes: number, headers: Dispatcher.ResponseData["headers"]): void {
    const granted = freshness(headers);
    const etag = header(headers, "etag");
    const lastModified = header(headers, "last-modified");
    if (granted.noStore || (etag === undefined && lastModified === undefined && granted.lifetimeSeconds === 0)) {
      this.cache.delete(url);
      return;
    }
    this.cache.set(url, {
      value,
      etag,
      lastModified,
      freshUntil: Date.now() + granted.lifetimeSeconds * 1000,
      bytes,
    });
  }

  /** A 304 carries the new freshness (and may carry new validators) for the copy we already have. */
  private refresh(url: string, cached: CacheEntry, headers: Dispatcher.ResponseData["headers"]): void {
    const granted = freshness(headers);
    if (granted.noStore) {
      this.cache.delete(url);
      return;
    }
    this.cache.set(url, {
      ...cached,
      etag: header(headers, "etag") ?? cached.etag,
      lastModified: header(headers, "last-modified") ?? cached.lastModified,
      freshUntil: Date.now() + granted.lifetimeSeconds * 1000,
    });
  }

  /** Redirects are followed only within the API, never to another host or path. */
  private redirectTarget(from: string, location: string | undefined): string {
    if (!location) throw new ChessComError("upstream", `Chess.com redirected ${from} without saying where to.`);
    let target: URL;
    try {
      target = new URL(location, from);
    } catch {
      throw new ChessComError("upstream", `Chess.com redirected ${from} to an invalid address.`);
    }
    if (target.origin !== this.base.origin || !target.pathname.startsWith(`${this.basePath}/`)) {
      throw new ChessComError("upstream", `Chess.com redirected ${from} outside the API (${target.origin}); refused.`);
    }
    return target.href;
  }
}

function parseJson(text: string, url: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new ChessComError("upstream", `Chess.com answered ${url} with something that is not JSON.`, {
      hint: "Try again later; if it persists the API may have changed.",
    });
  }
}

function goneError(resource: Resource): ChessComError {
  return new ChessComError(
    "gone",
    `${resource.notFound.replace(/\.$/, "")}: Chess.com says it will never be available (410 Gone).`,
    { hint: "Do not ask for it again; the account, club or event was closed or removed.", details: { status: 410 } },
  );
}

function rateLimited(waitMs: number): ChessComError {
  const seconds = Math.ceil(waitMs / 1000);
  return new ChessComError("rate_limited", `Chess.com is rate-limiting requests (429 Too Many Requests).`, {
    hint: `Wait about ${seconds} s before trying again.`,
    details: { status: 429, retryAfterSeconds: seconds },
  });
}

function upstream(status: number, url: string): ChessComError {
  return new ChessComError("upstream", `Chess.com answered ${url} with HTTP ${status}.`, {
    hint: status >= 500 ? "Chess.com is having trouble; try again later." : "The API may have changed.",
    details: { status },
  });
}

function transportError(
  error: unknown,
  what: string,
  signal: AbortSignal | undefined,
  timeout: AbortSignal | undefined,
  timeoutMs: number,
): ChessComError {
  if (error instanceof ChessComError) return error;
  if (signal?.aborted) return cancelled();
  const code = (error as { code?: string }).code ?? "";
  if (timeout?.aborted || code === "UND_ERR_HEADERS_TIMEOUT" || code === "UND_ERR_BODY_TIMEOUT") {
    return new ChessComError("timeout", `Chess.com did not answer ${what} within ${Math.round(timeoutMs / 1000)} s.`, {
      hint: "Try again; raise --timeout-seconds if it keeps happening.",
    });
  }
  if (code === "UND_ERR_RES_EXCEEDED_MAX_SIZE" || /exceed|too large|max.*size/i.test(String(error))) {
    return new ChessComError("too_large", `The answer for ${what} is larger than the size limit.`, {
      hint: "Raise --max-response-mb if you really need it.",
    });
  }
  return new ChessComError("upstream", `Could not reach Chess.com for ${what}: ${(error as Error).message}`, {
    hint: "Check the network and the --api-base-url setting, then try again.",
    cause: error,
  });
}

/** Retry-After as delta-seconds or an HTTP-date. */
export function retryAfterMs(value: string | undefined, now = Date.now()): number | undefined {
  if (value === undefined) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const at = Date.parse(trimmed);
  return Number.isFinite(at) ? Math.max(0, at - now) : undefined;
}

/** 1 s, 2 s, 4 s… with a little jitter so retries from restarts don't line up. */
function backoffMs(attempt: number): number {
  return Math.round(1000 * 2 ** attempt * (0.8 + Math.random() * 0.4));
}
