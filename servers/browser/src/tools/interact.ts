import { defineTool, type Tool, type ToolContext, ToolError } from "@portside/shared";
import type { ElementHandle, KeyInput } from "puppeteer-core";
import { z } from "zod";
import type { BrowserSession } from "../browser/session.js";
import { type ResolvedTarget, sleep, type Tab } from "../browser/tab.js";
import {
  act,
  actionOutput,
  type BrowserService,
  dialogSchema,
  renderAction,
  requireTarget,
  targetShape,
  withTab,
} from "./common.js";

const MODIFIERS = ["Alt", "Control", "Meta", "Shift"] as const;
type Modifier = (typeof MODIFIERS)[number];

/**
 * Checks an element can take a pointer action: it has a size, is not disabled, and is not covered
 * by something else (an overlay, a cookie banner). Gives moving things a moment to settle.
 */
async function ensureActionable(element: ElementHandle<Element>, label: string, signal: AbortSignal): Promise<void> {
  await element.scrollIntoView().catch(() => undefined);
  let problem: string | undefined;
  for (let attempt = 0; attempt < 8 && !signal.aborted; attempt++) {
    problem = await element.evaluate((el) => {
      const disabled = (el as HTMLButtonElement).disabled === true || el.getAttribute("aria-disabled") === "true";
      if (disabled) return "is disabled";
      const rect = el.getBoundingClientRect();
      if (rect.width === 0 || rect.height === 0) return "is not visible (it has no size)";
      const style = getComputedStyle(el);
      if (style.visibility === "hidden" || style.display === "none") return "is not visible";
      const x = rect.left + rect.width / 2;
      const y = rect.top + rect.height / 2;
      if (x < 0 || y < 0 || x > innerWidth || y > innerHeight) return undefined;
      const root = el.getRootNode() as Document | ShadowRoot;
      const hit = root.elementFromPoint(x, y);
      if (!hit || el === hit || el.contains(hit) || hit.contains(el)) return undefined;
      if (hit instanceof HTMLLabelElement && hit.control === el) return undefined;
      const name = hit.tagName.toLowerCase();
      const id = hit.id ? `#${hit.id}` : "";
      const cls =
        typeof hit.className === "string" && hit.className.trim()
          ? `.${hit.className.trim().split(/\s+/).slice(0, 2).join(".")}`
          : "";
      return `is covered by <${name}${id}${cls}>`;
    });
    if (!problem || problem === "is disabled") break;
    await sleep(125, signal);
  }
  if (problem) {
    throw new ToolError("conflict", `${label} ${problem}.`, {
      hint: problem.startsWith("is covered")
        ? "Close or act on the covering element first (take a snapshot to find it), or press Escape."
        : "Take a snapshot to see the element's current state.",
    });
  }
}

async function withDialogAnswer<T>(tab: Tab, answer: "accept" | "dismiss" | undefined, work: () => Promise<T>) {
  tab.answerDialogsWith(answer ? { accept: answer === "accept" } : undefined);
  try {
    return await work();
  } finally {
    tab.answerDialogsWith(undefined);
  }
}

async function holdModifiers(tab: Tab, modifiers: readonly Modifier[], work: () => Promise<void>): Promise<void> {
  for (const key of modifiers) await tab.page.keyboard.down(key);
  try {
    await work();
  } finally {
    for (const key of [...modifiers].reverse()) await tab.page.keyboard.up(key).catch(() => undefined);
  }
}

type FieldKind =
  | { kind: "text" }
  | { kind: "toggle"; checked: boolean; type: string }
  | { kind: "select"; multiple: boolean }
  | { kind: "direct"; type: string }
  | { kind: "file" }
  | { kind: "other"; what: string };

/** Input types whose value is set directly: typing does not work for pickers. */
const DIRECT_TYPES = ["date", "time", "datetime-local", "month", "week", "color", "range"];

