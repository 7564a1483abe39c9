import type { AxNode } from "./tree.js";

/**
 * Renders an accessibility tree as a compact outline for a model: one line per block of content,
 * interactive elements as `role "name" [ref] states`, text inline where it is read, and structure
 * only where it carries meaning (landmarks, dialogs, forms, tables, lists).
 *
 * ```
 * navigation "Main" [e2]
 *   - link "Home" [e3] /
 *   - link "Pricing" [e4] /pricing
 * main [e5]
 *   # Plans
 *   Pick a plan. Questions? link "Contact us" [e6] /contact
 *   textbox "Email" [e7] = "ann@example.com" required
 *   checkbox "Yearly billing" [e8] checked
 *   button "Subscribe" [e9]
 * ```
 */

export interface RefAssigner {
  refFor(frame: string, backendNodeId: number, role: string, name: string): string;
}

export interface RenderOptions {
  /** Longest run of plain text kept on a line; the rest is cut with "…". */
  maxTextLength: number;
  /** Longest element name kept. */
  maxNameLength?: number;
  /** The page's origin, so same-origin link targets are shown as paths. */
  origin?: string;
  /** Keep only lines with elements, headings and structure. */
  interactiveOnly?: boolean;
  /** Leave out which element has focus (for comparing before and after an action). */
  hideFocus?: boolean;
}

export interface OutlineLine {
  depth: number;
  text: string;
  /** The line names at least one element by ref. */
  hasRef: boolean;
  kind: "text" | "heading" | "structure" | "element";
}

export interface Outline {
  lines: OutlineLine[];
  /** How many elements of each role got a ref. */
  counts: Record<string, number>;
}

/** Roles a model acts on: each gets a ref and is shown as a single token. */
const INTERACTIVE = new Set([
  "link",
  "button",
  "textbox",
  "searchbox",
  "checkbox",
  "radio",
  "combobox",
  "option",
  "menuitem",
  "menuitemcheckbox",
  "menuitemradio",
  "tab",
  "switch",
  "slider",
  "spinbutton",
  "treeitem",
  "DisclosureTriangle",
  "ColorWell",
  "Date",
  "DateTime",
  "InputTime",
  "PopUpButton",
  "Video",
  "Audio",
]);

/** Roles shown as a header line with their content indented beneath (and a ref, to scope to). */
const CONTAINERS = new Set([
  "navigation",
  "main",
  "banner",
  "contentinfo",
  "complementary",
  "form",
  "search",
  "dialog",
  "alertdialog",
  "article",
  "table",
  "grid",
  "treegrid",
  "tablist",
  "tabpanel",
  "menu",
  "menubar",
  "tree",
  "toolbar",
  "radiogroup",
  "listbox",
  "feed",
  "log",
  "status",
  "alert",
  "figure",
  "Iframe",
  "IframePresentational",
  "application",
]);

/** Containers shown only when they have a name (unnamed ones are plain grouping). */
const NAMED_CONTAINERS = new Set(["region", "group", "list", "document", "Section", "note", "marquee", "timer"]);

/** Inline wrappers: their content flows with the surrounding text. */
const INLINE = new Set([
  "emphasis",
  "strong",
  "code",
  "mark",
  "time",
  "abbr",
  "Abbr",
  "subscript",
  "superscript",
  "deletion",
  "insertion",
  "Ruby",
  "RubyAnnotation",
  "none",
  "presentation",
]);

const SKIP = new Set(["InlineTextBox", "ListMarker", "separator", "scrollbar", "MenuListPopup", "splitter"]);
const IMAGES = new Set(["img", "image", "graphics-document", "graphics-symbol", "Canvas", "SvgRoot"]);

const DISPLAY_ROLE: Readonly<Record<string, string>> = {
  DisclosureTriangle: "summary",
  image: "img",
  "graphics-document": "img",
  "graphics-symbol": "img",
  SvgRoot: "img",
  Canvas: "canvas",
  ColorWell: "color",
  Date: "date",
  DateTime: "datetime",
  InputTime: "time",
  PopUpButton: "combobox",
  Video: "video",
  Audio: "audio",
  Iframe: "iframe",
  IframePresentational: "iframe",
  Section: "section",
};

