import { retry } from "@octokit/plugin-retry";
import { throttling } from "@octokit/plugin-throttling";
import { Octokit } from "@octokit/rest";
import type { Logger } from "@portside/shared";
import { MovedError, ResponseTooLargeError } from "./errors.js";
import { type CachedResponse, EtagCache } from "./etag-cache.js";

/** No single GitHub answer this server reads may be larger (a huge diff, a generated file). */
export const MAX_RESPONSE_BYTES = 25 * 1024 * 1024;
/** Waits longer than this for a rate limit are not worth holding a tool call open. */
const MAX_RATE_LIMIT_WAIT_SECONDS = 60;

const GitHubOctokit = Octokit.plugin(throttling, retry);
export type GitHubOctokitInstance = InstanceType<typeof GitHubOctokit>;

export interface GitHubClientOptions {
  token: string;
  /** e.g. https://api.github.com, or https://ghe.example.com/api/v3 */
  apiUrl: string;
  userAgent: string;
  log: Logger;
  cacheBytes: number;
}

export interface RateLimitState {
  resource: string;
  limit: number;
  remaining: number;
  resetAt: string;
}

export interface AuthenticatedUser {
  login: string;
  scopes: string[] | undefined;
}

/**
 * Octokit set up for a long-running server: throttling (waits out secondary limits, fails fast on
 * an exhausted primary limit), retries on 5xx, conditional requests through an ETag cache, and a
 * fetch that only ever talks to the configured API, never follows redirects (a renamed repository
 * must pass the allowlist under its new name) and refuses answers over MAX_RESPONSE_BYTES.
 */
export class GitHubClient {
  readonly octokit: GitHubOctokitInstance;
  readonly apiBase: string;
  readonly cache: EtagCache;
  private readonly log: Logger;
  private readonly rateLimits = new Map<string, RateLimitState>();
  private me: Promise<AuthenticatedUser> | undefined;

  constructor(options: GitHubClientOptions) {
    this.apiBase = options.apiUrl.replace(/\/+$/, "");
    this.log = options.log;
    this.cache = new EtagCache(options.cacheBytes);
    const log = options.log;
    this.octokit = new GitHubOctokit({
      auth: options.token,
      baseUrl: this.apiBase,
      userAgent: options.userAgent,
      log: {
        debug: () => undefined,
        info: () => undefined,
        warn: (message: string) => log.warn(message),
        error: (message: string) => log.error(message),
      },
      request: { fetch: this.guardedFetch, redirect: "manual" },
      // 429 is the throttling plugin's (it honours Retry-After); the rest cannot succeed on a retry.
      retry: { retries: 2, doNotRetry: [400, 401, 403, 404, 405, 406, 409, 410, 413, 422, 429, 451] },
      throttle: {
        onRateLimit: (
          retryAfter: number,
          request: { method: string; url: string },
          _o: unknown,
          retryCount: number,
        ) => {
          const wait = retryCount < 1 && retryAfter <= MAX_RATE_LIMIT_WAIT_SECONDS;
          log.warn("GitHub primary rate limit reached", { retryAfter, retrying: wait, url: request.url });
          return wait;
        },
        onSecondaryRateLimit: (
          retryAfter: number,
          request: { method: string; url: string },
          _o: unknown,
          retryCount: number,
        ) => {
          const wait = retryCount < 2 && retryAfter <= MAX_RATE_LIMIT_WAIT_SECONDS * 2;
          log.warn("GitHub secondary rate limit reached", { retryAfter, retrying: wait, url: request.url });
          return wait;
        },
      },
    });
    this.installConditionalRequests();
  }

  /** The token's user (cached for the life of the process: a token's login does not change). */
  authenticatedUser(signal?: AbortSignal): Promise<AuthenticatedUser> {
    this.me ??= this.octokit.rest.users.getAuthenticated({ request: signal ? { signal } : {} }).then(
      (response) => ({ login: response.data.login, scopes: parseScopes(response.headers["x-oauth-scopes"]) }),
      (error: unknown) => {
        this.me = undefined;
        throw error;
      },
    );
    return this.me;
  }

  rateLimit(resource = "core"): RateLimitState | undefined {
    return this.rateLimits.get(resource);
  }

  /** A `Link` URL from GitHub as a path under the API base, or undefined if it points elsewhere. */
  apiPath(url: string): string | undefined {
    if (url.startsWith("/")) return url;
    if (!url.startsWith(`${this.apiBase}/`)) return undefined;
    return url.slice(this.apiBase.length);
  }

