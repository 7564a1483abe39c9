import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Logger } from "@portside/shared";
import type { Browser, BrowserContext, Target } from "puppeteer-core";
import { type BrowserConfig, parseViewport } from "../config.js";
import type { NetworkGate } from "../network/gate.js";
import { PolicyProxy, RefusingProxy } from "../network/proxy.js";
import type { ProxyPlan } from "../network/upstream.js";
import type { FoundBrowser } from "./discover.js";
import { Tab } from "./tab.js";

export interface BrowserDeps {
  config: BrowserConfig;
  gate: NetworkGate;
  plan: ProxyPlan;
  log: Logger;
  /** Finds the browser to run; throws BrowserNotFoundError with instructions when there is none. */
  findBrowser(): FoundBrowser;
}

interface Running {
  browser: Browser;
  context: BrowserContext;
  proxy: PolicyProxy;
  refusing: RefusingProxy;
  ports: number[];
  profile: string;
  killOnExit: () => void;
  /** Set once we close it ourselves, so its disconnection is not taken for a crash. */
  stopping: boolean;
}

/**
 * Switches that keep the browser inside the policy. Its own background traffic (sign-in, sync,
 * update and time checks) goes to a proxy that refuses everything; pages live in a browser context
 * whose only route out is the policy proxy; its DNS resolves nothing (the proxy resolves and
 * checks); WebRTC may not send UDP outside the proxy; QUIC is off so all HTTP goes over TCP.
 */
function chromeArgs(refusingPort: number, config: BrowserConfig, sandbox: boolean): string[] {
  const { width, height } = parseViewport(config.viewport);
  return [
    `--proxy-server=http://127.0.0.1:${refusingPort}`,
    "--proxy-bypass-list=<-loopback>",
    "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
    "--webrtc-ip-handling-policy=disable_non_proxied_udp",
    "--disable-quic",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-domain-reliability",
    "--no-pings",
    "--no-service-autorun",
    "--disable-features=NetworkTimeServiceQuerying,SearchEnginePreconnector,SearchEnginePreconnect2,AimEnabled,AimServerRequestOnStartupEnabled,AutofillServerCommunication,CertificateTransparencyComponentUpdater",
    `--window-size=${width},${height}`,
    ...(config.headless ? ["--disable-gpu"] : []),
    ...(sandbox ? [] : ["--no-sandbox"]),
  ];
}

const PROXY_VARIABLES = /^(https?|all|no|ftp)_proxy$/i;

/**
 * One client session's browser: started on first use with a fresh profile, closed when the
 * session ends. Tool calls on it run one at a time.
 */
export class BrowserSession {
  readonly tabs = new Map<string, Tab>();
  private currentId: string | undefined;
  private tabCounter = 0;
  private running: Promise<Running> | undefined;
  private readonly adopting = new Map<Target, Promise<Tab | undefined>>();
  private queue: Promise<unknown> = Promise.resolve();
  /** Things that happened between calls that the next answer should mention. */
  readonly notices: string[] = [];

  constructor(private readonly deps: BrowserDeps) {}

  /** Runs `work` after every earlier call on this session finished. */
  exclusive<T>(work: () => Promise<T>): Promise<T> {
    const result = this.queue.then(work, work);
    this.queue = result.catch(() => undefined);
    return result;
  }

  get isRunning(): boolean {
    return this.running !== undefined;
  }

