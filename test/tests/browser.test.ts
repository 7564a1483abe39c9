import { spawnSync } from "node:child_process";
import dgram from "node:dgram";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { homedir, tmpdir } from "node:os";
import { join } from "node:path";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import type { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type DnsServer, startDnsServer } from "../fixtures/browser/dns-server.js";
import { type RecordingProxy, startRecordingProxy } from "../fixtures/browser/recording-proxy.js";
import { type Site, startCountingServer, startSite } from "../fixtures/browser/site.js";
import {
  type HttpServerProcess,
  type StdioServer,
  serverCli,
  startHttp,
  startStdio,
  structured,
  textOf,
} from "../src/harness.js";

/**
 * The browser server driven by a real MCP client, against real Chromium and a website served here
 * on 127.0.0.1. Every connection the browser makes leaves through a recording upstream proxy
 * started by the test, and names resolve through a DNS server started by the test, so the tests
 * can show that refused targets never received a packet.
 */

const PUBLIC_LOOKING = "public-looking.test";

interface World {
  site: Site;
  other: Awaited<ReturnType<typeof startCountingServer>>;
  dns: DnsServer;
  recorder: RecordingProxy;
  udp: dgram.Socket;
  udpPackets: number;
  args: string[];
}

async function startWorld(): Promise<World> {
  const udp = dgram.createSocket("udp4");
  const world = { udp, udpPackets: 0 } as World;
  udp.on("message", () => {
    world.udpPackets++;
  });
  await new Promise<void>((resolve) => udp.bind(0, "127.0.0.1", () => resolve()));
  world.other = await startCountingServer();
  world.dns = await startDnsServer({ [PUBLIC_LOOKING]: ["127.0.0.1"], "blocked.test": ["127.0.0.1"] });
  world.site = await startSite({
    publicLookingName: PUBLIC_LOOKING,
    otherPort: world.other.port,
    udpPort: udp.address().port,
  });
  world.recorder = await startRecordingProxy();
  world.args = [
    "--allow-private-hosts",
    // localhost is a different site from 127.0.0.1, so it loads as an out-of-process frame.
    `127.0.0.1:${world.site.port},localhost:${world.site.port}`,
    "--block-hosts",
    "blocked.test",
    "--dns-server",
    world.dns.address,
    "--proxy-server",
    world.recorder.url,
    "--allow-evaluate",
  ];
  return world;
}

async function stopWorld(world: World | undefined): Promise<void> {
  if (!world) return;
  await Promise.all([world.site.close(), world.other.close(), world.dns.close(), world.recorder.close()]);
  world.udp.close();
}

async function call(client: Client, name: string, args: Record<string, unknown> = {}) {
  const result = (await client.callTool({ name, arguments: args })) as CallToolResult;
  return { result, text: textOf(result), isError: result.isError === true, data: structured(result) };
}

/** The ref of the first element whose snapshot line matches `pattern` (the ref is captured by the pattern). */
function refIn(snapshot: string, pattern: RegExp): string {
  const match = pattern.exec(snapshot);
  if (!match?.[1]) throw new Error(`no match for ${pattern} in:\n${snapshot}`);
  return match[1];
}

/** Ends an HTTP session the way a host does when it is done (DELETE), then closes the client. */
async function endSession(client: Client): Promise<void> {
  await (client.transport as StreamableHTTPClientTransport).terminateSession();
  await client.close();
}

/** Main browser processes started by this server family (pid and profile), found by their profile folder. */
function browserMains(): Array<{ pid: number; profile: string }> {
  const found: Array<{ pid: number; profile: string }> = [];
  for (const pid of readdirSync("/proc")) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      const args = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
      const profile = args.find((arg) => arg.startsWith("--user-data-dir="))?.slice("--user-data-dir=".length);
      if (profile?.includes("portside-browser-") && !args.some((arg) => arg.startsWith("--type="))) {
        found.push({ pid: Number(pid), profile });
      }
    } catch {
      // The process ended while we looked.
    }
  }
  return found;
}

function browserProcesses(): number {
  return browserMains().length;
}

/** Every file below `dir`, as paths relative to it. */
function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name).slice(dir.length + 1));
}