async function fieldKind(element: ElementHandle<Element>): Promise<FieldKind> {
  return element.evaluate((el, direct): FieldKind => {
    const tag = el.tagName.toLowerCase();
    if (tag === "textarea") return { kind: "text" };
    if (tag === "select") return { kind: "select", multiple: (el as HTMLSelectElement).multiple };
    if (tag === "input") {
      const input = el as HTMLInputElement;
      const type = input.type.toLowerCase();
      if (type === "checkbox" || type === "radio") return { kind: "toggle", checked: input.checked, type };
      if (type === "file") return { kind: "file" };
      if (direct.includes(type)) return { kind: "direct", type };
      if (["button", "submit", "reset", "image", "hidden"].includes(type))
        return { kind: "other", what: `a ${type} input` };
      return { kind: "text" };
    }
    if ((el as HTMLElement).isContentEditable) return { kind: "text" };
    const role = el.getAttribute("role");
    if (role === "checkbox" || role === "switch" || role === "radio") {
      return { kind: "toggle", checked: el.getAttribute("aria-checked") === "true", type: role };
    }
    if (role === "textbox" || role === "searchbox") return { kind: "text" };
    return { kind: "other", what: `a <${tag}>${role ? ` (role ${role})` : ""}` };
  }, DIRECT_TYPES);
}

/** Replaces a text field's content: focus, select what is there, then insert the new text. */
async function replaceText(
  tab: Tab,
  element: ElementHandle<Element>,
  text: string,
  options: { clear: boolean; slowly: boolean },
) {
  await element.focus();
  if (options.clear) {
    await element.evaluate((el) => {
      if (el instanceof HTMLInputElement || el instanceof HTMLTextAreaElement) {
        el.select();
      } else {
        const range = document.createRange();
        range.selectNodeContents(el);
        const selection = getSelection();
        selection?.removeAllRanges();
        selection?.addRange(range);
      }
    });
    if (text === "") await tab.page.keyboard.press("Delete");
  }
  if (text === "") return;
  if (options.slowly) await tab.page.keyboard.type(text);
  else await tab.page.keyboard.sendCharacter(text);
}

async function setDirectValue(element: ElementHandle<Element>, value: string): Promise<void> {
  const result = await element.evaluate((el, v) => {
    const input = el as HTMLInputElement;
    const setter = Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, "value")?.set;
    setter?.call(input, v);
    if (input.value !== v) return input.value;
    input.dispatchEvent(new Event("input", { bubbles: true }));
    input.dispatchEvent(new Event("change", { bubbles: true }));
    return null;
  }, value);
  if (result !== null) {
    throw new ToolError(
      "invalid_argument",
      `The field did not accept ${JSON.stringify(value)} (it holds ${JSON.stringify(result)}).`,
      {
        hint: "Use the field's format: date 2024-05-31, time 13:45, month 2024-05, week 2024-W22, color #ff8800, range a number in bounds.",
        details: { argument: "value" },
      },
    );
  }
}

type SelectOutcome =
  | { selected: string[] }
  | { error: "not-select" | "single" }
  | { error: "missing"; value: string; available: string[] }
  | { error: "disabled"; value: string };

async function selectOptions(element: ElementHandle<Element>, wanted: readonly string[]): Promise<string[]> {
  const outcome = await element.evaluate((el, values): SelectOutcome => {
    if (el.tagName !== "SELECT") return { error: "not-select" };
    const select = el as HTMLSelectElement;
    const options = [...select.options];
    const norm = (s: string) => s.replace(/\s+/g, " ").trim().toLowerCase();
    const matched: HTMLOptionElement[] = [];
    for (const value of values) {
      const option =
        options.find((o) => o.value === value) ??
        options.find((o) => o.label.trim() === value.trim()) ??
        options.find((o) => norm(o.text) === norm(value));
      if (!option) {
        return { error: "missing", value, available: options.slice(0, 40).map((o) => o.label.trim() || o.value) };
      }
      if (option.disabled) return { error: "disabled", value };
      matched.push(option);
    }
    if (!select.multiple && matched.length > 1) return { error: "single" };
    for (const option of options) option.selected = matched.includes(option);
    select.dispatchEvent(new Event("input", { bubbles: true }));
    select.dispatchEvent(new Event("change", { bubbles: true }));
    return { selected: matched.map((o) => o.label.trim() || o.value) };
  }, wanted as string[]);
  if ("selected" in outcome) return outcome.selected;
  switch (outcome.error) {
    case "not-select":
      throw new ToolError("invalid_argument", "That element is not a <select>.", {
        hint: "For a custom dropdown, click it, take a snapshot, then click the option.",
        details: { argument: "ref" },
      });
    case "missing":
      throw new ToolError("invalid_argument", `No option matches ${JSON.stringify(outcome.value)}.`, {
        hint: `Available options: ${outcome.available.map((o) => JSON.stringify(o)).join(", ")}`,
        details: { argument: "values" },
      });
    case "disabled":
      throw new ToolError("invalid_argument", `The option ${JSON.stringify(outcome.value)} is disabled.`, {
        details: { argument: "values" },
      });
    case "single":
      throw new ToolError("invalid_argument", "This select takes one option; pass a single value.", {
        details: { argument: "values" },
      });
  }
}