  /** GET a path under the API base (a page URL from a cursor). */
  async getPath<T>(path: string, signal: AbortSignal, mediaType?: { format?: string; previews?: string[] }) {
    return this.octokit.request<string>(`GET ${path}`, {
      request: { signal },
      ...(mediaType ? { mediaType } : {}),
    }) as unknown as Promise<{ data: T; url: string; headers: Record<string, string | undefined>; status: number }>;
  }

  private readonly guardedFetch = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const url = typeof input === "string" ? input : input instanceof URL ? input.href : input.url;
    if (url !== this.apiBase && !url.startsWith(`${this.apiBase}/`) && !url.startsWith(`${this.apiBase}?`)) {
      // Link headers and redirects are GitHub's, but nothing may send the token anywhere else.
      throw new Error(`refusing to send a request outside the configured GitHub API (${new URL(url).origin})`);
    }
    const response = await fetch(url, { ...init, redirect: "manual" });
    const declared = Number(response.headers.get("content-length"));
    if (Number.isFinite(declared) && declared > MAX_RESPONSE_BYTES) {
      await response.body?.cancel().catch(() => undefined);
      return tooLargeResponse();
    }
    if (!response.body || [101, 103, 204, 205, 304].includes(response.status)) return response;
    const chunks: Uint8Array[] = [];
    let size = 0;
    const reader = response.body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > MAX_RESPONSE_BYTES) {
        await reader.cancel().catch(() => undefined);
        return tooLargeResponse();
      }
      chunks.push(value);
    }
    const buffered = new Response(Buffer.concat(chunks), {
      status: response.status,
      statusText: response.statusText,
      headers: response.headers,
    });
    // Octokit reports `response.url`; paging resumes from it when the budget cuts a page short.
    Object.defineProperty(buffered, "url", { value: response.url || url });
    return buffered;
  };

  private installConditionalRequests(): void {
    const octokit = this.octokit;
    octokit.hook.wrap("request", async (request, options) => {
      let key: string | undefined;
      if (options.method === "GET") {
        const parsed = octokit.request.endpoint.parse(options);
        key = `${parsed.url} ${parsed.headers.accept ?? ""}`;
        const etag = this.cache.etagFor(key);
        // Hooks further in receive this same options object (not the argument), so set it in place.
        if (etag) options.headers = { ...options.headers, "if-none-match": etag };
      }
      try {
        const response = await request(options);
        this.trackRateLimit(response.headers);
        if (response.status >= 300 && response.status < 400) {
          throw new MovedError(response.status, response.headers.location);
        }
        if (key) this.cache.store(key, response as CachedResponse);
        return response;
      } catch (error) {
        const status = (error as { status?: number }).status;
        const headers = (error as { response?: { headers?: Record<string, string> } }).response?.headers;
        if (headers) this.trackRateLimit(headers);
        if (status === 304 && key) {
          const cached = this.cache.revalidated(key);
          if (cached) return cached as Awaited<ReturnType<typeof request>>;
        }
        if (
          status === 413 &&
          (error as { response?: { headers?: Record<string, string> } }).response?.headers?.[TOO_LARGE_HEADER]
        ) {
          throw new ResponseTooLargeError(MAX_RESPONSE_BYTES);
        }
        throw error;
      }
    });
  }

  private trackRateLimit(headers: Record<string, string | number | undefined>): void {
    const limit = Number(headers["x-ratelimit-limit"]);
    const remaining = Number(headers["x-ratelimit-remaining"]);
    const reset = Number(headers["x-ratelimit-reset"]);
    if (!Number.isFinite(limit) || !Number.isFinite(remaining) || !Number.isFinite(reset)) return;
    const resource = String(headers["x-ratelimit-resource"] ?? "core");
    this.rateLimits.set(resource, { resource, limit, remaining, resetAt: new Date(reset * 1000).toISOString() });
    if (remaining > 0 && remaining < limit * 0.05) {
      this.log.warn("GitHub rate limit nearly exhausted", { resource, remaining, limit });
    }
  }
}

const TOO_LARGE_HEADER = "x-portside-too-large";

function tooLargeResponse(): Response {
  return new Response(JSON.stringify({ message: `response larger than ${MAX_RESPONSE_BYTES} bytes` }), {
    status: 413,
    headers: { "content-type": "application/json; charset=utf-8", [TOO_LARGE_HEADER]: "1" },
  });
}

function parseScopes(header: string | undefined): string[] | undefined {
  if (header === undefined) return undefined;
  return header
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
}
