import { defineTool, type Tool, ToolError } from "@portside/shared";
import { z } from "zod";
import { frameSession } from "../browser/internals.js";
import { type BrowserService, targetShape, withTab } from "./common.js";

/** Chrome cannot capture taller than this in one image. */
const MAX_CAPTURE_HEIGHT = 16_384;

const screenshotOutput = z.object({
  format: z.enum(["png", "jpeg"]),
  width: z.number().int().describe("Image width in pixels"),
  height: z.number().int(),
  scale: z.number().describe("Image pixels per CSS pixel"),
  bytes: z.number().int(),
  clipped: z.boolean().describe("A full-page capture was cut at the maximum height"),
});

export function screenshotTool(service: BrowserService): Tool {
  return defineTool({
    name: "screenshot",
    title: "Screenshot",
    description:
      "Captures the visible part of the page (default), the full page, or one element (by ref or CSS selector) as a PNG or JPEG image, scaled down so neither side exceeds maxDimension. Use it to check layout or visual state; use snapshot to find and act on elements.",
    input: z.strictObject({
      ...targetShape,
      fullPage: z.boolean().default(false).describe("The whole scrollable page instead of the viewport"),
      format: z.enum(["png", "jpeg"]).default("png"),
      quality: z.number().int().min(10).max(100).default(80).describe("JPEG quality"),
      maxDimension: z.number().int().min(200).max(4096).default(1568).describe("Longest side of the image, in pixels"),
    }),
    output: screenshotOutput,
    annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true },
    async handler(args, ctx) {
      if (args.fullPage && (args.ref !== undefined || args.selector !== undefined)) {
        throw new ToolError("invalid_argument", "Give either fullPage or an element (ref/selector), not both.", {
          details: { argument: "fullPage" },
        });
      }
      return withTab(service, ctx, async (tab) => {
        const page = tab.page;
        let region: { x: number; y: number; width: number; height: number };
        let clipped = false;
        let what: string;
        if (args.ref !== undefined || args.selector !== undefined) {
          const target = await tab.resolveTarget(
            args.ref !== undefined ? { ref: args.ref } : { selector: args.selector as string },
          );
          try {
            await target.element.scrollIntoView().catch(() => undefined);
            const box = await target.element.boundingBox();
            if (!box || box.width < 1 || box.height < 1) {
              throw new ToolError("conflict", `${target.label} is not visible, so it cannot be captured.`);
            }
            const scroll = await page.evaluate(() => ({ x: window.scrollX, y: window.scrollY }));
            region = { x: box.x + scroll.x, y: box.y + scroll.y, width: box.width, height: box.height };
            what = target.label;
          } finally {
            await target.element.dispose().catch(() => undefined);
          }
        } else if (args.fullPage) {
          const size = await page.evaluate(() => ({
            width: Math.max(document.documentElement.scrollWidth, document.body?.scrollWidth ?? 0, window.innerWidth),
            height: Math.max(
              document.documentElement.scrollHeight,
              document.body?.scrollHeight ?? 0,
              window.innerHeight,
            ),
          }));
          clipped = size.height > MAX_CAPTURE_HEIGHT;
          region = { x: 0, y: 0, width: size.width, height: Math.min(size.height, MAX_CAPTURE_HEIGHT) };
          what = "the full page";
        } else {
          const view = await page.evaluate(() => ({
            x: window.scrollX,
            y: window.scrollY,
            width: window.innerWidth,
            height: window.innerHeight,
          }));
          region = view;
          what = "the viewport";
        }
        const scale = Math.min(1, args.maxDimension / Math.max(region.width, region.height));
        // Straight to DevTools: puppeteer drops the clip's scale for captures within the viewport.
        const { data: image } = (await frameSession(page.mainFrame()).send("Page.captureScreenshot", {
          format: args.format,
          ...(args.format === "jpeg" ? { quality: args.quality } : {}),
          clip: { ...region, scale },
          captureBeyondViewport: args.fullPage,
        })) as { data: string };
        const data = {
          format: args.format,
          width: Math.round(region.width * scale),
          height: Math.round(region.height * scale),
          scale: Math.round(scale * 1000) / 1000,
          bytes: Math.floor((image.length * 3) / 4),
          clipped,
        };
        return {
          data,
          text: `Screenshot of ${what}: ${data.width}×${data.height} ${args.format.toUpperCase()}${scale < 1 ? ` (scaled ×${data.scale})` : ""}, ${Math.round(data.bytes / 1024)} KB${clipped ? `; cut at ${MAX_CAPTURE_HEIGHT} CSS px of height` : ""}.`,
          content: [{ type: "image", data: image, mimeType: `image/${args.format}` }],
          untrusted: true,
        };
      });
    },
  });
}