export function interactionTools(service: BrowserService): Tool[] {
  const elementAction = (
    ctx: ToolContext,
    args: { ref?: string | undefined; selector?: string | undefined },
    tool: string,
    perform: (
      tab: Tab,
      element: ElementHandle<Element>,
      label: string,
      session: BrowserSession,
    ) => Promise<{ verb: string; run: () => Promise<void> }>,
  ) =>
    withTab(
      service,
      ctx,
      async (tab, session) => {
        const target = await tab.resolveTarget(requireTarget(args, tool));
        try {
          const { verb, run } = await perform(tab, target.element, target.label, session);
          const report = await act(tab, session, ctx, verb, run);
          return { data: report, untrusted: true };
        } finally {
          await target.element.dispose().catch(() => undefined);
        }
      },
      service.limits.action,
    );

  const click = defineTool({
    name: "click",
    title: "Click",
    description:
      "Clicks an element (by ref from snapshot, or CSS selector) like a user: scrolls it into view, checks it is visible, enabled and not covered, then clicks its centre. Waits for what the click sets off (a page load, requests) and answers with what changed — new page, dialogs, new tabs, and the snapshot lines that appeared or went.",
    input: z.strictObject({
      ...targetShape,
      button: z.enum(["left", "right", "middle"]).default("left"),
      doubleClick: z.boolean().default(false),
      modifiers: z.array(z.enum(MODIFIERS)).max(4).default([]).describe("Keys held during the click"),
      dialog: dialogSchema,
    }),
    output: actionOutput,
    annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: true },
    async handler(args, ctx) {
      return elementAction(ctx, args, "click", async (tab, element, label) => {
        await ensureActionable(element, label, ctx.signal);
        return {
          verb: `${args.doubleClick ? "Double-clicked" : "Clicked"} ${label}`,
          run: () =>
            withDialogAnswer(tab, args.dialog, () =>
              holdModifiers(tab, args.modifiers, () =>
                element.click({ button: args.button, count: args.doubleClick ? 2 : 1 }),
              ),
            ),
        };
      });
    },
    render: renderAction,
  });

  const hover = defineTool({
    name: "hover",
    title: "Hover",
    description:
      "Moves the mouse over an element (by ref or CSS selector), e.g. to open a menu or show a tooltip, and answers with what changed.",
    input: z.strictObject({ ...targetShape }),
    output: actionOutput,
    annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: true },
    async handler(args, ctx) {
      return elementAction(ctx, args, "hover", async (_tab, element, label) => {
        await ensureActionable(element, label, ctx.signal);
        return { verb: `Hovered over ${label}`, run: () => element.hover() };
      });
    },
    render: renderAction,
  });

  const type = defineTool({
    name: "type",
    title: "Type text",
    description:
      "Types text into a text field or editable element (by ref or CSS selector). Replaces what the field holds unless clear is false; submit presses Enter afterwards; slowly sends one key at a time (for pages that react to each key press). Answers with what changed. For several fields at once use fill_form.",
    input: z.strictObject({
      ...targetShape,
      text: z.string().max(20_000),
      clear: z.boolean().default(true).describe("Replace the current content (default) or add to it"),
      submit: z.boolean().default(false).describe("Press Enter after typing"),
      slowly: z.boolean().default(false).describe("Send key presses one by one"),
    }),
    output: actionOutput,
    annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: true },
    async handler(args, ctx) {
      return elementAction(ctx, args, "type", async (tab, element, label) => {
        const kind = await fieldKind(element);
        if (kind.kind !== "text") {
          throw new ToolError("invalid_argument", `${label} is not a text field (${describeKind(kind)}).`, {
            hint:
              kind.kind === "other"
                ? "Pick a textbox from the snapshot."
                : "Use fill_form, which handles every kind of field.",
            details: { argument: args.ref !== undefined ? "ref" : "selector" },
          });
        }
        return {
          verb: `Typed ${args.text.length} characters into ${label}${args.submit ? " and pressed Enter" : ""}`,
          run: async () => {
            await replaceText(tab, element, args.text, { clear: args.clear, slowly: args.slowly });
            if (args.submit) await tab.page.keyboard.press("Enter");
          },
        };
      });
    },
    render: renderAction,
  });

  const fieldSchema = z.strictObject({
    ...targetShape,
    value: z
      .union([z.string().max(20_000), z.boolean(), z.array(z.string()).max(100)])
      .describe(
        "Text for text fields; true/false for checkboxes, switches and radios; option value(s) or label(s) for selects",
      ),
  });

  const fillForm = defineTool({
    name: "fill_form",
    title: "Fill form fields",
    description:
      "Fills several form fields in one call, each by ref or CSS selector: text fields get text (replacing what was there), checkboxes/switches/radios get true or false, selects get an option value or label (or a list, for multiple selects), date/time/color/range inputs get their value. Does not submit; click the submit button afterwards. Answers with what changed.",
    input: z.strictObject({ fields: z.array(fieldSchema).min(1).max(50) }),
    output: actionOutput,
    annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: true },
    async handler({ fields }, ctx) {
      return withTab(
        service,
        ctx,
        async (tab, session) => {
          const resolved: Array<{ field: (typeof fields)[number]; target: ResolvedTarget; kind: FieldKind }> = [];
          try {
            for (const [index, field] of fields.entries()) {
              const target = await tab.resolveTarget(requireTarget(field, `fields[${index}]`));
              resolved.push({ field, target, kind: await fieldKind(target.element) });
            }
            for (const { field, target, kind } of resolved) checkFieldValue(field.value, kind, target.label);
            const report = await act(
              tab,
              session,
              ctx,
              `Filled ${fields.length} field${fields.length === 1 ? "" : "s"}`,
              async () => {
                for (const { field, target, kind } of resolved) {
                  await fillOne(tab, target.element, target.label, kind, field.value, ctx.signal);
                }
              },
            );
            return { data: report, untrusted: true };
          } finally {
            for (const { target } of resolved) await target.element.dispose().catch(() => undefined);
          }
        },
        service.limits.action,
      );
    },
    render: renderAction,
  });

  const selectOption = defineTool({
    name: "select_option",
    title: "Select option",
    description:
      "Chooses option(s) in a <select> (by ref or CSS selector), matching each value against option values, then labels. Answers with what changed; an unknown value is an error listing the options. For custom dropdowns, click them and then click the option.",
    input: z.strictObject({ ...targetShape, values: z.array(z.string()).min(1).max(100) }),
    output: actionOutput,
    annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: true },
    async handler(args, ctx) {
      return elementAction(ctx, args, "select_option", async (_tab, element, label) => ({
        verb: `Selected ${args.values.map((v) => JSON.stringify(v)).join(", ")} in ${label}`,
        run: async () => {
          await selectOptions(element, args.values);
        },
      }));
    },
    render: renderAction,
  });

  const pressKey = defineTool({
    name: "press_key",
    title: "Press a key",
    description:
      'Presses a key or combination, e.g. "Enter", "Escape", "Tab", "ArrowDown", "Control+A", "Shift+Tab", optionally after focusing an element (by ref or CSS selector). Answers with what changed.',
    input: z.strictObject({
      key: z
        .string()
        .min(1)
        .max(60)
        .describe('Key name (as in KeyboardEvent.key) with optional modifiers joined by "+"'),
      ref: targetShape.ref,
      selector: targetShape.selector,
      dialog: dialogSchema,
    }),
    output: actionOutput,
    annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: true },
    async handler(args, ctx) {
      const parts = args.key.split("+").map((p) => p.trim());
      const key = parts.pop() || "+";
      const modifiers = parts.map((m) => normalizeModifier(m));
      return withTab(
        service,
        ctx,
        async (tab, session) => {
          const target =
            args.ref !== undefined || args.selector !== undefined
              ? await tab.resolveTarget(requireTarget(args, "press_key"))
              : undefined;
          try {
            if (target) await target.element.focus();
            const report = await act(
              tab,
              session,
              ctx,
              `Pressed ${args.key}${target ? ` in ${target.label}` : ""}`,
              () =>
                withDialogAnswer(tab, args.dialog, () =>
                  holdModifiers(tab, modifiers, async () => {
                    try {
                      await tab.page.keyboard.press(key as KeyInput);
                    } catch (error) {
                      if (/Unknown key/i.test(String((error as Error).message))) {
                        throw new ToolError("invalid_argument", `${JSON.stringify(key)} is not a key name.`, {
                          hint: 'Use KeyboardEvent.key names: "Enter", "Escape", "Tab", "ArrowLeft", "a", "Control+A".',
                          details: { argument: "key" },
                        });
                      }
                      throw error;
                    }
                  }),
                ),
            );
            return { data: report, untrusted: true };
          } finally {
            await target?.element.dispose().catch(() => undefined);
          }
        },
        service.limits.action,
      );
    },
    render: renderAction,
  });

  return [click, hover, type, fillForm, selectOption, pressKey];
}

