import { sanitizeText, type ToolContext, ToolError } from "@portside/shared";
import { z } from "zod";
import { BrowserNotFoundError } from "../browser/discover.js";
import { type BrowserDeps, BrowserSession, TabLimitError } from "../browser/session.js";
import { type DialogEntry, type Tab, TargetError } from "../browser/tab.js";
import { diffLines } from "../util/diff.js";

/** App-wide: makes one BrowserSession per client session and closes them all on shutdown. */
export class BrowserService {
  private readonly sessions = new Set<BrowserSession>();
  private readonly key = {};

  constructor(readonly deps: BrowserDeps) {}

  sessionFor(ctx: ToolContext): BrowserSession {
    return ctx.session.state(this.key, () => {
      const session = new BrowserSession({ ...this.deps, log: ctx.session.log });
      this.sessions.add(session);
      ctx.session.onClose(async () => {
        this.sessions.delete(session);
        await session.close();
      });
      return session;
    });
  }

  async closeAll(): Promise<void> {
    await Promise.all([...this.sessions].map((session) => session.close()));
    this.sessions.clear();
  }

  get timeouts(): { action: number; navigation: number } {
    return { action: this.deps.config.actionTimeoutMs, navigation: this.deps.config.navigationTimeoutMs };
  }

  /** Upper bounds for whole calls: reads, actions (which may set off a page load) and page loads. */
  get limits(): { read: number; action: number; navigation: number } {
    const { action, navigation } = this.timeouts;
    return { read: action * 3, action: action * 3 + navigation, navigation: navigation + action * 2 };
  }
}

export const refSchema = z
  .string()
  .regex(/^e\d{1,9}$/, "refs look like e12 (from a snapshot)")
  .describe("Element ref from the latest snapshot, e.g. e12");
export const selectorSchema = z.string().min(1).max(2000).describe("CSS selector (first match), when there is no ref");

/** The `ref` / `selector` pair every element tool takes; exactly one must be given. */
export const targetShape = { ref: refSchema.optional(), selector: selectorSchema.optional() };

export function requireTarget(args: { ref?: string | undefined; selector?: string | undefined }, tool: string) {
  if ((args.ref === undefined) === (args.selector === undefined)) {
    throw new ToolError("invalid_argument", `${tool} needs exactly one of \`ref\` or \`selector\`.`, {
      hint: 'Pass a ref from snapshot (e.g. ref: "e12") or a CSS selector.',
      details: { argument: args.ref === undefined ? "ref" : "selector" },
    });
  }
  return args.ref !== undefined ? { ref: args.ref } : { selector: args.selector as string };
}

export const dialogSchema = z
  .enum(["accept", "dismiss"])
  .optional()
  .describe("How to answer a confirm/prompt dialog this action opens (default: alerts accepted, confirms dismissed)");

/** Time a first call may spend starting the browser, on top of its own work. */
const LAUNCH_ALLOWANCE_MS = 30_000;

/**
 * Runs a tool's work on the session's current tab, one call at a time, turning the browser's
 * failures into errors that say what to do. `limitMs` bounds the whole call (every step inside
 * has its own, shorter timeout; this is the backstop).
 */
export async function withTab<T>(
  service: BrowserService,
  ctx: ToolContext,
  work: (tab: Tab, session: BrowserSession) => Promise<T>,
  limitMs = service.limits.read,
): Promise<T> {
  return withSession(service, ctx, async (session) => work(await session.currentTab(), session), limitMs);
}

/** Like withTab, for tools that manage the session itself (tabs, close). */
export async function withSession<T>(
  service: BrowserService,
  ctx: ToolContext,
  work: (session: BrowserSession) => Promise<T>,
  limitMs = service.limits.read,
): Promise<T> {
  const session = service.sessionFor(ctx);
  return session.exclusive(async () => {
    if (ctx.signal.aborted) throw new ToolError("cancelled", "The call was cancelled before it started.");
    const deadline = AbortSignal.timeout(limitMs + (session.isRunning ? 0 : LAUNCH_ALLOWANCE_MS));
    const signal = AbortSignal.any([ctx.signal, deadline]);
    try {
      return await abortable(work(session), signal);
    } catch (error) {
      if (deadline.aborted && !ctx.signal.aborted) {
        throw new ToolError("timeout", `The browser did not finish within ${Math.round(limitMs / 1000)} s.`, {
          hint: "The page may be stuck; take a snapshot, or close the browser with close and start again.",
        });
      }
      throw translate(error, ctx);
    }
  });
}

export function abortable<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener("abort", onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(error);
      },
    );
  });
}