  private async start(): Promise<Running> {
    const { config, gate, plan, log } = this.deps;
    const found = this.deps.findBrowser();
    const refusing = new RefusingProxy();
    const refusingPort = await refusing.listen(gate);
    const proxy = new PolicyProxy({
      gate,
      plan,
      onEvent: (event) => {
        if (event.outcome === "blocked") this.current?.recordProxyBlock(event.method, event.target, event.message);
        log.debug("proxy refused a connection", { target: event.target, outcome: event.outcome, rule: event.rule });
      },
    });
    const proxyPort = await proxy.listen();
    const profile = mkdtempSync(join(tmpdir(), "portside-browser-"));
    const sandbox = config.sandbox ?? process.getuid?.() !== 0;
    const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !PROXY_VARIABLES.test(name)));
    let browser: Browser;
    try {
      const puppeteer = await import("puppeteer-core");
      browser = await puppeteer.launch({
        executablePath: found.path,
        headless: config.headless,
        pipe: true,
        userDataDir: profile,
        args: chromeArgs(refusingPort, config, sandbox),
        defaultViewport: parseViewport(config.viewport),
        handleSIGINT: false,
        handleSIGTERM: false,
        handleSIGHUP: false,
        timeout: 30_000,
        protocolTimeout: Math.max(60_000, config.navigationTimeoutMs * 2),
        env,
      });
    } catch (error) {
      await Promise.all([proxy.close(), refusing.close()]);
      gate.release(refusingPort);
      gate.release(proxyPort);
      rmSync(profile, { recursive: true, force: true });
      throw error;
    }
    const killOnExit = () => {
      browser.process()?.kill("SIGKILL");
      rmSync(profile, { recursive: true, force: true });
    };
    process.once("exit", killOnExit);
    log.info("browser started", { browser: found.path, source: found.source, sandbox, headless: config.headless });
    let context: BrowserContext;
    try {
      context = await browser.createBrowserContext({
        proxyServer: `http://127.0.0.1:${proxyPort}`,
        proxyBypassList: ["<-loopback>"],
        downloadBehavior: { policy: "deny" },
      });
    } catch (error) {
      killOnExit();
      process.off("exit", killOnExit);
      await Promise.all([proxy.close(), refusing.close()]);
      gate.release(refusingPort);
      gate.release(proxyPort);
      throw error;
    }
    context.on("targetcreated", (target: Target) => {
      this.adopting.set(
        target,
        this.adopt(target).catch((error: unknown) => {
          // A page that closes while it is being set up is simply not a tab.
          log.debug("a new tab could not be set up", { error });
          return undefined;
        }),
      );
    });
    const state: Running = {
      browser,
      context,
      proxy,
      refusing,
      ports: [refusingPort, proxyPort],
      profile,
      killOnExit,
      stopping: false,
    };
    browser.on("disconnected", () => {
      if (state.stopping) return;
      log.warn("the browser stopped unexpectedly");
      this.notices.push("The browser stopped unexpectedly; the next call starts a new one with a fresh profile.");
      void this.close();
    });
    return state;
  }

  private async ensureRunning(): Promise<Running> {
    if (!this.running) {
      const starting = this.start();
      this.running = starting;
      starting.catch(() => {
        if (this.running === starting) this.running = undefined;
      });
    }
    return this.running;
  }

  private async adopt(target: Target): Promise<Tab | undefined> {
    if (target.type() !== "page") return undefined;
    const page = await target.page().catch(() => null);
    if (!page) return undefined;
    if (this.tabs.size >= this.deps.config.maxTabs) {
      this.notices.push(
        `A pop-up (${target.url()}) was closed: the limit of ${this.deps.config.maxTabs} tabs is reached.`,
      );
      await page.close().catch(() => undefined);
      return undefined;
    }
    const id = `t${++this.tabCounter}`;
    const tab = await Tab.open(page, {
      id,
      gate: this.deps.gate,
      actionTimeoutMs: this.deps.config.actionTimeoutMs,
      navigationTimeoutMs: this.deps.config.navigationTimeoutMs,
    });
    this.tabs.set(id, tab);
    page.once("close", () => {
      this.tabs.delete(id);
      if (this.currentId === id) this.currentId = this.tabs.keys().next().value;
    });
    return tab;
  }

  get current(): Tab | undefined {
    return this.currentId ? this.tabs.get(this.currentId) : undefined;
  }

  /** The tab tools act on, opening the browser and a first tab when needed. */
  async currentTab(): Promise<Tab> {
    await this.ensureRunning();
    const tab = this.current;
    if (tab && !tab.closed) return tab;
    return this.newTab();
  }

  async newTab(): Promise<Tab> {
    const { context } = await this.ensureRunning();
    if (this.tabs.size >= this.deps.config.maxTabs) {
      throw new TabLimitError(this.deps.config.maxTabs);
    }
    const page = await context.newPage();
    const tab = (await this.adopting.get(page.target())) ?? [...this.tabs.values()].find((t) => t.page === page);
    if (!tab) throw new Error("the new tab could not be set up");
    this.currentId = tab.id;
    return tab;
  }

  select(id: string): Tab | undefined {
    const tab = this.tabs.get(id);
    if (tab) this.currentId = id;
    return tab;
  }

  tabIds(): string[] {
    return [...this.tabs.keys()];
  }

  async closeTab(id: string): Promise<boolean> {
    const tab = this.tabs.get(id);
    if (!tab) return false;
    await tab.page.close().catch(() => undefined);
    this.tabs.delete(id);
    if (this.currentId === id) this.currentId = this.tabs.keys().next().value;
    return true;
  }

  /** Closes the browser; the next tool call starts a fresh one. */
  async close(): Promise<void> {
    const running = this.running;
    this.running = undefined;
    this.tabs.clear();
    this.currentId = undefined;
    this.adopting.clear();
    if (!running) return;
    let state: Running;
    try {
      state = await running;
    } catch {
      return;
    }
    const { browser, proxy, refusing, ports, profile, killOnExit } = state;
    state.stopping = true;
    await Promise.race([browser.close().catch(() => undefined), new Promise((r) => setTimeout(r, 5000))]);
    browser.process()?.kill("SIGKILL");
    await Promise.all([proxy.close(), refusing.close()]);
    for (const port of ports) this.deps.gate.release(port);
    process.off("exit", killOnExit);
    rmSync(profile, { recursive: true, force: true, maxRetries: 3 });
  }
}

export class TabLimitError extends Error {
  constructor(readonly limit: number) {
    super(`The limit of ${limit} open tabs is reached; close one with tabs {action: "close"}.`);
    this.name = "TabLimitError";
  }
}