describe("browser over stdio", () => {
  let world: World;
  let server: StdioServer;
  let client: Client;
  let processesBefore = 0;

  beforeAll(async () => {
    processesBefore = browserProcesses();
    world = await startWorld();
    server = await startStdio("browser", world.args);
    client = server.client;
  });

  afterAll(async () => {
    await server?.close();
    await stopWorld(world);
  });

  it("lists every tool with annotations, evaluate only because the operator allowed it", async () => {
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name).sort()).toEqual(
      [
        "click",
        "close",
        "console_messages",
        "evaluate",
        "fill_form",
        "go_back",
        "go_forward",
        "hover",
        "navigate",
        "network_requests",
        "press_key",
        "read_page",
        "screenshot",
        "select_option",
        "snapshot",
        "tabs",
        "type",
        "wait_for",
      ].sort(),
    );
    for (const tool of tools) {
      expect(tool.annotations, tool.name).toMatchObject({
        readOnlyHint: expect.any(Boolean),
        openWorldHint: expect.any(Boolean),
      });
      expect(JSON.stringify(tool.inputSchema)).not.toMatch(/executablePath|launch|headless|args/);
    }
  });

  it("opens a page and summarises it", async () => {
    const { text, isError, data, result } = await call(client, "navigate", { url: `${world.site.origin}/` });
    expect(isError, text).toBe(false);
    expect(data).toMatchObject({ url: `${world.site.origin}/`, title: "Portside Test Shop", status: 200, tab: "t1" });
    expect((data as { elements: Record<string, number> }).elements.button).toBeGreaterThan(30);
    expect(text).toContain("Call snapshot");
    expect(result._meta?.["io.portside/untrusted-content"]).toBe(true);
  });

  it("shows a compact snapshot with stable refs, and pages, scopes and filters it", async () => {
    const first = (await call(client, "snapshot")).text;
    expect(first).toMatch(/^Page "Portside Test Shop" http:\/\/127\.0\.0\.1:\d+\/ \(tab t1\):/);
    expect(first).toMatch(/navigation "Main" \[e\d+\]/);
    expect(first).toMatch(/- link "Order form" \[e\d+\] \/form/);
    expect(first).toContain("# Welcome to the test shop");
    expect(first).toMatch(/Fresh bread every morning\. Questions\? link "Write to us" \[e\d+\] \/form \./);
    const again = (await call(client, "snapshot")).text;
    expect(again).toBe(first);

    const paged = (await call(client, "snapshot", { maxChars: 1000 })).text;
    expect(paged.length).toBeLessThan(1300);
    const next = /offset: (\d+)/.exec(paged)?.[1];
    expect(next).toBeDefined();
    const rest = (await call(client, "snapshot", { maxChars: 1000, offset: Number(next) })).text;
    expect(rest).toMatch(new RegExp(`Showing lines ${Number(next) + 1}-`));

    const list = refIn(first, /main \[(e\d+)\]/);
    const scoped = (await call(client, "snapshot", { ref: list })).text;
    expect(scoped).toContain(`inside ${list}`);
    expect(scoped).not.toContain('navigation "Main"');

    const interactive = (await call(client, "snapshot", { interactiveOnly: true })).text;
    expect(interactive).not.toContain("Fresh bread");
    expect(interactive).toContain('button "Say hello"');
  });

  it("clicks and reports what changed instead of a whole snapshot", async () => {
    const snapshot = (await call(client, "snapshot")).text;
    const hello = refIn(snapshot, /button "Say hello" \[(e\d+)\]/);
    const { text, isError, data } = await call(client, "click", { ref: hello });
    expect(isError, text).toBe(false);
    expect(text).toContain(`Clicked button "Say hello" [${hello}]`);
    expect(data).toMatchObject({ navigated: false });
    expect((data as { changes: string[] }).changes.join("\n")).toContain("Hello, visitor!");
    expect(text.length).toBeLessThan(1000);
  });

  it("answers dialogs as asked, and says so", async () => {
    const snapshot = (await call(client, "snapshot")).text;
    const remove = refIn(snapshot, /button "Delete account" \[(e\d+)\]/);
    const dismissed = await call(client, "click", { ref: remove });
    expect(dismissed.text).toContain('A confirm dialog was dismissed: "Really delete?"');
    expect(dismissed.text).toContain("kept");
    const accepted = await call(client, "click", { ref: remove, dialog: "accept" });
    expect(accepted.text).toContain("A confirm dialog was accepted");
    expect(accepted.text).toContain("deleted");
  });

  it("hovers", async () => {
    const { text, isError } = await call(client, "hover", { selector: "#tip-target" });
    expect(isError, text).toBe(false);
    expect(text).toContain("Free delivery over 20 euros");
  });

  it("follows links, goes back and forward", async () => {
    const snapshot = (await call(client, "snapshot")).text;
    const link = refIn(snapshot, /link "Loaf number 3" \[(e\d+)\]/);
    const clicked = await call(client, "click", { ref: link });
    expect(clicked.data).toMatchObject({ navigated: true, url: `${world.site.origin}/product/3`, title: "Product 3" });
    const stale = await call(client, "click", { ref: link });
    expect(stale.isError).toBe(true);
    expect(stale.text).toMatch(/Error \[not_found\]: e\d+ is not a ref from this tab's snapshots/);
    expect((await call(client, "go_back")).data).toMatchObject({ url: `${world.site.origin}/` });
    expect((await call(client, "go_forward")).data).toMatchObject({ url: `${world.site.origin}/product/3` });
    const end = await call(client, "go_forward");
    expect(end.isError).toBe(true);
    expect(end.text).toContain("There is no page to go forward to");
  });

  it("types, fills a whole form, selects and presses keys", async () => {
    await call(client, "navigate", { url: `${world.site.origin}/form` });
    const snapshot = (await call(client, "snapshot")).text;
    const name = refIn(snapshot, /textbox "Name" \[(e\d+)\]/);
    const typed = await call(client, "type", { ref: name, text: "Ann" });
    expect(typed.isError, typed.text).toBe(false);
    expect(typed.text).toMatch(/\+ textbox "Name" \[e\d+\] = "Ann"/);

    const filled = await call(client, "fill_form", {
      fields: [
        { ref: name, value: "Bob" },
        { selector: "input[name=email]", value: "bob@example.com" },
        { ref: refIn(snapshot, /checkbox "Gift wrap" \[(e\d+)\]/), value: true },
        { ref: refIn(snapshot, /radio "Courier" \[(e\d+)\]/), value: true },
        { ref: refIn(snapshot, /combobox "Size" \[(e\d+)\]/), value: "Large" },
        { selector: "input[name=day]", value: "2030-05-31" },
        { ref: refIn(snapshot, /textbox "Notes" \[(e\d+)\]/), value: "Ring twice" },
      ],
    });
    expect(filled.isError, filled.text).toBe(false);
    const changes = (filled.data as { changes: string[] }).changes.join("\n");
    expect(changes).toContain('= "bob@example.com"');
    expect(changes).toMatch(/checkbox "Gift wrap" \[e\d+\] checked/);

    const size = refIn(snapshot, /combobox "Size" \[(e\d+)\]/);
    const selected = await call(client, "select_option", { ref: size, values: ["m"] });
    expect(selected.text).toMatch(/combobox "Size" \[e\d+\] = "Medium"/);
    const missing = await call(client, "select_option", { ref: size, values: ["XXL"] });
    expect(missing.isError).toBe(true);
    expect(missing.text).toContain('Available options: "Small", "Medium", "Large"');

    const submitted = await call(client, "press_key", { key: "Enter", ref: name });
    expect(submitted.isError, submitted.text).toBe(false);
    expect(submitted.text).toContain("Ordered m for Bob as a gift on 2030-05-31 by courier");

    const badKey = await call(client, "press_key", { key: "Hyper+Q" });
    expect(badKey.text).toContain('"Hyper" is not a modifier key');
    const wrongKind = await call(client, "type", {
      ref: refIn(snapshot, /checkbox "Gift wrap" \[(e\d+)\]/),
      text: "x",
    });
    expect(wrongKind.text).toMatch(/is not a text field \(a checkbox\)/);
    const file = await call(client, "fill_form", { fields: [{ selector: "input[type=file]", value: "/etc/passwd" }] });
    expect(file.text).toContain("uploading files is not supported");
  });

  it("refuses to click what is covered or disabled", async () => {
    const covered = await call(client, "click", { selector: "#covered" });
    expect(covered.isError).toBe(true);
    expect(covered.text).toMatch(/is covered by <div#overlay>/);
    const disabled = await call(client, "click", { selector: "button[disabled]" });
    expect(disabled.text).toContain("is disabled");
  });

  it("shows and acts inside cross-site frames", async () => {
    await call(client, "navigate", { url: `${world.site.origin}/framed` });
    await call(client, "wait_for", { text: "Pay now" });
    const snapshot = (await call(client, "snapshot")).text;
    expect(snapshot).toMatch(
      /iframe "payment form" \[e\d+\]\n {2}textbox "Card number" \[e\d+\]\n {2}button "Pay now" \[e\d+\]/,
    );
    const typed = await call(client, "type", {
      ref: refIn(snapshot, /textbox "Card number" \[(e\d+)\]/),
      text: "4242",
    });
    expect(typed.text).toMatch(/\+ textbox "Card number" \[e\d+\] = "4242"/);
    const clicked = await call(client, "click", { ref: refIn(snapshot, /button "Pay now" \[(e\d+)\]/) });
    expect(clicked.isError, clicked.text).toBe(false);
    expect(clicked.text).toContain("Paid from the frame");
  });

  it("takes screenshots of the viewport, the full page and an element, scaled", async () => {
    await call(client, "navigate", { url: `${world.site.origin}/form` });
    const viewport = await call(client, "screenshot", { maxDimension: 640 });
    expect(viewport.isError, viewport.text).toBe(false);
    const image = viewport.result.content.find((c) => c.type === "image") as { data: string; mimeType: string };
    expect(image.mimeType).toBe("image/png");
    const png = Buffer.from(image.data, "base64");
    expect(png.subarray(1, 4).toString()).toBe("PNG");
    expect(png.readUInt32BE(16)).toBe(640);
    expect(png.readUInt32BE(20)).toBe(360);
    const element = await call(client, "screenshot", { selector: "h1", format: "jpeg" });
    expect(element.data).toMatchObject({ format: "jpeg" });
    const full = await call(client, "screenshot", { fullPage: true });
    expect((full.data as { height: number }).height).toBeGreaterThan(0);
    const both = await call(client, "screenshot", { fullPage: true, selector: "#result" });
    expect(both.isError).toBe(true);
  });

  it("reads the main text as sanitised Markdown, without hidden text, in parts", async () => {
    await call(client, "navigate", { url: `${world.site.origin}/article` });
    const { text, isError, result } = await call(client, "read_page");
    expect(isError, text).toBe(false);
    expect(result._meta?.["io.portside/untrusted-content"]).toBe(true);
    expect(text).toContain("# Why sourdough takes time");
    expect(text).toContain("Paragraph 12: slow fermentation");
    expect(text).toContain("| Bulk rise | 5 |");
    expect(text).toContain("- Patience");
    expect(text).not.toContain("SECRET-HIDDEN-INSTRUCTION");
    expect(text).not.toContain("ZERO-FONT-INSTRUCTION");
    expect(text).not.toMatch(/[\u200b\u202e]/);
    expect(text).not.toContain("Test bakery");

    const part = await call(client, "read_page", { maxChars: 800 });
    const offset = Number(/offset: (\d+)/.exec(part.text)?.[1]);
    expect(offset).toBeGreaterThan(0);
    const next = await call(client, "read_page", { maxChars: 800, offset });
    expect(next.text).toContain(`(from character ${offset} of`);

    const all = await call(client, "read_page", { mode: "all" });
    expect(all.text).toContain("Test bakery");
    const scoped = await call(client, "read_page", { selector: "table" });
    expect(scoped.text).toContain("| Step | Hours |");
    expect(scoped.text).not.toContain("Paragraph 1");
  });

  it("waits for text, selectors and time, and times out clearly", async () => {
    await call(client, "navigate", { url: `${world.site.origin}/slow`, waitUntil: "domcontentloaded" });
    const appeared = await call(client, "wait_for", { text: "results are READY" });
    expect(appeared.text).toMatch(/"results are READY" is on the page/);
    expect((await call(client, "wait_for", { textGone: "Loading…" })).text).toContain("is gone");
    expect((await call(client, "wait_for", { selector: "p.done" })).text).toContain("is visible");
    expect((await call(client, "wait_for", { timeMs: 10 })).text).toBe("Waited 10 ms.");
    const timeout = await call(client, "wait_for", { text: "never shown", timeoutMs: 300 });
    expect(timeout.text).toMatch(/Error \[timeout\]: "never shown" did not appear within 300 ms/);
    expect((await call(client, "wait_for", { text: "a", timeMs: 5 })).text).toContain("exactly one of");
  });

  it("collects console messages and page errors", async () => {
    await call(client, "navigate", { url: `${world.site.origin}/console` });
    await call(client, "wait_for", { timeMs: 200 });
    const all = await call(client, "console_messages");
    expect(all.text).toMatch(/\[log\] hello from the page/);
    expect(all.text).toMatch(/\[warn\] careful now/);
    expect(all.text).toMatch(/\[pageerror\] .*boom at load/);
    const errors = await call(client, "console_messages", { level: "error" });
    expect(errors.text).not.toContain("hello from the page");
    expect(errors.text).toContain("something failed");
    const last = (errors.data as { messages: Array<{ seq: number }> }).messages.at(-1)?.seq ?? 0;
    expect((await call(client, "console_messages", { after: last })).text).toBe("No console messages.");
  });

  it("manages tabs, including ones the page opens", async () => {
    await call(client, "navigate", { url: `${world.site.origin}/` });
    const snapshot = (await call(client, "snapshot")).text;
    const popup = await call(client, "click", { ref: refIn(snapshot, /button "Open journal pop-up" \[(e\d+)\]/) });
    const opened = (popup.data as { newTabs: string[] }).newTabs;
    expect(opened).toHaveLength(1);
    const listed = await call(client, "tabs", { action: "list" });
    expect(listed.text).toMatch(/\* t1 "Portside Test Shop"/);
    const selected = await call(client, "tabs", { action: "select", tabId: opened[0] });
    expect(selected.text).toContain(`Tab ${opened[0]} is now current`);
    await call(client, "wait_for", { text: "sourdough" });
    expect((await call(client, "snapshot")).text).toContain("The Baker's Journal");
    const fresh = await call(client, "tabs", { action: "new", url: `${world.site.origin}/form` });
    expect(fresh.text).toMatch(/Opened tab t\d+ at http:\/\/127\.0\.0\.1:\d+\/form/);
    const refused = await call(client, "tabs", { action: "new", url: "http://169.254.169.254/" });
    expect(refused.text).toMatch(/permission_denied/);
    for (const tab of (listed.data as { tabs: Array<{ id: string }> }).tabs) {
      if (tab.id !== "t1") await call(client, "tabs", { action: "close", tabId: tab.id });
    }
    const remaining = await call(client, "tabs", { action: "list" });
    expect((remaining.data as { tabs: unknown[] }).tabs.length).toBeGreaterThanOrEqual(1);
    expect((await call(client, "tabs", { action: "select", tabId: "t999" })).text).toContain("There is no tab t999");
    await call(client, "tabs", { action: "select", tabId: "t1" });
  });

  it("runs JavaScript only as the operator allowed, with page globals and elements", async () => {
    const title = await call(client, "evaluate", { function: "() => document.title" });
    expect(title.text).toBe('"Portside Test Shop"');
    const element = await call(client, "evaluate", { function: "(el) => el.textContent", selector: "h1" });
    expect(element.text).toBe('"Welcome to the test shop"');
    const broken = await call(client, "evaluate", { function: "document.title" });
    expect(broken.text).toMatch(/invalid_argument/);
  });

  it("reports progress while loading and stops when the call is cancelled", async () => {
    const progress: string[] = [];
    await client.callTool({ name: "navigate", arguments: { url: `${world.site.origin}/console` } }, undefined, {
      onprogress: (p) => progress.push(p.message ?? ""),
    });
    expect(progress).toEqual([expect.stringContaining("Loading"), "Loaded; reading the page"]);
    const controller = new AbortController();
    const pending = client.callTool({ name: "navigate", arguments: { url: `${world.site.origin}/hang` } }, undefined, {
      signal: controller.signal,
    });
    setTimeout(() => controller.abort(), 300);
    await expect(pending).rejects.toThrow(/abort/i);
    // The session is free again: the next call is answered.
    const next = await call(client, "navigate", { url: `${world.site.origin}/` });
    expect(next.isError, next.text).toBe(false);
  });

  it("validates every input and never takes launch options from a tool", async () => {
    const launch = await call(client, "navigate", {
      url: `${world.site.origin}/`,
      executablePath: "/bin/sh",
      args: ["--no-sandbox", "--proxy-server=direct://"],
    });
    expect(launch.isError).toBe(true);
    expect(launch.text).toMatch(/invalid_argument.*Unrecognized keys?: "executablePath", "args"/s);
    const ref = await call(client, "click", { ref: "button" });
    expect(ref.text).toContain("refs look like e12");
    const both = await call(client, "click", { ref: "e1", selector: "a" });
    expect(both.text).toContain("exactly one of `ref` or `selector`");
    const selector = await call(client, "click", { selector: "a[[[" });
    expect(selector.text).toMatch(/invalid_argument.*not a valid selector/s);
    const nothing = await call(client, "click", { selector: "#does-not-exist" });
    expect(nothing.text).toMatch(/not_found.*Nothing on the page matches/s);
  });

  describe("network policy", () => {
    it.each([
      ["file:///etc/passwd", "scheme"],
      ["chrome://settings", "scheme"],
      ["javascript:alert(1)", "scheme"],
      ["view-source:http://127.0.0.1/", "scheme"],
      ["data:text/html,<h1>hi</h1>", "scheme"],
      ["http://169.254.169.254/latest/meta-data/", "metadata-address"],
      ["http://[fd00:ec2::254]/", "metadata-address"],
      ["http://metadata.google.internal/", "metadata-address"],
      ["http://10.0.0.1/", "private-address"],
      ["http://192.168.1.1/", "private-address"],
      ["http://[::1]/", "private-address"],
      ["http://0x7f000001/", "private-address"],
      ["http://0.0.0.0/", "special-address"],
      ["http://localhost/", "private-address"],
      ["http://blocked.test/", "blocked-host"],
    ])("refuses to open %s (%s)", async (url, rule) => {
      const { isError, text, result } = await call(client, "navigate", { url });
      expect(isError).toBe(true);
      expect(text).toContain("Error [permission_denied]: Blocked by the network policy");
      expect(result._meta?.["io.portside/error"]).toMatchObject({ code: "permission_denied", rule });
    });

    it("refuses other loopback ports and names that resolve to loopback", async () => {
      const otherPort = await call(client, "navigate", { url: `http://127.0.0.1:${world.other.port}/` });
      expect(otherPort.text).toMatch(/127\.0\.0\.1:\d+ is in 127\.0\.0\.0\/8 \(loopback\)/);
      const dns = await call(client, "navigate", { url: `http://${PUBLIC_LOOKING}:${world.site.port}/` });
      expect(dns.text).toContain(
        `${PUBLIC_LOOKING}:${world.site.port} (resolved to 127.0.0.1) is in 127.0.0.0/8 (loopback)`,
      );
    });

    it("refuses redirects from an allowed page to refused addresses", async () => {
      const metadata = await call(client, "navigate", { url: `${world.site.origin}/redirect-chain` });
      expect(metadata.isError).toBe(true);
      expect(metadata.text).toMatch(/permission_denied.*169\.254\.169\.254:80 .*cloud metadata/s);
      const named = await call(client, "navigate", { url: `${world.site.origin}/redirect-to-public-looking` });
      expect(named.text).toMatch(/permission_denied.*public-looking\.test:\d+ \(resolved to 127\.0\.0\.1\)/s);
    });

    it("refuses every way a page reaches out: subresources, frames, fetch, XHR, beacons, workers, WebSockets, WebRTC", async () => {
      const opened = await call(client, "navigate", { url: `${world.site.origin}/attacks` });
      expect(opened.isError, opened.text).toBe(false);
      await call(client, "wait_for", { text: "worker-fetch" });
      await call(client, "wait_for", { text: "ws-public-looking" });
      await call(client, "wait_for", { text: "ws-allowed" });
      await call(client, "wait_for", { text: "service-worker: registered" });
      await call(client, "wait_for", { timeMs: 500 });
      const page = (await call(client, "snapshot")).text;
      expect(page).toContain("- fetch-allowed: ok");
      expect(page).toContain("- ws-allowed: hello over websocket");
      for (const attempt of [
        "fetch-metadata",
        "fetch-public-looking",
        "xhr-other",
        "worker-fetch",
        "ws-public-looking",
      ]) {
        expect(page).toContain(`- ${attempt}: refused`);
      }
      expect(page).not.toContain("LEAKED");
      // The service worker installs (and tries its fetch) after the page is done: wait for it.
      let blocked = "";
      await expect
        .poll(
          async () => {
            blocked = (await call(client, "network_requests", { filter: "blocked", limit: 100 })).text;
            return blocked;
          },
          { timeout: 10_000 },
        )
        .toContain("/from-service-worker");
      for (const target of [
        "http://10.0.0.1/pixel.gif (image)",
        `http://${PUBLIC_LOOKING}:${world.site.port}/from-script.js (script)`,
        "http://169.254.169.254/latest/style.css (stylesheet)",
        `http://127.0.0.1:${world.other.port}/from-iframe (document)`,
        `http://${PUBLIC_LOOKING}:${world.site.port}/from-beacon (ping)`,
        `http://${PUBLIC_LOOKING}:${world.site.port}/from-worker (fetch)`,
        `CONNECT ${PUBLIC_LOOKING}:${world.site.port} (connection)`,
        `GET http://${PUBLIC_LOOKING}:${world.site.port}/from-service-worker (other)`,
      ]) {
        expect(blocked).toContain(target);
      }
      expect(world.udpPackets).toBe(0);
    });

    it("let nothing refused leave: the upstream proxy, the other service and the site saw only allowed traffic", () => {
      const allowed = `127.0.0.1:${world.site.port}`;
      expect(world.recorder.requests.length).toBeGreaterThan(0);
      expect(world.recorder.requests.filter((target) => target !== allowed)).toEqual([]);
      expect(world.other.hits).toEqual([]);
      const allowedNames = [allowed, `localhost:${world.site.port}`];
      expect(world.site.hits.filter((hit) => !allowedNames.includes(hit.host))).toEqual([]);
      expect(world.dns.queries).not.toContain("blocked.test");
      expect(world.udpPackets).toBe(0);
    });
  });

  it("closes the browser on request and starts a fresh one on the next call", async () => {
    await call(client, "navigate", { url: `${world.site.origin}/cookie` });
    expect((await call(client, "evaluate", { function: "() => document.cookie" })).text).toBe('"session=alpha"');
    expect(browserProcesses()).toBe(processesBefore + 1);
    expect((await call(client, "close")).text).toContain("The browser is closed");
    expect(browserProcesses()).toBe(processesBefore);
    await call(client, "navigate", { url: `${world.site.origin}/` });
    expect((await call(client, "evaluate", { function: "() => document.cookie" })).text).toBe('""');
  });

  it("closes the browser when the client goes away", async () => {
    await call(client, "snapshot");
    expect(browserProcesses()).toBe(processesBefore + 1);
    await server.close();
    await expect.poll(() => browserProcesses(), { timeout: 10_000 }).toBe(processesBefore);
  });
});