type Item =
  | { kind: "text"; text: string }
  | { kind: "token"; text: string; name: string }
  | { kind: "lines"; lines: OutlineLine[] };

export function renderOutline(root: AxNode, refs: RefAssigner, options: RenderOptions): Outline {
  const counts: Record<string, number> = {};
  const maxName = options.maxNameLength ?? 100;

  const ref = (node: AxNode): string | undefined =>
    node.backendNodeId === undefined ? undefined : refs.refFor(node.frame, node.backendNodeId, node.role, node.name);

  const token = (node: AxNode): Item => {
    const r = ref(node);
    const role = displayRole(node.role);
    if (r) counts[role] = (counts[role] ?? 0) + 1;
    const parts = [role];
    const name = clean(node.name);
    if (name) parts.push(JSON.stringify(clip(name, maxName)));
    if (r) parts.push(`[${r}]`);
    const value = fieldValue(node, name);
    if (value !== undefined) parts.push(`= ${JSON.stringify(clip(value, 80))}`);
    if (node.role === "combobox" || node.role === "PopUpButton") {
      const choices = optionsOf(node);
      if (choices.length) {
        const shown = choices.slice(0, 10).map((o) => clip(o, 40));
        parts.push(`options: ${shown.join(" | ")}${choices.length > 10 ? ` (+${choices.length - 10} more)` : ""}`);
      }
    }
    parts.push(...states(node, options.hideFocus));
    const url = node.role === "link" ? shortUrl(String(node.props.url ?? ""), options.origin) : undefined;
    if (url) parts.push(clip(url, 120));
    return { kind: "token", text: parts.join(" "), name };
  };

  /** Renders a node into items; `depth` is the indentation of block lines it produces. */
  const render = (node: AxNode, depth: number, inList: boolean): Item[] => {
    const role = node.role;
    if (SKIP.has(role)) return [];
    if (role === "StaticText") {
      const text = node.name;
      return text.trim() ? [{ kind: "text", text }] : [];
    }
    if (role === "LineBreak") return [{ kind: "text", text: " " }];
    if (node.ignored || INLINE.has(role)) return node.children.flatMap((child) => render(child, depth, inList));

    if (INTERACTIVE.has(role) || IMAGES.has(role)) {
      if (IMAGES.has(role) && !clean(node.name)) return [];
      return [token(node)];
    }
    if (role === "heading") {
      const level = Number(node.props.level ?? 2);
      const inner = inlineText(node.children.flatMap((child) => render(child, depth, inList)));
      const text = inner.text || clip(clean(node.name), maxName);
      if (!text) return [];
      return [
        {
          kind: "lines",
          lines: [
            {
              depth,
              text: `${"#".repeat(Math.min(Math.max(level, 1), 6))} ${text}`,
              hasRef: inner.hasRef,
              kind: "heading",
            },
          ],
        },
      ];
    }
    const name = clean(node.name);
    if (CONTAINERS.has(role) || (NAMED_CONTAINERS.has(role) && name)) {
      const r = ref(node);
      const header = [displayRole(role)];
      if (name) header.push(JSON.stringify(clip(name, maxName)));
      if (r) header.push(`[${r}]`);
      header.push(...states(node, options.hideFocus));
      const body = block(node.children, depth + 1, role === "list");
      // A fieldset's legend (or a region's own heading text) repeats the name just shown.
      if (name && body[0]?.kind === "text" && body[0].text === name) body.shift();
      if (body.length === 0 && !r) return [];
      return [
        {
          kind: "lines",
          lines: [{ depth, text: header.join(" "), hasRef: r !== undefined, kind: "structure" }, ...body],
        },
      ];
    }
    if (role === "list") return [{ kind: "lines", lines: block(node.children, inList ? depth + 1 : depth, true) }];
    if (role === "listitem") {
      const lines = block(node.children, depth, false);
      if (lines.length === 0) return [];
      const [first, ...rest] = lines as [OutlineLine, ...OutlineLine[]];
      return [
        {
          kind: "lines",
          lines: [
            { ...first, depth, text: `- ${first.text}` },
            ...rest.map((line) => ({ ...line, depth: Math.max(line.depth, depth + 1) })),
          ],
        },
      ];
    }
    if (role === "row") {
      const cells = node.children.map((child) => block([child], depth, false));
      if (cells.every((cell) => cell.length <= 1)) {
        const texts = cells.filter((cell) => cell.length === 1).map((cell) => (cell[0] as OutlineLine).text);
        if (texts.length === 0) return [];
        return [
          {
            kind: "lines",
            lines: [{ depth, text: texts.join(" | "), hasRef: cells.some((c) => c[0]?.hasRef), kind: "text" }],
          },
        ];
      }
      return [{ kind: "lines", lines: cells.flat() }];
    }
    // A wrapper around nothing but text (a <span id>, a small <div>) flows with the text around it.
    const onlyText = node.children.length > 0 && node.children.every((c) => c.role === "StaticText");
    if (role === "generic" && onlyText && node.props.focusable !== true) {
      return node.children.flatMap((child) => render(child, depth, inList));
    }
    // Everything else groups content without meaning of its own: a block of lines.
    if (node.props.focusable === true && role !== "RootWebArea" && role !== "generic" && name) return [token(node)];
    if (node.props.focusable === true && role === "generic" && node.backendNodeId !== undefined) {
      // A focusable generic element (tabindex) is something the page lets you act on.
      const text = inlineText(node.children.flatMap((child) => render(child, depth, inList))).text;
      const r = ref(node);
      if (r) counts.focusable = (counts.focusable ?? 0) + 1;
      return [{ kind: "token", text: `focusable ${JSON.stringify(clip(text || name, maxName))} [${r}]`, name: text }];
    }
    return [{ kind: "lines", lines: block(node.children, depth, inList) }];
  };

  /** Renders children as lines: runs of inline items become one line. */
  const block = (children: readonly AxNode[], depth: number, inList: boolean): OutlineLine[] => {
    const lines: OutlineLine[] = [];
    let run: Item[] = [];
    const flush = () => {
      if (run.length === 0) return;
      const { text, hasRef } = inlineText(run);
      if (text) lines.push({ depth, text, hasRef, kind: hasRef ? "element" : "text" });
      run = [];
    };
    for (const child of children) {
      for (const item of render(child, depth, inList)) {
        if (item.kind === "lines") {
          flush();
          lines.push(...item.lines);
        } else {
          // Elements share a line only with the text around them; side by side they get a line each.
          if (item.kind === "token" && lastMeaningful(run)?.kind === "token") flush();
          run.push(item);
        }
      }
    }
    flush();
    return lines;
  };

  /** Joins inline items into one line, dropping label text that repeats the next field's name. */
  const inlineText = (items: readonly Item[]): { text: string; hasRef: boolean } => {
    let out = "";
    let hasRef = false;
    let textRun = "";
    const flushText = () => {
      const text = textRun.replace(/\s+/g, " ").trim();
      textRun = "";
      if (!text) return;
      out += (out ? " " : "") + clip(text, options.maxTextLength);
    };
    for (const [i, item] of items.entries()) {
      if (item.kind === "text" && options.interactiveOnly) continue;
      if (item.kind === "text") {
        const neighbour = items[i + 1] ?? items[i - 1];
        if (neighbour?.kind === "token" && sameLabel(item.text, neighbour.name)) continue;
        textRun += item.text;
      } else if (item.kind === "token") {
        flushText();
        out += (out ? " " : "") + item.text;
        hasRef ||= /\[e\d+\]/.test(item.text);
      } else {
        for (const line of item.lines) {
          flushText();
          out += (out ? " " : "") + line.text;
          hasRef ||= line.hasRef;
        }
      }
    }
    flushText();
    return { text: out, hasRef };
  };

  let lines = block(root.role === "RootWebArea" ? root.children : [root], 0, false);
  if (root.role !== "RootWebArea" && lines.length > 0) {
    const base = Math.min(...lines.map((line) => line.depth));
    lines = lines.map((line) => ({ ...line, depth: line.depth - base }));
  }
  if (options.interactiveOnly) lines = lines.filter((line) => line.kind !== "text" || line.hasRef);
  return { lines, counts };
}

