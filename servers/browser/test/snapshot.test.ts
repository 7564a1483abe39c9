import { describe, expect, it } from "vitest";
import { RefRegistry } from "../src/snapshot/refs.ts";
import { formatLines, renderOutline } from "../src/snapshot/render.ts";
import { type AxNode, buildTree, type CdpAxNode, findNode } from "../src/snapshot/tree.ts";
import { diffLines } from "../src/util/diff.ts";

let backend = 100;
/** Builds an AX node the way Chrome reports it. */
function n(
  role: string,
  name = "",
  props: Record<string, string | number | boolean> = {},
  ...children: AxNode[]
): AxNode {
  return { role, name, ignored: false, props, frame: "F", backendNodeId: backend++, children };
}
const text = (t: string) => n("StaticText", t);
const ignored = (...children: AxNode[]): AxNode => ({ ...n("none"), ignored: true, children });

function render(root: AxNode, options: Partial<Parameters<typeof renderOutline>[2]> = {}, refs = new RefRegistry()) {
  const outline = renderOutline(root, refs, { maxTextLength: 160, origin: "https://shop.example", ...options });
  return { text: formatLines(outline.lines), outline, refs };
}

const page = () =>
  n(
    "RootWebArea",
    "Shop",
    {},
    ignored(
      n(
        "navigation",
        "Main",
        {},
        n(
          "list",
          "",
          {},
          n(
            "listitem",
            "",
            {},
            n("ListMarker", "• "),
            n("link", "Home", { url: "https://shop.example/" }, text("Home")),
          ),
          n("listitem", "", {}, n("link", "Docs", { url: "https://docs.example/x" }, text("Docs"))),
        ),
      ),
      n(
        "main",
        "",
        {},
        n("heading", "Plans", { level: 1 }, text("Plans")),
        n(
          "paragraph",
          "",
          {},
          text("Pick a plan. Questions? "),
          n("link", "Contact us", { url: "https://shop.example/contact" }, text("Contact us")),
          text(" any time."),
        ),
        n(
          "form",
          "",
          {},
          n(
            "LabelText",
            "",
            {},
            text("Email "),
            n("textbox", "Email", { required: true }, n("generic", "", {}, text("a@b"))),
          ),
          n("checkbox", "Yearly", { checked: "true" }),
          n(
            "combobox",
            "Size",
            { expanded: false },
            n("MenuListPopup", "", {}, n("option", "S"), n("option", "M", { selected: true })),
          ),
          n("button", "Subscribe", { disabled: true }, text("Subscribe")),
        ),
        n(
          "table",
          "",
          {},
          n("row", "", {}, n("columnheader", "Name", {}, text("Name")), n("columnheader", "Price", {}, text("Price"))),
          n(
            "row",
            "",
            {},
            n("cell", "Widget", {}, text("Widget")),
            n("cell", "", {}, text("$5 "), n("button", "Buy", {}, text("Buy"))),
          ),
        ),
        n("image", ""),
        n("image", "Logo"),
        n("separator"),
      ),
    ),
  );