function translate(error: unknown, ctx: ToolContext): unknown {
  if (error instanceof ToolError) return error;
  if (ctx.signal.aborted) return ctx.signal.reason instanceof ToolError ? ctx.signal.reason : error;
  if (error instanceof BrowserNotFoundError) {
    return new ToolError("unavailable", error.message, {
      hint: "This is for the operator: install a browser or set BROWSER_EXECUTABLE_PATH, then restart the server.",
    });
  }
  if (error instanceof TabLimitError) return new ToolError("conflict", error.message);
  if (error instanceof TargetError) {
    const code = error.kind === "invalid" ? "invalid_argument" : "not_found";
    return new ToolError(code, error.message, {
      hint: error.kind === "invalid" ? "Fix the selector." : "Call snapshot to get current refs.",
      details: { argument: error.kind === "invalid" ? "selector" : "ref" },
    });
  }
  const name = (error as Error)?.name;
  const message = String((error as Error)?.message ?? error);
  if (name === "TimeoutError") {
    return new ToolError("timeout", `The browser did not finish in time: ${firstLine(message)}`, {
      hint: "The page may be slow or waiting on something; take a snapshot to see its state.",
    });
  }
  if (
    /Target closed|Session closed|detached|Execution context was destroyed|Protocol error.*(closed|not found)/i.test(
      message,
    )
  ) {
    return new ToolError("conflict", `The page changed or closed while acting on it (${firstLine(message)}).`, {
      hint: "Take a new snapshot and try again.",
    });
  }
  if (/Failed to launch|Browser was not found|spawn/i.test(message)) {
    return new ToolError("unavailable", `The browser could not be started: ${firstLine(message)}`, {
      hint: "This is for the operator: check BROWSER_EXECUTABLE_PATH and the server log.",
    });
  }
  return error;
}

export const downloadRefused = (url: string) =>
  `${url} answered with a file to download; downloads are turned off in this browser.`;

export const firstLine = (text: string) => text.split("\n")[0]?.slice(0, 300) ?? "";

/** What an action did, for its answer. */
export interface ActionReport {
  action: string;
  url: string;
  title: string;
  navigated: boolean;
  changes: string[];
  moreChanges: number;
  dialogs: DialogEntry[];
  newTabs: string[];
  blocked: string[];
  notices: string[];
}

export const actionOutput = z.object({
  action: z.string(),
  url: z.string(),
  title: z.string(),
  navigated: z.boolean().describe("The page loaded a new document"),
  changes: z.array(z.string()).describe("Snapshot lines that appeared (+) or went (-)"),
  moreChanges: z.number().int().describe("Changed lines not listed"),
  dialogs: z.array(z.object({ type: z.string(), message: z.string(), outcome: z.enum(["accepted", "dismissed"]) })),
  newTabs: z.array(z.string()).describe("Tabs the page opened"),
  blocked: z.array(z.string()).describe("Requests the network policy refused during the action"),
  notices: z.array(z.string()),
});

const MAX_CHANGES = 20;

/**
 * Performs an action and reports what changed: page loads, dialogs, new tabs, refused requests,
 * and the lines of the snapshot that appeared or went — not a whole new snapshot.
 */
export async function act(
  tab: Tab,
  session: BrowserSession,
  ctx: ToolContext,
  describe: string,
  action: () => Promise<void>,
): Promise<ActionReport> {
  const before = await tab.outlineText();
  const tabsBefore = new Set(session.tabIds());
  const networkMark = tab.network.lastSeq;
  tab.dialogs.length = 0;
  let documentsBefore = 0;
  const countDocuments = () => {
    documentsBefore++;
  };
  tab.page.on("domcontentloaded", countDocuments);
  try {
    await action();
    await tab.settle(ctx.signal);
  } finally {
    tab.page.off("domcontentloaded", countDocuments);
  }
  const after = tab.closed ? { url: before.url, title: before.title, lines: [] } : await tab.outlineText();
  const navigated = documentsBefore > 0;
  let changes: string[] = [];
  let moreChanges = 0;
  if (!navigated) {
    const diff = diffLines(before.lines, after.lines);
    changes = diff.changes.slice(0, MAX_CHANGES).map((change) => {
      const line = `${change.slice(0, 2)}${change.slice(2).trimStart()}`;
      return sanitizeText(line.length > 200 ? `${line.slice(0, 199)}…` : line);
    });
    moreChanges = diff.changes.length - changes.length;
  }
  const blocked = tab.network
    .since(networkMark)
    .filter((entry) => entry.blocked)
    .map((entry) => sanitizeText(`${entry.url.slice(0, 200)} — ${entry.blocked}`));
  return {
    action: describe,
    url: after.url,
    title: sanitizeText(after.title),
    navigated,
    changes,
    moreChanges,
    dialogs: tab.dialogs.splice(0).map((d) => ({ ...d, message: sanitizeText(d.message) })),
    newTabs: session.tabIds().filter((id) => !tabsBefore.has(id)),
    blocked: blocked.slice(0, 10),
    notices: [
      ...tab.refusedDownloads(networkMark).map((url) => sanitizeText(downloadRefused(url.slice(0, 200)))),
      ...session.notices.splice(0),
    ],
  };
}

export function renderAction(report: ActionReport): string {
  const lines = [`${report.action}.`];
  if (report.navigated) lines.push(`The page loaded a new document: ${JSON.stringify(report.title)} ${report.url}`);
  for (const dialog of report.dialogs) {
    lines.push(`A ${dialog.type} dialog was ${dialog.outcome}: ${JSON.stringify(dialog.message)}`);
  }
  if (report.newTabs.length) {
    lines.push(`New tab(s) opened: ${report.newTabs.join(", ")} (switch with tabs {action: "select"}).`);
  }
  for (const blocked of report.blocked) lines.push(`Refused: ${blocked}`);
  lines.push(...report.notices);
  if (report.navigated) {
    lines.push("Call snapshot to see the new page.");
  } else if (report.changes.length === 0) {
    lines.push("Nothing visible changed in the page's accessibility tree.");
  } else {
    lines.push("Changes:", ...report.changes);
    if (report.moreChanges > 0)
      lines.push(`… and ${report.moreChanges} more changed lines; call snapshot for the full page.`);
  }
  return lines.join("\n");
}