describe("browser limits", () => {
  let world: World;
  let server: StdioServer;
  let client: Client;
  let home = "";
  let earlier = new Set<number>();
  /** The browsers this block's server started. */
  const ours = () => browserMains().filter((main) => !earlier.has(main.pid));

  beforeAll(async () => {
    earlier = new Set(browserMains().map((main) => main.pid));
    world = await startWorld();
    // A home and download folder of the test's own, so a download that got through would land where
    // the test looks; a browser installed with install-browser is still found where it was.
    home = mkdtempSync(join(tmpdir(), "browser-home-"));
    server = await startStdio("browser", [...world.args, "--max-tabs", "2", "--navigation-timeout-ms", "3000"], {
      cwd: home,
      env: {
        HOME: home,
        XDG_CONFIG_HOME: join(home, ".config"),
        PORTSIDE_BROWSER_CACHE:
          process.env.PORTSIDE_BROWSER_CACHE ||
          join(process.env.XDG_CACHE_HOME || join(homedir(), ".cache"), "portside-browser"),
      },
    });
    client = server.client;
  });

  afterAll(async () => {
    await server?.close();
    await stopWorld(world);
    if (home) rmSync(home, { recursive: true, force: true });
  });

  it("refuses downloads, says so, and writes nothing", async () => {
    const file = `${world.site.origin}/price-list.csv`;
    const direct = await call(client, "navigate", { url: file });
    expect(direct.text).toContain(`Error [permission_denied]: ${file} answered with a file to download`);
    await call(client, "navigate", { url: `${world.site.origin}/downloads` });
    const snapshot = (await call(client, "snapshot")).text;
    const link = await call(client, "click", { ref: refIn(snapshot, /link "Price list" \[(e\d+)\]/) });
    expect(link.text).toContain(`${file} answered with a file to download; downloads are turned off`);
    const save = await call(client, "click", { ref: refIn(snapshot, /link "Save the price list" \[(e\d+)\]/) });
    expect(save.isError, save.text).toBe(false);
    // The site served the file every time: only the browser's download was refused.
    expect(world.site.hits.filter((hit) => hit.path === "/price-list.csv")).toHaveLength(3);
    const [running] = ours();
    for (const dir of [home, running?.profile as string]) {
      expect(filesUnder(dir).filter((path) => /price|crdownload/i.test(path))).toEqual([]);
    }
  });

  it("keeps to the tab cap: new tabs are refused and pop-ups beyond it are closed", async () => {
    await call(client, "navigate", { url: `${world.site.origin}/` });
    const second = await call(client, "tabs", { action: "new", url: `${world.site.origin}/form` });
    expect(second.isError, second.text).toBe(false);
    const third = await call(client, "tabs", { action: "new" });
    expect(third.text).toMatch(/conflict.*The limit of 2 open tabs is reached/s);
    await call(client, "tabs", { action: "select", tabId: "t1" });
    const popup = await call(client, "click", {
      ref: refIn((await call(client, "snapshot")).text, /button "Open journal pop-up" \[(e\d+)\]/),
    });
    expect(popup.isError, popup.text).toBe(false);
    const told = `${popup.text}\n${(await call(client, "snapshot")).text}`;
    expect(told).toContain("was closed: the limit of 2 tabs is reached");
    const listed = await call(client, "tabs", { action: "list" });
    expect((listed.data as { tabs: unknown[] }).tabs).toHaveLength(2);
    await call(client, "tabs", { action: "close", tabId: "t2" });
  });

  it("stops a page load at the operator's navigation timeout, and the tab stays usable", async () => {
    // The page's refused image is not why the load failed: the answer is the timeout.
    const hanging = await call(client, "navigate", { url: `${world.site.origin}/hang-after-refused-image` });
    expect(hanging.text).toMatch(
      /Error \[timeout\]: .*\/hang-after-refused-image did not finish loading \(load\) in time/,
    );
    const next = await call(client, "navigate", { url: `${world.site.origin}/` });
    expect(next.isError, next.text).toBe(false);
  });

  it("replaces a browser that crashed on the next call, with a fresh profile", async () => {
    await call(client, "navigate", { url: `${world.site.origin}/cookie` });
    expect((await call(client, "evaluate", { function: "() => document.cookie" })).text).toBe('"session=alpha"');
    const before = ours();
    expect(before).toHaveLength(1);
    const crashed = before[0] as { pid: number; profile: string };
    process.kill(crashed.pid, "SIGKILL");
    await expect.poll(() => ours().length, { timeout: 10_000 }).toBe(0);
    // The server noticed on its own: it cleaned up after the dead browser before any call came.
    await expect.poll(() => existsSync(crashed.profile), { timeout: 10_000 }).toBe(false);

    const snapshot = await call(client, "snapshot");
    expect(snapshot.isError, snapshot.text).toBe(false);
    expect(snapshot.text).toContain("The browser stopped unexpectedly");
    const after = ours();
    expect(after).toHaveLength(1);
    expect(after[0]?.pid).not.toBe(crashed.pid);
    expect(after[0]?.profile).not.toBe(crashed.profile);

    await call(client, "navigate", { url: `${world.site.origin}/` });
    expect((await call(client, "evaluate", { function: "() => document.cookie" })).text).toBe('""');
  });
});

