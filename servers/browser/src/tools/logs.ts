import { defineTool, sanitizeText, type Tool } from "@portside/shared";
import { z } from "zod";
import type { ConsoleEntry, NetworkEntry } from "../browser/tab.js";
import { type BrowserService, withTab } from "./common.js";

const LEVELS = ["error", "warning", "info", "debug", "all"] as const;
const LEVEL_RANK: Record<string, number> = {
  pageerror: 0,
  error: 0,
  assert: 0,
  warn: 1,
  warning: 1,
  info: 2,
  log: 2,
  debug: 3,
};

export function logTools(service: BrowserService): Tool[] {
  const consoleMessages = defineTool({
    name: "console_messages",
    title: "Console messages",
    description:
      "Lists the current tab's console output and uncaught page errors, oldest first, at or above a level (default: all). Each entry has a sequence number; pass the last one as after to see only newer messages. Keeps the newest 500 per tab.",
    input: z.strictObject({
      level: z.enum(LEVELS).default("all").describe("Lowest level shown"),
      after: z.number().int().min(0).default(0).describe("Only entries with a higher sequence number"),
      limit: z.number().int().min(1).max(500).default(100),
    }),
    output: z.object({
      messages: z.array(
        z.object({ seq: z.number().int(), level: z.string(), text: z.string(), location: z.string().optional() }),
      ),
      more: z.number().int().describe("Matching entries not shown (page on with after)"),
    }),
    annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true },
    async handler({ level, after, limit }, ctx) {
      return withTab(service, ctx, async (tab) => {
        const ceiling = level === "all" ? 3 : (LEVEL_RANK[level] ?? 3);
        const matching = tab.console.since(after).filter((entry) => (LEVEL_RANK[entry.level] ?? 2) <= ceiling);
        const page = matching.slice(0, limit).map((entry) => sanitizeEntry(entry));
        const fitted = ctx.budget.fitItems(page, { atLeastOne: true });
        return {
          data: { messages: fitted.items, more: matching.length - fitted.items.length },
          untrusted: true,
        };
      });
    },
    render: ({ messages, more }) => {
      if (messages.length === 0) return "No console messages.";
      const lines = messages.map((m) => `#${m.seq} [${m.level}] ${m.text}${m.location ? ` (${m.location})` : ""}`);
      if (more > 0) lines.push(`… ${more} more; call again with after: ${messages.at(-1)?.seq}.`);
      return lines.join("\n");
    },
  });

  const networkRequests = defineTool({
    name: "network_requests",
    title: "Network requests",
    description:
      "Lists the current tab's requests, oldest first: method, URL, resource type, HTTP status, failure, and the network policy's reason for any it refused (including connections refused at the proxy, e.g. from workers). Filter by outcome or URL substring; page with after (a sequence number). Keeps the newest 1000 per tab.",
    input: z.strictObject({
      filter: z.enum(["all", "failed", "blocked"]).default("all").describe("failed includes blocked"),
      urlContains: z.string().max(500).optional(),
      after: z.number().int().min(0).default(0),
      limit: z.number().int().min(1).max(1000).default(100),
    }),
    output: z.object({
      requests: z.array(
        z.object({
          seq: z.number().int(),
          method: z.string(),
          url: z.string(),
          type: z.string(),
          status: z.number().int().optional(),
          failure: z.string().optional(),
          blocked: z.string().optional(),
          source: z.enum(["page", "proxy"]),
        }),
      ),
      more: z.number().int(),
    }),
    annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true },
    async handler({ filter, urlContains, after, limit }, ctx) {
      return withTab(service, ctx, async (tab) => {
        const matching = tab.network.since(after).filter((entry) => {
          if (filter === "blocked" && !entry.blocked) return false;
          if (filter === "failed" && !entry.blocked && !entry.failure && (entry.status ?? 0) < 400) return false;
          return urlContains === undefined || entry.url.includes(urlContains);
        });
        const page = matching.slice(0, limit).map((entry) => sanitizeRequest(entry));
        const fitted = ctx.budget.fitItems(page, { atLeastOne: true });
        return { data: { requests: fitted.items, more: matching.length - fitted.items.length }, untrusted: true };
      });
    },
    render: ({ requests, more }) => {
      if (requests.length === 0) return "No matching requests.";
      const lines = requests.map((r) => {
        const outcome = r.blocked
          ? `REFUSED: ${r.blocked}`
          : r.failure
            ? `failed: ${r.failure}`
            : r.status !== undefined
              ? String(r.status)
              : "pending";
        return `#${r.seq} ${r.method} ${r.url} (${r.type}) → ${outcome}`;
      });
      if (more > 0) lines.push(`… ${more} more; call again with after: ${requests.at(-1)?.seq}.`);
      return lines.join("\n");
    },
  });

  return [consoleMessages, networkRequests];
}

function sanitizeEntry(entry: ConsoleEntry): ConsoleEntry {
  return {
    seq: entry.seq,
    level: entry.level,
    text: sanitizeText(entry.text),
    ...(entry.location ? { location: sanitizeText(entry.location.slice(0, 300)) } : {}),
  };
}

function sanitizeRequest(entry: NetworkEntry): NetworkEntry {
  const url = entry.url.length > 500 ? `${entry.url.slice(0, 499)}…` : entry.url;
  return { ...entry, url: sanitizeText(url) };
}
