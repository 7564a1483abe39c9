import { defineTool, sanitizeText, type Tool, type ToolContext, ToolError } from "@portside/shared";
import type { HTTPResponse, PuppeteerLifeCycleEvent } from "puppeteer-core";
import { z } from "zod";
import type { Tab } from "../browser/tab.js";
import { PROXY_HEADER } from "../network/proxy.js";
import { type BrowserService, downloadRefused, firstLine, withTab } from "./common.js";

const waitUntilSchema = z
  .enum(["load", "domcontentloaded", "networkidle"])
  .default("load")
  .describe(
    "When the page counts as loaded: load (default), domcontentloaded (sooner), networkidle (no traffic for 500 ms)",
  );

const LIFECYCLE: Record<z.infer<typeof waitUntilSchema>, PuppeteerLifeCycleEvent> = {
  load: "load",
  domcontentloaded: "domcontentloaded",
  networkidle: "networkidle2",
};

const pageOutput = z.object({
  url: z.string(),
  title: z.string(),
  status: z.number().int().optional().describe("HTTP status of the main document"),
  tab: z.string(),
  elements: z.record(z.string(), z.number().int()).describe("How many elements of each role the page offers"),
});

type PageOutput = z.infer<typeof pageOutput>;

const KNOWN_SCHEME =
  /^(about|data|javascript|file|view-source|chrome|chrome-extension|blob|mailto|filesystem|ftp|wss?|https?|devtools|edge):/i;

/** Adds a scheme to a bare host ("example.com/x" → https://…, "localhost:3000" → http://…). */
export function withScheme(input: string): string {
  const text = input.trim();
  if (text.includes("://") || KNOWN_SCHEME.test(text)) return text;
  const local = /^(localhost|127\.\d+\.\d+\.\d+|\[::1\])(:\d+)?(\/|$)/i.test(text);
  return `${local ? "http" : "https"}://${text}`;
}

function summarize(counts: Record<string, number>): string {
  const entries = Object.entries(counts).sort((a, b) => b[1] - a[1]);
  if (entries.length === 0) return "No interactive elements.";
  const plural = (word: string) => (/(x|s|ch|sh)$/.test(word) ? `${word}es` : `${word}s`);
  return `${entries.map(([role, n]) => `${n} ${n === 1 ? role : plural(role)}`).join(", ")}.`;
}

async function describePage(tab: Tab, status: number | undefined): Promise<PageOutput> {
  const snap = await tab.snapshot({ maxTextLength: 160 });
  return {
    url: snap.url,
    title: sanitizeText(snap.title),
    ...(status !== undefined ? { status } : {}),
    tab: tab.id,
    elements: snap.outline.counts,
  };
}

function renderPage(verb: string) {
  return (data: PageOutput) =>
    [
      `${verb} ${data.url}${data.status !== undefined ? ` (HTTP ${data.status})` : ""} — ${JSON.stringify(data.title)} in tab ${data.tab}.`,
      `Elements: ${summarize(data.elements)}`,
      "Call snapshot to see them with refs, or read_page for the text.",
    ].join("\n");
}

/** Turns a failed load into an error that names the cause (policy refusal, DNS, timeout). */
function loadFailure(error: unknown, tab: Tab, mark: number, url: string, waitUntil: string): ToolError {
  const blocked = tab.navigationBlockReason(mark);
  if (blocked) {
    return new ToolError("permission_denied", sanitizeText(blocked), {
      hint: "Only addresses the operator's network policy allows can be opened (redirects included).",
      details: { url },
    });
  }
  const download = tab.refusedDownloads(mark).at(-1);
  if (download) {
    return new ToolError("permission_denied", sanitizeText(downloadRefused(download)), {
      hint: "Open a page that shows the content instead of the file itself.",
      details: { url },
    });
  }
  const message = firstLine(String((error as Error)?.message ?? error));
  if ((error as Error)?.name === "TimeoutError") {
    return new ToolError("timeout", `${url} did not finish loading (${waitUntil}) in time.`, {
      hint: 'The page may still be usable: take a snapshot, or navigate again with waitUntil: "domcontentloaded".',
    });
  }
  if (
    /ERR_TUNNEL_CONNECTION_FAILED|ERR_PROXY_CONNECTION_FAILED|ERR_CONNECTION_REFUSED|ERR_NAME_NOT_RESOLVED/.test(
      message,
    )
  ) {
    return new ToolError("upstream_error", `Could not connect to ${url} (${message}).`, {
      hint: "Check the address; the site may be down.",
    });
  }
  return new ToolError("upstream_error", `Loading ${url} failed: ${message}`);
}

