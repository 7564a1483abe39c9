import { mkdtempSync, rmSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { countTokens } from "gpt-tokenizer";
import { type Connected, connect, median, percentile, report, type ServerCommand, time } from "../src/harness.ts";

const root = fileURLToPath(new URL("../..", import.meta.url));
const CHROMIUM = process.env.BROWSER_EXECUTABLE_PATH ?? "/usr/bin/chromium";
const ROUNDS = 8;

/** Roles a model acts on (and images); both servers' snapshots are checked to offer the same ones. */
const INTERACTIVE = [
  "link",
  "button",
  "textbox",
  "searchbox",
  "checkbox",
  "radio",
  "combobox",
  "spinbutton",
  "img",
] as const;

/**
 * A mid-size page like a shop's category listing: header with search and navigation, filters,
 * 36 product cards, pagination, a table and a footer with a newsletter form (~230 elements to act on).
 */
function shopPage(): string {
  const words = "crusty rye spelt seeded honey oat walnut olive fig country malted sour".split(" ");
  const phrase = (i: number, n: number) =>
    Array.from({ length: n }, (_, k) => words[(i * 7 + k * 3) % words.length]).join(" ");
  const link = (href: string, text: string) => `<a href="${href}">${text}</a>`;
  const products = Array.from(
    { length: 36 },
    (_, i) => `<article class="card"><h2>${link(`/p/${i}`, `Loaf ${i}: ${phrase(i, 3)}`)}</h2>
      <img src="/img/${i}.jpg" alt="Photo of loaf ${i}" width="120" height="80">
      <p>A ${phrase(i, 12)} loaf, baked this morning with flour from the mill down the road, slow proofed for eighteen hours.</p>
      <p class="price">€${(3 + (i % 7) * 0.5).toFixed(2)} · ${(3 + (i % 3)).toString()} stars (${10 + i} reviews)</p>
      <button onclick="document.getElementById('count').textContent = String(Number(document.getElementById('count').textContent) + 1)">Add loaf ${i} to basket</button>
      <button aria-pressed="false">Save loaf ${i}</button></article>`,
  ).join("");
  const filters = ["Flour", "Shape", "Diet"]
    .map(
      (group, g) =>
        `<fieldset><legend>${group}</legend>${Array.from(
          { length: 5 },
          (_, i) => `<label><input type="checkbox" name="f${g}${i}"> ${phrase(g * 5 + i, 1)}</label>`,
        ).join("")}</fieldset>`,
    )
    .join("");
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Bread — The Test Bakery</title>
<style>body{font-family:sans-serif;margin:0}.grid{display:grid;grid-template-columns:repeat(3,1fr);gap:12px}.card{border:1px solid #ddd;padding:8px}</style></head>
<body><header>${link("/", "The Test Bakery")}
<form role="search" action="/search"><input type="search" name="q" aria-label="Search the shop">
<select name="c" aria-label="Category"><option>All</option><option>Bread</option><option>Cakes</option><option>Flour</option></select><button>Search</button></form>
<nav aria-label="Main"><ul>${["Bread", "Cakes", "Pastry", "Flour", "Gifts", "Courses", "Recipes", "Blog", "About", "Visit", "Jobs", "Contact"].map((n) => `<li>${link(`/${n.toLowerCase()}`, n)}</li>`).join("")}</ul></nav>
<p>Basket: <span id="count">0</span> items ${link("/basket", "View basket")}</p></header>
<div style="display:flex"><aside aria-label="Filters"><h2>Filter</h2>${filters}
<label>Min price <input type="number" name="min"></label><label>Max price <input type="number" name="max"></label><button>Apply filters</button></aside>
<main><nav aria-label="Breadcrumb">${link("/", "Home")} › ${link("/shop", "Shop")} › ${link("/bread", "Bread")} › ${link("/bread/sourdough", "Sourdough")}</nav>
<h1>Sourdough bread</h1><p>Our sourdough loaves are made with a starter we have fed every day since 1998. Choose from the loaves below, or visit the bakery.</p>
<label>Sort by <select name="sort"><option>Popular</option><option>Price: low to high</option><option>Price: high to low</option><option>Newest</option></select></label>
<div class="grid">${products}</div>
<nav aria-label="Pages">${Array.from({ length: 10 }, (_, i) => link(`/bread?page=${i + 1}`, String(i + 1))).join(" ")}</nav>
<table><caption>Delivery rates</caption><tr><th>Zone</th><th>Standard</th><th>Express</th><th>Free over</th></tr>${Array.from(
    { length: 8 },
    (_, i) =>
      `<tr><td>Zone ${i + 1}</td><td>€${(2 + i).toFixed(2)}</td><td>€${(6 + i * 2).toFixed(2)}</td><td>€${40 + i * 5}</td></tr>`,
  ).join("")}</table></main></div>
<footer>${["Shop", "Help", "Company", "Legal"].map((col) => `<section aria-label="${col}"><h3>${col}</h3><ul>${Array.from({ length: 6 }, (_, i) => `<li>${link(`/${col.toLowerCase()}/${i}`, `${col} link ${i + 1}`)}</li>`).join("")}</ul></section>`).join("")}
<form><h3>Newsletter</h3><label>Email <input type="email" name="email"></label><label><input type="checkbox" name="consent"> I agree to receive emails</label><button>Subscribe</button></form>
<p>© The Test Bakery. All loaves baked by hand.</p></footer></body></html>`;
}

const textOf = (result: unknown) =>
  ((result as CallToolResult).content ?? [])
    .filter((block): block is { type: "text"; text: string } => block.type === "text")
    .map((block) => block.text)
    .join("\n");

interface Flavour {
  label: string;
  command: ServerCommand;
  navigate(c: Connected, url: string): Promise<string>;
  snapshot(c: Connected): Promise<string>;
  click(c: Connected, snapshot: string, buttonName: string): Promise<string>;
  /** Counts elements with refs by role in a snapshot. */
  roles(snapshot: string): Record<string, number>;
}

const call = async (c: Connected, name: string, args: Record<string, unknown>) => {
  const result = (await c.client.callTool({ name, arguments: args })) as CallToolResult;
  const text = textOf(result);
  if (result.isError) throw new Error(`${name} failed: ${text}`);
  return text;
};

function countRoles(snapshot: string, pattern: (role: string) => RegExp): Record<string, number> {
  return Object.fromEntries(INTERACTIVE.map((role) => [role, (snapshot.match(pattern(role)) ?? []).length]));
}

/** navigate + snapshot of a mid-size local page, side by side with @playwright/mcp on the same Chromium. */
export async function run(): Promise<void> {
  const html = shopPage();
  const server = http.createServer((req, res) => {
    if (req.url?.startsWith("/img/")) {
      res.writeHead(204).end();
      return;
    }
    res.writeHead(200, { "content-type": "text/html; charset=utf-8" }).end(html);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  const port = (server.address() as AddressInfo).port;
  const url = `http://127.0.0.1:${port}/bread`;
  const playwrightDir = mkdtempSync(join(tmpdir(), "portside-bench-playwright-"));

  const ours: Flavour = {
    label: "portside",
    command: {
      label: "portside",
      command: process.execPath,
      args: [
        `${root}servers/browser/dist/cli.js`,
        "--executable-path",
        CHROMIUM,
        "--allow-private-hosts",
        `127.0.0.1:${port}`,
      ],
    },
    navigate: (c, target) => call(c, "navigate", { url: target }),
    snapshot: (c) => call(c, "snapshot", { maxChars: 200_000 }),
    async click(c, snapshot, name) {
      const ref = new RegExp(`button "${name}" \\[(e\\d+)\\]`).exec(snapshot)?.[1];
      if (!ref) throw new Error(`no ref for ${name}`);
      return call(c, "click", { ref });
    },
    roles: (snapshot) =>
      countRoles(snapshot, (role) => new RegExp(`(?:^|[\\s-])${role}(?: "[^"\\n]*")? \\[e\\d+\\]`, "gm")),
  };
  const playwright: Flavour = {
    label: "@playwright/mcp",
    command: {
      label: "@playwright/mcp",
      command: process.execPath,
      args: [
        `${root}bench/node_modules/@playwright/mcp/cli.js`,
        "--executable-path",
        CHROMIUM,
        "--headless",
        "--isolated",
        "--no-sandbox",
      ],
      cwd: playwrightDir,
    },
    navigate: (c, target) => call(c, "browser_navigate", { url: target }),
    snapshot: (c) => call(c, "browser_snapshot", {}),
    async click(c, snapshot, name) {
      const ref = new RegExp(`button "${name}"[^\\n]*\\[ref=([a-z0-9]+)\\]`).exec(snapshot)?.[1];
      if (!ref) throw new Error(`no ref for ${name}`);
      return call(c, "browser_click", { element: name, target: ref });
    },
    roles: (snapshot) =>
      countRoles(snapshot, (role) => new RegExp(`- '?${role}(?: "[^"\\n]*")?[^\\n]*\\[ref=[a-z0-9]+\\]`, "gm")),
  };

  const flavours = [ours, playwright];
  const connected: Connected[] = [];
  try {
    const firstLoad: number[] = [];
    for (const flavour of flavours) {
      const c = await connect(flavour.command);
      connected.push(c);
      // The first load includes starting the browser.
      firstLoad.push((await time(() => flavour.navigate(c, url)))[0]);
    }
    const samples = flavours.map(() => [] as number[]);
    const navigateSamples = flavours.map(() => [] as number[]);
    const snapshotSamples = flavours.map(() => [] as number[]);
    const lastSnapshot: string[] = [];
    const navigateAnswer: string[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      for (const [i, flavour] of flavours.entries()) {
        const c = connected[i] as Connected;
        const [navMs, nav] = await time(() => flavour.navigate(c, `${url}?round=${round}`));
        const [snapMs, snap] = await time(() => flavour.snapshot(c));
        samples[i]?.push(navMs + snapMs);
        navigateSamples[i]?.push(navMs);
        snapshotSamples[i]?.push(snapMs);
        lastSnapshot[i] = snap;
        navigateAnswer[i] = nav;
      }
    }
    const clickAnswer: string[] = [];
    for (const [i, flavour] of flavours.entries()) {
      clickAnswer[i] = await flavour.click(
        connected[i] as Connected,
        lastSnapshot[i] as string,
        "Add loaf 7 to basket",
      );
    }
    const fullText = await call(connected[0] as Connected, "snapshot", { maxChars: 200_000, maxTextLength: 5000 });

    const roleCounts = flavours.map((flavour, i) => flavour.roles(lastSnapshot[i] as string));
    const size = (texts: string[]) => texts.map((t) => t.length);
    const tokens = (texts: string[]) => texts.map((t) => countTokens(t));
    report(
      "browser: navigate + snapshot of a mid-size local page (same Chromium)",
      flavours.map((f) => f.label),
      [
        { metric: "first navigate (starts the browser)", unit: "ms", values: firstLoad },
        { metric: "navigate + snapshot p50", unit: "ms", values: samples.map((s) => median(s)) },
        { metric: "navigate + snapshot p90", unit: "ms", values: samples.map((s) => percentile(s, 90)) },
        { metric: "  navigate alone p50", unit: "ms", values: navigateSamples.map((s) => median(s)) },
        { metric: "  snapshot alone p50", unit: "ms", values: snapshotSamples.map((s) => median(s)) },
        { metric: "snapshot size", unit: "chars", values: size(lastSnapshot as string[]) },
        { metric: "snapshot size", unit: "tokens", values: tokens(lastSnapshot as string[]) },
        { metric: "navigate answer", unit: "chars", values: size(navigateAnswer as string[]) },
        { metric: "click answer", unit: "chars", values: size(clickAnswer) },
      ],
    );
    report(
      "browser: elements with refs in the snapshot (should match)",
      flavours.map((f) => f.label),
      INTERACTIVE.map((role) => ({
        metric: role,
        unit: "count",
        values: roleCounts.map((counts) => counts[role] ?? 0),
      })),
    );
    console.log(
      `\nportside snapshot with full text (maxTextLength 5000): ${fullText.length} chars, ${countTokens(fullText)} tokens` +
        ` (${(fullText.length / (lastSnapshot[1] as string).length).toFixed(2)}× @playwright/mcp's size).`,
    );
    console.log(`\nportside click answer:\n${clickAnswer[0]}`);
  } finally {
    await Promise.all(connected.map((c) => c.close().catch(() => undefined)));
    server.close();
    rmSync(playwrightDir, { recursive: true, force: true });
  }
}
