import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import type { ElementHandle, Frame } from "puppeteer-core";
import { evaluateIsolated } from "./internals.js";

export interface ReadablePage {
  title: string;
  byline?: string;
  siteName?: string;
  lang?: string;
  /** True when Readability found an article; false when the whole visible page was taken. */
  article: boolean;
  html: string;
}

let readabilitySource: string | undefined;

function readability(): string {
  readabilitySource ??= readFileSync(
    createRequire(import.meta.url).resolve("@mozilla/readability/Readability.js"),
    "utf8",
  );
  return readabilitySource;
}

/**
 * Runs in the page's isolated world (the page's own scripts cannot see or change it). Copies only
 * what a person can see — hidden, zero-size, transparent and script/style content is left out, so
 * text hidden from the reader (a common way to smuggle instructions to a model) never reaches it —
 * then lets Readability pick the main content.
 */
function extractInPage(
  mode: "article" | "all",
  Readability: new (
    doc: Document,
    options?: object,
  ) => {
    parse(): { title?: string; content?: string; byline?: string; siteName?: string; lang?: string } | null;
  },
): ReadablePage {
  const scope = (globalThis as { __portsideScope?: Element }).__portsideScope;
  (globalThis as { __portsideScope?: Element }).__portsideScope = undefined;
  const source = scope ?? document.body ?? document.documentElement;
  const doc = document.implementation.createHTMLDocument(document.title);
  const base = doc.createElement("base");
  base.href = document.baseURI;
  doc.head.append(base);
  const DROP = new Set([
    "SCRIPT",
    "STYLE",
    "NOSCRIPT",
    "TEMPLATE",
    "IFRAME",
    "OBJECT",
    "EMBED",
    "CANVAS",
    "LINK",
    "META",
    "SVG",
    "svg",
  ]);
  let budget = 200_000;
  const copyChildren = (node: Node, into: Node): void => {
    for (let child = node.firstChild; child && budget > 0; child = child.nextSibling) copyNode(child, into);
  };
  const copyNode = (child: Node, into: Node): void => {
    budget--;
    if (child.nodeType === Node.TEXT_NODE) {
      const text = child.textContent ?? "";
      // Text that is not laid out (inside a closed <details>, say) is not shown to a reader.
      if (text.trim()) {
        const range = document.createRange();
        range.selectNodeContents(child);
        if (range.getClientRects().length === 0) return;
      }
      into.appendChild(doc.createTextNode(text));
      return;
    }
    if (child.nodeType !== Node.ELEMENT_NODE) return;
    const el = child as HTMLElement;
    if (DROP.has(el.tagName)) return;
    if (el instanceof HTMLInputElement && el.type === "hidden") return;
    const visible = el.checkVisibility
      ? el.checkVisibility({ opacityProperty: true, visibilityProperty: true, contentVisibilityAuto: false })
      : el.offsetParent !== null;
    if (!visible && getComputedStyle(el).position !== "fixed") return;
    const style = getComputedStyle(el);
    if (style.fontSize === "0px" || (el.offsetWidth === 0 && el.offsetHeight === 0 && style.overflow === "hidden"))
      return;
    const clone = doc.importNode(el, false) as HTMLElement;
    clone.removeAttribute("style");
    into.appendChild(clone);
    if (el instanceof HTMLDetailsElement && !el.open) {
      // A closed <details> shows only its summary.
      const summary = el.querySelector(":scope > summary");
      if (summary) copyNode(summary, clone);
      return;
    }
    copyChildren(el.shadowRoot ?? el, clone);
  };
  const container = doc.createElement("div");
  if (scope) copyNode(scope, container);
  else copyChildren(source, container);
  doc.body.append(container);
  if (mode === "article" && !scope) {
    const parsed = new Readability(doc.cloneNode(true) as Document, { charThreshold: 300, keepClasses: false }).parse();
    if (parsed?.content) {
      return {
        title: parsed.title || document.title,
        ...(parsed.byline ? { byline: parsed.byline } : {}),
        ...(parsed.siteName ? { siteName: parsed.siteName } : {}),
        ...(parsed.lang ? { lang: parsed.lang } : {}),
        article: true,
        html: parsed.content,
      };
    }
  }
  // Make links and images absolute, as Readability does for articles.
  for (const a of container.querySelectorAll("a[href]")) a.setAttribute("href", (a as HTMLAnchorElement).href);
  for (const img of container.querySelectorAll("img[src]")) img.setAttribute("src", (img as HTMLImageElement).src);
  return { title: document.title, article: false, html: container.innerHTML };
}