export function formatLines(lines: readonly OutlineLine[]): string {
  return lines.map((line) => `${"  ".repeat(line.depth)}${line.text}`).join("\n");
}

function lastMeaningful(items: readonly Item[]): Item | undefined {
  for (let i = items.length - 1; i >= 0; i--) {
    const item = items[i] as Item;
    if (item.kind !== "text" || item.text.trim()) return item;
  }
  return undefined;
}

function displayRole(role: string): string {
  return DISPLAY_ROLE[role] ?? role;
}

function clean(text: string): string {
  return text.replace(/\s+/g, " ").trim();
}

function clip(text: string, max: number): string {
  if (text.length <= max) return text;
  let cut = max - 1;
  const code = text.charCodeAt(cut - 1);
  if (code >= 0xd800 && code <= 0xdbff) cut--;
  return `${text.slice(0, cut)}…`;
}

function sameLabel(text: string, name: string): boolean {
  const norm = (s: string) =>
    s
      .replace(/\s+/g, " ")
      .trim()
      .replace(/[\s:*]+$/, "")
      .toLowerCase();
  const t = norm(text);
  return t !== "" && t === norm(name);
}

const VALUE_ROLES = new Set([
  "textbox",
  "searchbox",
  "combobox",
  "slider",
  "spinbutton",
  "PopUpButton",
  "Date",
  "DateTime",
  "InputTime",
  "ColorWell",
]);

