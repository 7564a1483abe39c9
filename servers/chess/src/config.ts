import { type ConfigOf, option } from "@portside/shared";
import { z } from "zod";
import pkg from "../package.json" with { type: "json" };

export const PACKAGE = { name: pkg.name, version: pkg.version, homepage: "https://github.com/portside-mcp/portside" };

export const DEFAULT_API_BASE_URL = "https://api.chess.com/pub";

const baseUrl = z
  .string()
  .trim()
  .refine((value) => {
    try {
      const url = new URL(value);
      return (url.protocol === "https:" || url.protocol === "http:") && !url.search && !url.hash && !url.username;
    } catch {
      return false;
    }
  }, "must be an http(s) URL without query, fragment or credentials, e.g. https://api.chess.com/pub")
  .transform((value) => value.replace(/\/+$/, ""));

/** Printable ASCII only: it goes into a header, so no line breaks can sneak in. */
const contact = z
  .string()
  .trim()
  .min(3)
  .max(200)
  .regex(/^[\x20-\x7e]+$/, "must be printable ASCII (no line breaks), e.g. you@example.com")
  .optional();

export const chessOptions = {
  apiBaseUrl: option({
    type: "string",
    flag: "api-base-url",
    env: "CHESS_API_BASE_URL",
    help: "Base URL of the Published-Data API (change it only for a mirror or a test server).",
    schema: baseUrl.default(DEFAULT_API_BASE_URL),
    placeholder: "url",
  }),
  contact: option({
    type: "string",
    flag: "contact",
    env: "CHESS_CONTACT",
    help: "Contact info for the User-Agent Chess.com asks for (an email, or your Chess.com username); without it the package name, version and repository URL are sent.",
    schema: contact,
    placeholder: "text",
  }),
  timeoutSeconds: option({
    type: "number",
    flag: "timeout-seconds",
    env: "CHESS_TIMEOUT_SECONDS",
    help: "Longest wait for one answer from Chess.com, in seconds.",
    schema: z.number().int().min(1).max(300).default(20),
  }),
  maxRetries: option({
    type: "number",
    flag: "max-retries",
    env: "CHESS_MAX_RETRIES",
    help: "Extra attempts after a 429 (waiting as Retry-After says) or a 5xx answer. 410 and 404 are never retried.",
    schema: z.number().int().min(0).max(10).default(3),
  }),
  maxRetryWaitSeconds: option({
    type: "number",
    flag: "max-retry-wait-seconds",
    env: "CHESS_MAX_RETRY_WAIT_SECONDS",
    help: "Longest Retry-After to wait out; a longer one fails at once and says how long to wait.",
    schema: z.number().int().min(0).max(3600).default(60),
  }),
  cacheMb: option({
    type: "number",
    flag: "cache-mb",
    env: "CHESS_CACHE_MB",
    help: "Memory for cached answers (revalidated with ETag / Last-Modified, fresh for Cache-Control max-age).",
    schema: z.number().int().min(1).max(4096).default(64),
  }),
  maxResponseMb: option({
    type: "number",
    flag: "max-response-mb",
    env: "CHESS_MAX_RESPONSE_MB",
    help: "Largest single answer accepted from Chess.com (after decompression), in MiB.",
    schema: z.number().int().min(1).max(1024).default(64),
  }),
  maxMonths: option({
    type: "number",
    flag: "max-months",
    env: "CHESS_MAX_MONTHS",
    help: "Most monthly archives one analysis may read (one request each).",
    schema: z.number().int().min(1).max(600).default(120),
  }),
};

export type ChessConfig = ConfigOf<typeof chessOptions>;

/** What Chess.com asks of API clients: a User-Agent that says who to contact. */
export function userAgent(contactInfo: string | undefined): string {
  const product = `${PACKAGE.name.replace(/^@/, "").replace("/", "-")}/${PACKAGE.version}`;
  return contactInfo
    ? `${product} (+${PACKAGE.homepage}; contact: ${contactInfo})`
    : `${product} (+${PACKAGE.homepage}; package ${PACKAGE.name})`;
}