/** Extracts the readable content of a frame, or of one element when `scope` is given. */
export async function extractReadable(
  frame: Frame,
  mode: "article" | "all",
  scope?: ElementHandle<Element>,
): Promise<ReadablePage> {
  if (scope) {
    await scope.evaluate((el) => {
      (globalThis as { __portsideScope?: Element }).__portsideScope = el;
    });
  }
  // One expression evaluated by DevTools, so the page's Content-Security-Policy does not apply.
  const program = `(${extractInPage.toString()})(${JSON.stringify(mode)}, (function () { var module; ${readability()}\n; return Readability; })())`;
  return evaluateIsolated<ReadablePage>(scope?.frame ?? frame, program);
}

type Turndown = import("turndown");
let turndown: Turndown | undefined;

/** HTML to Markdown; images keep only http(s) sources, empty links are dropped. */
export async function toMarkdown(html: string): Promise<string> {
  if (!turndown) {
    const { default: TurndownService } = await import("turndown");
    const service = new TurndownService({
      headingStyle: "atx",
      codeBlockStyle: "fenced",
      bulletListMarker: "-",
      emDelimiter: "_",
    });
    service.remove([
      "script",
      "style",
      "noscript",
      "template",
      "iframe",
      "form",
      "button",
      "select",
      "input",
      "textarea",
    ]);
    service.addRule("images", {
      filter: "img",
      replacement: (_content, node) => {
        const img = node as HTMLImageElement;
        const alt = (img.getAttribute("alt") ?? "").replace(/\s+/g, " ").trim();
        const src = img.getAttribute("src") ?? "";
        if (!/^https?:\/\//.test(src) || src.length > 500) return alt ? `[image: ${alt}]` : "";
        return `![${alt}](${src})`;
      },
    });
    service.addRule("tables", {
      filter: "table",
      replacement: (_content, node) => {
        // The DOM here is domino's: collections are array-like, not iterable.
        const rows = Array.from((node as HTMLTableElement).getElementsByTagName("tr")).map((row) =>
          Array.from(row.children as ArrayLike<Element>)
            .filter((cell) => cell.nodeName === "TD" || cell.nodeName === "TH")
            .map((cell) => (cell.textContent ?? "").replace(/\s+/g, " ").trim().replace(/\|/g, "\\|")),
        );
        const width = Math.max(0, ...rows.map((row) => row.length));
        if (width === 0) return "";
        const line = (cells: string[]) => `| ${Array.from({ length: width }, (_, i) => cells[i] ?? "").join(" | ")} |`;
        const [first = [], ...rest] = rows;
        return `\n\n${[line(first), line(new Array(width).fill("---")), ...rest.map(line)].join("\n")}\n\n`;
      },
    });
    service.addRule("listItems", {
      filter: "li",
      replacement: (content, node) => {
        const parent = node.parentNode as HTMLElement | null;
        let marker = "- ";
        if (parent?.nodeName === "OL") {
          const start = Number(parent.getAttribute("start") ?? 1);
          marker = `${start + Array.prototype.indexOf.call(parent.children, node)}. `;
        }
        const body = content
          .replace(/^\n+/, "")
          .replace(/\n+$/, "\n")
          .replace(/\n/gm, `\n${" ".repeat(marker.length)}`);
        return `${marker}${body.trimEnd()}${node.nextSibling ? "\n" : ""}`;
      },
    });
    service.addRule("emptyLinks", {
      filter: (node) => node.nodeName === "A" && !(node.textContent ?? "").trim(),
      replacement: () => "",
    });
    turndown = service;
  }
  return turndown
    .turndown(html)
    .replace(/\n{3,}/g, "\n\n")
    .trim();
}
