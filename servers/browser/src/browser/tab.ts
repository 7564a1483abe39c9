import type { CDPSession, Dialog, ElementHandle, HTTPRequest, Page } from "puppeteer-core";
import type { NetworkGate } from "../network/gate.js";
import type { Refusal } from "../policy/policy.js";
import { captureTree } from "../snapshot/capture.js";
import { RefRegistry } from "../snapshot/refs.js";
import { formatLines, type Outline, type RenderOptions, renderOutline } from "../snapshot/render.js";
import { type AxNode, findNode } from "../snapshot/tree.js";
import { Ring } from "../util/ring.js";
import { adoptElement, frameId, frameSession } from "./internals.js";

export interface ConsoleEntry {
  seq: number;
  level: string;
  text: string;
  location?: string;
}

export interface NetworkEntry {
  seq: number;
  method: string;
  url: string;
  type: string;
  status?: number;
  failure?: string;
  /** Refused by the network policy, with the reason. */
  blocked?: string;
  /** Who saw it: the page's own request interception, or the proxy every connection passes. */
  source: "page" | "proxy";
}

export interface DialogEntry {
  type: string;
  message: string;
  outcome: "accepted" | "dismissed";
}

export type DialogAnswer = { accept: boolean; promptText?: string };

export interface TabOptions {
  id: string;
  gate: NetworkGate;
  actionTimeoutMs: number;
  navigationTimeoutMs: number;
}

export interface PageSnapshot {
  url: string;
  title: string;
  outline: Outline;
  tree: AxNode | undefined;
}

/** What a ref or selector resolved to. */
export interface ResolvedTarget {
  element: ElementHandle<Element>;
  /** `button "Send" [e12]` or `css "form > button"`, for messages. */
  label: string;
  role?: string;
}

export class TargetError extends Error {
  constructor(
    message: string,
    readonly kind: "stale" | "missing" | "invalid",
  ) {
    super(message);
    this.name = "TargetError";
  }
}

const MAX_CONSOLE_TEXT = 2000;

/** The host of a logged request: a URL, or the `host:port` of a CONNECT tunnel. */
function hostOf(target: string): string {
  if (target.includes("://")) {
    try {
      return new URL(target).hostname.toLowerCase();
    } catch {
      return target.toLowerCase();
    }
  }
  return target.slice(0, target.lastIndexOf(":")).toLowerCase();
}
const SNAPSHOT_FRAMES = 20;

/**
 * One browser tab and everything the server keeps about it: the policy check on each request,
 * console and network logs, element refs, dialogs, and whether a page load is under way.
 */
export class Tab {
  readonly refs = new RefRegistry();
  readonly console = new Ring<ConsoleEntry>(500);
  readonly network = new Ring<NetworkEntry>(1000);
  /** Dialogs answered since the last action reported them. */
  readonly dialogs: DialogEntry[] = [];
  private readonly inflight = new Set<HTTPRequest>();
  private readonly entries = new WeakMap<HTTPRequest, NetworkEntry>();
  private readonly watchedSessions = new WeakSet<CDPSession>();
  private navigation: { done: Promise<void>; resolve: () => void } | undefined;
  private dialogAnswer: DialogAnswer | undefined;
  /** Set when the page was closed by itself or by us. */
  closed = false;

  private constructor(
    readonly page: Page,
    private readonly options: TabOptions,
  ) {}

  get id(): string {
    return this.options.id;
  }

  static async open(page: Page, options: TabOptions): Promise<Tab> {
    const tab = new Tab(page, options);
    await tab.attach();
    return tab;
  }

  private async attach(): Promise<void> {
    const page = this.page;
    page.setDefaultTimeout(this.options.actionTimeoutMs);
    page.setDefaultNavigationTimeout(this.options.navigationTimeoutMs);
    page.on("request", (request) => void this.onRequest(request));
    page.on("response", (response) => {
      const entry = this.entries.get(response.request());
      if (entry) entry.status = response.status();
    });
    page.on("requestfinished", (request) => this.inflight.delete(request));
    page.on("requestfailed", (request) => {
      this.inflight.delete(request);
      const entry = this.entries.get(request);
      if (entry && !entry.blocked) entry.failure = request.failure()?.errorText ?? "failed";
      if (request.isNavigationRequest() && request.frame() === page.mainFrame()) this.finishNavigation();
    });
    page.on("domcontentloaded", () => this.finishNavigation());
    page.on("console", (message) => {
      const location = message.location();
      this.console.push((seq) => ({
        seq,
        level: message.type(),
        text: message.text().slice(0, MAX_CONSOLE_TEXT),
        ...(location?.url ? { location: `${location.url}:${(location.lineNumber ?? 0) + 1}` } : {}),
      }));
    });
    page.on("pageerror", (error) => {
      const text = error instanceof Error ? error.message : String(error);
      this.console.push((seq) => ({ seq, level: "pageerror", text: text.slice(0, MAX_CONSOLE_TEXT) }));
    });
    page.on("dialog", (dialog) => void this.onDialog(dialog));
    page.on("close", () => {
      this.closed = true;
    });
    this.watch(frameSession(page.mainFrame()));
    await page.setRequestInterception(true);
  }