function normalizeModifier(text: string): Modifier {
  const lower = text.toLowerCase();
  const map: Record<string, Modifier> = {
    alt: "Alt",
    option: "Alt",
    control: "Control",
    ctrl: "Control",
    meta: "Meta",
    cmd: "Meta",
    command: "Meta",
    shift: "Shift",
  };
  const modifier = map[lower];
  if (!modifier) {
    throw new ToolError("invalid_argument", `${JSON.stringify(text)} is not a modifier key.`, {
      hint: "Modifiers are Alt, Control, Meta and Shift, joined to the key with +, e.g. Control+A.",
      details: { argument: "key" },
    });
  }
  return modifier;
}

function describeKind(kind: FieldKind): string {
  switch (kind.kind) {
    case "toggle":
      return `a ${kind.type}`;
    case "select":
      return "a select";
    case "direct":
      return `a ${kind.type} input`;
    case "file":
      return "a file input";
    case "other":
      return kind.what;
    case "text":
      return "a text field";
  }
}

function checkFieldValue(value: string | boolean | string[], kind: FieldKind, label: string): void {
  const bad = (expected: string) =>
    new ToolError("invalid_argument", `${label} is ${describeKind(kind)} and needs ${expected}.`, {
      details: { argument: "fields" },
    });
  switch (kind.kind) {
    case "toggle":
      if (typeof value !== "boolean") throw bad("true or false");
      if (kind.type === "radio" && value === false) {
        throw new ToolError(
          "invalid_argument",
          `${label} is a radio button; choose another option in its group instead of unchecking it.`,
          {
            details: { argument: "fields" },
          },
        );
      }
      return;
    case "select":
      if (typeof value === "boolean") throw bad("an option value or label");
      return;
    case "text":
    case "direct":
      if (typeof value !== "string") throw bad("a string");
      return;
    case "file":
      throw new ToolError("invalid_argument", `${label} is a file input; uploading files is not supported.`, {
        details: { argument: "fields" },
      });
    case "other":
      throw new ToolError("invalid_argument", `${label} is ${kind.what}, not a form field.`, {
        details: { argument: "fields" },
      });
  }
}

async function fillOne(
  tab: Tab,
  element: ElementHandle<Element>,
  label: string,
  kind: FieldKind,
  value: string | boolean | string[],
  signal: AbortSignal,
): Promise<void> {
  switch (kind.kind) {
    case "toggle":
      if (kind.checked !== value) {
        await ensureActionable(element, label, signal);
        await element.click();
      }
      return;
    case "select":
      await selectOptions(element, Array.isArray(value) ? value : [String(value)]);
      return;
    case "direct":
      await setDirectValue(element, String(value));
      return;
    case "text":
      await replaceText(tab, element, String(value), { clear: true, slowly: false });
      return;
    default:
      return;
  }
}