describe("renderOutline", () => {
  it("renders a compact outline with refs, states, values and short link targets", () => {
    const { text: out } = render(page());
    expect(out).toBe(
      [
        'navigation "Main" [e1]',
        '  - link "Home" [e2] /',
        '  - link "Docs" [e3] https://docs.example/x',
        "main [e4]",
        "  # Plans",
        '  Pick a plan. Questions? link "Contact us" [e5] /contact any time.',
        "  form [e6]",
        '    textbox "Email" [e7] required',
        '    checkbox "Yearly" [e8] checked',
        '    combobox "Size" [e9] options: S | M',
        '    button "Subscribe" [e10] disabled',
        "  table [e11]",
        "    Name | Price",
        '    Widget | $5 button "Buy" [e12]',
        '  img "Logo" [e13]',
      ].join("\n"),
    );
  });

  it("keeps refs stable across snapshots and never reuses them", () => {
    const refs = new RefRegistry();
    const root = page();
    const first = render(root, {}, refs).text;
    refs.beginSnapshot();
    expect(render(root, {}, refs).text).toBe(first);
    const button = findNode(root, (node) => node.name === "Buy") as AxNode;
    expect(refs.resolve("e12")).toMatchObject({ frame: "F", backendNodeId: button.backendNodeId, role: "button" });
    refs.forgetFrame("F");
    expect(refs.resolve("e12")).toBeUndefined();
    refs.beginSnapshot();
    expect(render(root, {}, refs).text).toContain('button "Buy" [e25]');
  });

  it("counts the elements it gave refs to", () => {
    expect(render(page()).outline.counts).toMatchObject({
      link: 3,
      textbox: 1,
      checkbox: 1,
      combobox: 1,
      button: 2,
      img: 1,
    });
  });

  it("shows field values, and leaves out values equal to the name", () => {
    const { text: out } = render(
      n(
        "RootWebArea",
        "",
        {},
        n("textbox", "Search", {}, text("shoes")),
        { ...n("textbox", "Search"), value: "shoes" },
        { ...n("searchbox", "q"), value: "q" },
        n("slider", "Volume", { valuetext: "40%" }),
      ),
    );
    expect(out.split("\n")).toEqual([
      'textbox "Search" [e1]',
      'textbox "Search" [e2] = "shoes"',
      'searchbox "q" [e3]',
      'slider "Volume" [e4] = "40%"',
    ]);
  });

  it("clips long text and names, and can leave plain text out", () => {
    const root = n(
      "RootWebArea",
      "",
      {},
      n("paragraph", "", {}, text("x".repeat(500))),
      n("button", "y".repeat(300)),
      n("heading", "Title", { level: 3 }, text("Title")),
    );
    const full = render(root, { maxTextLength: 50 }).text.split("\n");
    expect(full[0]).toBe(`${"x".repeat(49)}…`);
    expect(full[1]).toBe(`button "${"y".repeat(99)}…" [e1]`);
    expect(full[2]).toBe("### Title");
    expect(render(root, { interactiveOnly: true }).text.split("\n")).toEqual([
      expect.stringMatching(/^button/),
      "### Title",
    ]);
  });

  it("nests iframes and lists, and marks focusable generic elements", () => {
    const { text: out } = render(
      n(
        "RootWebArea",
        "",
        {},
        n(
          "list",
          "",
          {},
          n(
            "listitem",
            "",
            {},
            text("Fruit"),
            n("list", "", {}, n("listitem", "", {}, text("Apple")), n("listitem", "", {}, text("Pear"))),
          ),
        ),
        n("Iframe", "Checkout", {}, n("button", "Pay", {}, text("Pay"))),
        n("generic", "", { focusable: true }, text("Card")),
        n("dialog", "Confirm", { modal: true }, n("button", "OK")),
      ),
    );
    expect(out).toBe(
      [
        "- Fruit",
        "  - Apple",
        "  - Pear",
        'iframe "Checkout" [e1]',
        '  button "Pay" [e2]',
        'focusable "Card" [e3]',
        'dialog "Confirm" [e4] modal',
        '  button "OK" [e5]',
      ].join("\n"),
    );
  });

  it("renders a scoped subtree from depth zero", () => {
    const root = page();
    const refs = new RefRegistry();
    render(root, {}, refs);
    const form = findNode(root, (node) => node.role === "form") as AxNode;
    const scoped = renderOutline(form, refs, { maxTextLength: 160 });
    expect(formatLines(scoped.lines).split("\n")[0]).toBe("form [e6]");
    expect(scoped.lines.every((line) => line.depth <= 1)).toBe(true);
  });

  it("can leave focus out, for comparing before and after an action", () => {
    const root = n("RootWebArea", "", {}, n("button", "Go", { focused: true }));
    expect(render(root).text).toBe('button "Go" [e1] focused');
    expect(render(root, { hideFocus: true }).text).toBe('button "Go" [e1]');
  });

  it("never lets page text pose as structure: names and values are quoted", () => {
    const { text: out } = render(n("RootWebArea", "", {}, n("button", 'Pay" [e99] checked', {})));
    expect(out).toBe('button "Pay\\" [e99] checked" [e1]');
  });
});

describe("buildTree", () => {
  it("builds the tree from Chrome's flat node list and survives cycles", () => {
    const nodes: CdpAxNode[] = [
      { nodeId: "1", ignored: false, role: { value: "RootWebArea" }, name: { value: "T" }, childIds: ["2", "3"] },
      {
        nodeId: "2",
        ignored: false,
        role: { value: "button" },
        name: { value: "Go" },
        parentId: "1",
        backendDOMNodeId: 7,
        properties: [{ name: "focusable", value: { value: true } }],
        childIds: ["1"],
      },
      { nodeId: "3", ignored: true, role: { value: "none" }, parentId: "1", childIds: ["9"] },
    ];
    const tree = buildTree(nodes, "F") as AxNode;
    expect(tree.role).toBe("RootWebArea");
    expect(tree.children.map((c) => c.role)).toEqual(["button", "none"]);
    expect(tree.children[0]).toMatchObject({ backendNodeId: 7, props: { focusable: true }, children: [] });
    expect(buildTree([], "F")).toBeUndefined();
  });
});

describe("diffLines", () => {
  it("lists what went and what came, in order", () => {
    expect(diffLines(["a", "b", "c", "d"], ["a", "c", "x", "d"]).changes).toEqual(["- b", "+ x"]);
    expect(diffLines(["a"], ["a"]).changes).toEqual([]);
    expect(diffLines([], ["a", "b"])).toEqual({ changes: ["+ a", "+ b"], added: 2, removed: 0 });
    expect(diffLines(["x", "y"], [])).toEqual({ changes: ["- x", "- y"], added: 0, removed: 2 });
    expect(diffLines(["a", "b"], ["b", "a"]).changes).toEqual(["- a", "+ a"]);
  });
  it("falls back to set difference for huge changes", () => {
    const before = Array.from({ length: 3000 }, (_, i) => `old ${i}`);
    const after = Array.from({ length: 3000 }, (_, i) => `new ${i}`);
    const diff = diffLines(before, after, 1000);
    expect(diff.added).toBe(3000);
    expect(diff.removed).toBe(3000);
  });
});