  /** Forgets a frame's refs when it loads a new document (its node ids start over). */
  private watch(session: CDPSession): void {
    if (this.watchedSessions.has(session)) return;
    this.watchedSessions.add(session);
    session.on("Page.frameNavigated", (event: { frame: { id: string } }) => this.refs.forgetFrame(event.frame.id));
  }

  private async onRequest(request: HTTPRequest): Promise<void> {
    const url = request.url();
    const mainNavigation = request.isNavigationRequest() && request.frame() === this.page.mainFrame();
    if (mainNavigation) this.startNavigation();
    if (!url.startsWith("data:")) {
      this.inflight.add(request);
      const entry = this.network.push((seq) => ({
        seq,
        method: request.method(),
        url,
        type: request.resourceType(),
        source: "page",
      }));
      this.entries.set(request, entry);
    }
    if (request.isInterceptResolutionHandled()) return;
    let verdict: { allowed: true } | Refusal;
    try {
      verdict = await this.options.gate.checkUrl(url, mainNavigation ? "navigation" : "subresource");
    } catch {
      verdict = {
        allowed: false,
        rule: "invalid-url",
        message: "Blocked by the network policy: the URL could not be checked.",
      };
    }
    try {
      if (verdict.allowed) {
        await request.continue();
      } else {
        const entry = this.entries.get(request);
        if (entry) entry.blocked = verdict.message;
        await request.abort("blockedbyclient");
      }
    } catch {
      // The request went away (frame detached, page closed) while it was being judged.
    }
  }

  private async onDialog(dialog: Dialog): Promise<void> {
    const type = dialog.type();
    const answer = this.dialogAnswer ?? { accept: type === "alert" || type === "beforeunload" };
    try {
      if (answer.accept) await dialog.accept(answer.promptText);
      else await dialog.dismiss();
    } catch {
      // Already handled or the page went away.
    }
    this.dialogs.push({
      type,
      message: dialog.message().slice(0, 500),
      outcome: answer.accept ? "accepted" : "dismissed",
    });
  }

  /** How the next dialogs are answered (until reset with undefined). */
  answerDialogsWith(answer: DialogAnswer | undefined): void {
    this.dialogAnswer = answer;
  }

  /** A refusal from the proxy, shown among this tab's requests. */
  recordProxyBlock(method: string, target: string, message: string): void {
    this.network.push((seq) => ({
      seq,
      method,
      url: target,
      type: method === "CONNECT" ? "connection" : "other",
      blocked: message,
      source: "proxy",
    }));
  }

  /**
   * Why a page load since `since` was refused, if it was: a refused document request (the
   * navigation or one of its redirects), or a connection the proxy refused to a host one of those
   * requests went to. Other refusals in the meantime (a subresource, the browser's own background
   * traffic) did not stop the load and must not be given as its reason.
   */
  navigationBlockReason(since: number): string | undefined {
    const entries = this.network.since(since);
    const documents = entries.filter((entry) => entry.source === "page" && entry.type === "document");
    const hosts = new Set(documents.map((entry) => hostOf(entry.url)));
    const reasons = entries.filter((entry) =>
      entry.source === "page"
        ? entry.blocked && entry.type === "document"
        : entry.blocked && hosts.has(hostOf(entry.url)),
    );
    return reasons.at(-1)?.blocked;
  }

  /**
   * Documents since `since` that turned into downloads, which are off: answered (2xx, not 204/205,
   * which never show anything), then aborted by the browser — what Chrome does with a file it is
   * not to display when downloads are denied.
   */
  refusedDownloads(since: number): string[] {
    return this.network
      .since(since)
      .filter(
        (entry) =>
          entry.source === "page" &&
          entry.type === "document" &&
          entry.failure === "net::ERR_ABORTED" &&
          entry.status !== undefined &&
          entry.status >= 200 &&
          entry.status < 300 &&
          entry.status !== 204 &&
          entry.status !== 205,
      )
      .map((entry) => entry.url);
  }

  private startNavigation(): void {
    if (this.navigation) return;
    let resolve!: () => void;
    const done = new Promise<void>((r) => {
      resolve = r;
    });
    this.navigation = { done, resolve };
  }

  private finishNavigation(): void {
    this.navigation?.resolve();
    this.navigation = undefined;
  }