describe("browser configuration", () => {
  it("offers evaluate only when the operator allows it, and starts without a browser running", async () => {
    const plain = await startStdio("browser", []);
    try {
      const { tools } = await plain.client.listTools();
      expect(tools.map((t) => t.name)).not.toContain("evaluate");
      expect(tools).toHaveLength(17);
    } finally {
      await plain.close();
    }
  });

  it("refuses bad settings at start-up with one line and exit code 2", () => {
    for (const [args, message] of [
      [["--executable-path", "/nonexistent/chrome"], /\/nonexistent\/chrome\) does not exist/],
      [["--allow-hosts", "http://example.com"], /give a host .* not a URL/],
      [["--proxy-server", "ftp://proxy.example"], /only http, https and socks5 proxies/],
      [["--viewport", "big"], /must look like 1280x720/],
    ] as const) {
      const result = spawnSync(process.execPath, [serverCli("browser"), ...args], { encoding: "utf8", input: "" });
      expect(result.status, result.stderr).toBe(2);
      expect(result.stderr).toMatch(message);
      expect(result.stderr.trim().split("\n")).toHaveLength(1);
    }
  });
});

describe("browser over HTTP", () => {
  let world: World;
  let server: HttpServerProcess;
  let processesBefore = 0;

  beforeAll(async () => {
    processesBefore = browserProcesses();
    world = await startWorld();
    server = await startHttp("browser", world.args);
  });

  afterAll(async () => {
    await server?.stop();
    await stopWorld(world);
  });

  it("gives each session its own browser, closes it with the session, and applies the policy", async () => {
    const alice = await server.connect();
    const bob = await server.connect();
    await call(alice, "navigate", { url: `${world.site.origin}/cookie` });
    const snapshot = (await call(alice, "snapshot")).text;
    expect(snapshot).toContain("# Cookie");
    expect((await call(alice, "evaluate", { function: "() => document.cookie" })).text).toBe('"session=alpha"');

    await call(bob, "navigate", { url: `${world.site.origin}/` });
    expect((await call(bob, "evaluate", { function: "() => document.cookie" })).text).toBe('""');
    const hello = refIn((await call(bob, "snapshot")).text, /button "Say hello" \[(e\d+)\]/);
    expect((await call(bob, "click", { ref: hello })).text).toContain("Hello, visitor!");
    const refused = await call(bob, "navigate", { url: `http://${PUBLIC_LOOKING}:${world.site.port}/` });
    expect(refused.text).toContain("permission_denied");
    expect(browserProcesses()).toBe(processesBefore + 2);

    await endSession(alice);
    await expect.poll(() => browserProcesses(), { timeout: 10_000 }).toBe(processesBefore + 1);
    expect((await call(bob, "snapshot")).text).toContain("Welcome to the test shop");
    await endSession(bob);
    await expect.poll(() => browserProcesses(), { timeout: 10_000 }).toBe(processesBefore);
    expect(world.recorder.requests.filter((target) => target !== `127.0.0.1:${world.site.port}`)).toEqual([]);
  });

  it("closes every browser when the server stops", async () => {
    const carol = await server.connect();
    await call(carol, "navigate", { url: `${world.site.origin}/` });
    expect(browserProcesses()).toBe(processesBefore + 1);
    expect(await server.stop()).toBe(0);
    await expect.poll(() => browserProcesses(), { timeout: 10_000 }).toBe(processesBefore);
  });
});
