import { defineTool, sanitizeDeep, type Tool, ToolError } from "@portside/shared";
import { z } from "zod";
import { type BrowserService, targetShape, withTab } from "./common.js";

/**
 * Runs model-written JavaScript in the page. Offered only when the operator turns it on
 * (--allow-evaluate): it can do anything the page's own scripts can, though its requests still
 * pass the network policy like every other request.
 */
export function evaluateTool(service: BrowserService): Tool {
  return defineTool({
    name: "evaluate",
    title: "Run JavaScript in the page",
    description:
      'Runs a JavaScript function in the current page and returns its JSON-serialisable result (awaited if it is a promise). Give a function expression, e.g. "() => document.title"; with ref or selector the element is passed as its argument, e.g. "(el) => el.value". The result is third-party data.',
    input: z.strictObject({
      function: z.string().min(1).max(50_000).describe("A function expression: () => … or (element) => …"),
      ...targetShape,
    }),
    annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: true },
    async handler(args, ctx) {
      return withTab(service, ctx, async (tab) => {
        const source = args.function.trim();
        // The function is handed to DevTools as written (like a function literal in our own code),
        // so it is not an eval inside the page and the page's Content-Security-Policy does not block it.
        const pageFunction = Object.assign(() => undefined, { toString: () => source });
        let result: unknown;
        try {
          if (args.ref !== undefined || args.selector !== undefined) {
            const target = await tab.resolveTarget(
              args.ref !== undefined ? { ref: args.ref } : { selector: args.selector as string },
              "main",
            );
            try {
              result = await target.element.evaluate(pageFunction as unknown as (el: Element) => unknown);
            } finally {
              await target.element.dispose().catch(() => undefined);
            }
          } else {
            result = await tab.page.evaluate(pageFunction as unknown as () => unknown);
          }
        } catch (error) {
          if ((error as Error)?.name === "TimeoutError") throw error;
          const message = String((error as Error)?.message ?? error).split("\n")[0] ?? "";
          throw new ToolError("invalid_argument", `The function threw or could not run: ${message.slice(0, 500)}`, {
            details: { argument: "function" },
          });
        }
        const text =
          result === undefined ? "undefined" : (JSON.stringify(sanitizeDeep(result), null, 1) ?? String(result));
        const clipped = ctx.budget.clipText(text, "Return less from the function (select fields, slice arrays).");
        return { text: clipped.text, untrusted: true };
      });
    },
  });
}