function checkProxyAnswer(response: HTTPResponse | null, url: string): void {
  const marker = response?.headers()[PROXY_HEADER];
  if (marker === "unreachable") {
    throw new ToolError("upstream_error", `Could not connect to ${url}.`, {
      hint: "Check the address; the site may be down.",
    });
  }
}

export function navigationTools(service: BrowserService): Tool[] {
  const navigate = defineTool({
    name: "navigate",
    title: "Open a URL",
    description:
      "Opens a web page in the current tab and waits for it to load. Returns the final URL, title, HTTP status and a count of the page's interactive elements — call snapshot next to see them with refs. Only http and https URLs are opened (a bare host gets https://), and every request the page makes, redirects included, must pass the operator's network policy; refusals are errors that say why.",
    input: z.strictObject({
      url: z.string().min(1).max(8192).describe("The address to open, e.g. https://example.com/docs"),
      waitUntil: waitUntilSchema,
      timeoutMs: z
        .number()
        .int()
        .min(1000)
        .max(300_000)
        .optional()
        .describe("Longest to wait (capped by the server's setting)"),
    }),
    output: pageOutput,
    annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: true },
    async handler({ url: raw, waitUntil, timeoutMs }, ctx) {
      const url = withScheme(raw);
      const verdict = await service.deps.gate.checkUrl(url, "navigation");
      if (!verdict.allowed) {
        throw new ToolError("permission_denied", verdict.message, {
          hint: "Open an http(s) address the operator's network policy allows.",
          details: { argument: "url", rule: verdict.rule },
        });
      }
      const timeout = Math.min(timeoutMs ?? service.timeouts.navigation, service.timeouts.navigation);
      if (!service.sessionFor(ctx).isRunning) await ctx.progress(0, 3, "Starting the browser");
      return withTab(
        service,
        ctx,
        async (tab) => {
          await ctx.progress(1, 3, `Loading ${url}`);
          const mark = tab.network.lastSeq;
          let response: HTTPResponse | null;
          try {
            response = await tab.page.goto(url, { waitUntil: LIFECYCLE[waitUntil], timeout });
          } catch (error) {
            throw loadFailure(error, tab, mark, url, waitUntil);
          }
          checkProxyAnswer(response, url);
          await ctx.progress(2, 3, "Loaded; reading the page");
          const data = await describePage(tab, response?.status());
          return { data, untrusted: true };
        },
        service.limits.navigation,
      );
    },
    render: renderPage("Opened"),
  });

  const history = (direction: "back" | "forward") =>
    defineTool({
      name: direction === "back" ? "go_back" : "go_forward",
      title: direction === "back" ? "Go back" : "Go forward",
      description: `Goes ${direction} one page in the current tab's history and waits for it to load. Returns the page's URL, title and element counts (call snapshot for refs). Says so when there is no page to go ${direction} to.`,
      input: z.strictObject({ waitUntil: waitUntilSchema }),
      output: pageOutput,
      annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: true },
      async handler({ waitUntil }, ctx: ToolContext) {
        return withTab(
          service,
          ctx,
          async (tab) => {
            const mark = tab.network.lastSeq;
            const before = tab.page.url();
            let response: HTTPResponse | null;
            try {
              const options = { waitUntil: LIFECYCLE[waitUntil], timeout: service.timeouts.navigation };
              response = direction === "back" ? await tab.page.goBack(options) : await tab.page.goForward(options);
            } catch (error) {
              if (/History entry to navigate to not found/i.test(String((error as Error).message))) {
                throw new ToolError("not_found", `There is no page to go ${direction} to in this tab.`);
              }
              throw loadFailure(error, tab, mark, "the page", waitUntil);
            }
            if (!response && tab.page.url() === before) {
              throw new ToolError("not_found", `There is no page to go ${direction} to in this tab.`);
            }
            return { data: await describePage(tab, response?.status()), untrusted: true };
          },
          service.limits.navigation,
        );
      },
      render: renderPage(direction === "back" ? "Went back to" : "Went forward to"),
    });

  return [navigate, history("back"), history("forward")];
}