function fieldValue(node: AxNode, name: string): string | undefined {
  if (!VALUE_ROLES.has(node.role)) return undefined;
  const value = String(node.props.valuetext ?? node.value ?? "").replace(/\s+/g, " ");
  return value === "" || value === name ? undefined : value;
}

function optionsOf(node: AxNode): string[] {
  const out: string[] = [];
  const visit = (n: AxNode) => {
    if (n.role === "option" || n.role === "MenuListOption") {
      const name = clean(n.name);
      if (name) out.push(name);
      return;
    }
    for (const child of n.children) visit(child);
  };
  for (const child of node.children) visit(child);
  return out;
}

function states(node: AxNode, hideFocus = false): string[] {
  const p = node.props;
  const out: string[] = [];
  if (p.checked === "true" || p.checked === true) out.push("checked");
  else if (p.checked === "mixed") out.push("mixed");
  if (p.pressed === "true" || p.pressed === true) out.push("pressed");
  else if (p.pressed === "mixed") out.push("pressed=mixed");
  if (p.selected === true) out.push("selected");
  if (p.expanded === true) out.push("expanded");
  else if (p.expanded === false && node.role !== "combobox") out.push("collapsed");
  if (p.disabled === true) out.push("disabled");
  if (p.required === true) out.push("required");
  if (p.readonly === true && VALUE_ROLES.has(node.role)) out.push("readonly");
  if (p.invalid !== undefined && p.invalid !== "false" && p.invalid !== false) out.push("invalid");
  if (p.modal === true) out.push("modal");
  if (p.focused === true && !hideFocus && node.role !== "RootWebArea") out.push("focused");
  return out;
}

function shortUrl(url: string, origin: string | undefined): string | undefined {
  if (!url || url.startsWith("javascript:")) return undefined;
  if (origin && url.startsWith(`${origin}/`)) return url.slice(origin.length);
  if (origin && url === origin) return "/";
  return url;
}