  /**
   * Waits for what an action set off: a page load it started (up to the navigation timeout), then
   * a quiet network for a moment (at most `quietCapMs`). Never throws.
   */
  async settle(signal: AbortSignal, quietCapMs = 1500): Promise<void> {
    await sleep(50, signal);
    const navigation = this.navigation;
    if (navigation) {
      await Promise.race([navigation.done, sleep(this.options.navigationTimeoutMs, signal)]);
    }
    const deadline = Date.now() + quietCapMs;
    let quietSince = this.inflight.size === 0 ? Date.now() : 0;
    while (!signal.aborted && Date.now() < deadline) {
      if (this.inflight.size === 0) {
        if (quietSince === 0) quietSince = Date.now();
        if (Date.now() - quietSince >= 100) break;
      } else {
        quietSince = 0;
      }
      await sleep(25, signal);
    }
  }

  get loading(): boolean {
    return this.navigation !== undefined;
  }

  async snapshot(render: Omit<RenderOptions, "origin">): Promise<PageSnapshot> {
    const page = this.page;
    const tree = await captureTree(page, { maxFrames: SNAPSHOT_FRAMES, onSession: (s) => this.watch(s) });
    const url = page.url();
    let origin: string | undefined;
    try {
      const parsed = new URL(url);
      origin = parsed.origin === "null" ? undefined : parsed.origin;
    } catch {
      origin = undefined;
    }
    this.refs.beginSnapshot();
    const outline = tree
      ? renderOutline(tree, this.refs, { ...render, ...(origin ? { origin } : {}) })
      : { lines: [], counts: {} };
    return { url, title: await page.title().catch(() => ""), outline, tree };
  }

  /** The lines of a snapshot as text, for comparing before and after an action. */
  async outlineText(): Promise<{ url: string; title: string; lines: string[] }> {
    const snap = await this.snapshot({ maxTextLength: 160, hideFocus: true });
    return {
      url: snap.url,
      title: snap.title,
      lines: formatLines(snap.outline.lines).split("\n").filter(Boolean),
    };
  }

  /** Finds the subtree of a ref in a captured tree, for scoped snapshots. */
  subtree(tree: AxNode, ref: string): AxNode {
    const target = this.refs.resolve(ref);
    if (!target) throw this.unknownRef(ref);
    const node = findNode(tree, (n) => n.frame === target.frame && n.backendNodeId === target.backendNodeId);
    if (!node) throw new TargetError(`${ref} is no longer on the page; take a new snapshot.`, "stale");
    return node;
  }

  /** Resolves a ref from a snapshot, or a CSS selector, to an element in its frame. */
  async resolveTarget(
    target: { ref?: string; selector?: string },
    world: "isolated" | "main" = "isolated",
  ): Promise<ResolvedTarget> {
    if (target.ref !== undefined) {
      const known = this.refs.resolve(target.ref);
      if (!known) throw this.unknownRef(target.ref);
      const frame = this.page.frames().find((f) => frameId(f) === known.frame);
      if (!frame || frame.detached) {
        throw new TargetError(`${target.ref} was in a frame that is gone; take a new snapshot.`, "stale");
      }
      let element: ElementHandle<Element> | undefined;
      try {
        element = await adoptElement(frame, known.backendNodeId, world);
      } catch {
        element = undefined;
      }
      if (!element) throw new TargetError(`${target.ref} is no longer on the page; take a new snapshot.`, "stale");
      const connected = await element.evaluate((el) => el.isConnected).catch(() => false);
      if (!connected) {
        await element.dispose();
        throw new TargetError(`${target.ref} is no longer on the page; take a new snapshot.`, "stale");
      }
      const name = known.name.length > 60 ? `${known.name.slice(0, 59)}…` : known.name;
      return {
        element,
        label: `${known.role}${name ? ` ${JSON.stringify(name)}` : ""} [${target.ref}]`,
        role: known.role,
      };
    }
    const selector = target.selector as string;
    let element: ElementHandle<Element> | null;
    try {
      element = (await this.page.$(selector)) as ElementHandle<Element> | null;
    } catch (error) {
      throw new TargetError(
        `${JSON.stringify(selector)} is not a valid selector: ${(error as Error).message.split("\n")[0]}`,
        "invalid",
      );
    }
    if (!element) {
      throw new TargetError(`Nothing on the page matches the selector ${JSON.stringify(selector)}.`, "missing");
    }
    if (world === "isolated") {
      // Queries run in the page's world; our own scripts on the element run in the isolated one.
      const backendNodeId = await element.backendNodeId();
      const frame = element.frame;
      await element.dispose();
      const isolated = await adoptElement(frame, backendNodeId, "isolated");
      if (!isolated) throw new TargetError(`The element matching ${JSON.stringify(selector)} went away.`, "missing");
      element = isolated;
    }
    return { element, label: `element matching ${JSON.stringify(selector)}` };
  }

  private unknownRef(ref: string): TargetError {
    return new TargetError(
      `${ref} is not a ref from this tab's snapshots (refs look like e12 and are forgotten when the page loads a new document); take a new snapshot.`,
      "stale",
    );
  }
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) {
      resolve();
      return;
    }
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    }
    signal?.addEventListener("abort", done, { once: true });
  });
}
