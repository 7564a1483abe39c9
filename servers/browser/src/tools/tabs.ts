import { defineTool, sanitizeText, type Tool, ToolError } from "@portside/shared";
import { z } from "zod";
import type { BrowserSession } from "../browser/session.js";
import { type BrowserService, downloadRefused, withSession } from "./common.js";
import { withScheme } from "./navigate.js";

const tabsOutput = z.object({
  tabs: z.array(z.object({ id: z.string(), url: z.string(), title: z.string(), current: z.boolean() })),
  message: z.string(),
});

async function listTabs(session: BrowserSession, message: string) {
  const current = session.current?.id;
  const tabs = await Promise.all(
    [...session.tabs.values()].map(async (tab) => ({
      id: tab.id,
      url: tab.page.url(),
      title: sanitizeText(await tab.page.title().catch(() => "")),
      current: tab.id === current,
    })),
  );
  return { data: { tabs, message }, untrusted: true };
}

export function sessionTools(service: BrowserService): Tool[] {
  const tabs = defineTool({
    name: "tabs",
    title: "Tabs",
    description: `Lists, opens, switches and closes tabs. action "list" shows them; "new" opens one (optionally at url, under the same network policy) and makes it current; "select" makes tabId current; "close" closes tabId (default: the current tab). Other tools act on the current tab. At most ${service.deps.config.maxTabs} tabs.`,
    input: z.strictObject({
      action: z.enum(["list", "new", "select", "close"]),
      tabId: z
        .string()
        .regex(/^t\d{1,6}$/, "tab ids look like t2")
        .optional(),
      url: z.string().min(1).max(8192).optional().describe("For new: the page to open"),
    }),
    output: tabsOutput,
    annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: true },
    async handler({ action, tabId, url }, ctx) {
      if (url !== undefined && action !== "new") {
        throw new ToolError("invalid_argument", 'url is only for action "new".', { details: { argument: "url" } });
      }
      let target: string | undefined;
      if (url !== undefined) {
        target = withScheme(url);
        const verdict = await service.deps.gate.checkUrl(target, "navigation");
        if (!verdict.allowed) {
          throw new ToolError("permission_denied", verdict.message, {
            details: { argument: "url", rule: verdict.rule },
          });
        }
      }
      return withSession(
        service,
        ctx,
        async (session) => {
          switch (action) {
            case "list":
              if (!session.isRunning) return listTabs(session, "The browser is not open yet; navigate opens it.");
              return listTabs(session, `${session.tabs.size} tab(s).`);
            case "new": {
              const tab = await session.newTab();
              if (target) {
                await tab.page.goto(target, { timeout: service.timeouts.navigation }).catch((error: unknown) => {
                  const download = tab.refusedDownloads(0).at(-1);
                  const reason = tab.navigationBlockReason(0) ?? (download && downloadRefused(download));
                  throw new ToolError(
                    reason ? "permission_denied" : "upstream_error",
                    reason
                      ? sanitizeText(reason)
                      : `Loading ${target} failed: ${String((error as Error).message).split("\n")[0]}`,
                  );
                });
              }
              return listTabs(
                session,
                `Opened tab ${tab.id}${target ? ` at ${tab.page.url()}` : ""}; it is now current.`,
              );
            }
            case "select": {
              if (!tabId)
                throw new ToolError("invalid_argument", "select needs tabId.", { details: { argument: "tabId" } });
              if (!session.select(tabId)) throw unknownTab(tabId);
              await session.current?.page.bringToFront().catch(() => undefined);
              return listTabs(session, `Tab ${tabId} is now current.`);
            }
            case "close": {
              const id = tabId ?? session.current?.id;
              if (!id) throw new ToolError("not_found", "There is no tab to close.");
              if (!(await session.closeTab(id))) throw unknownTab(id);
              return listTabs(
                session,
                `Closed tab ${id}.${session.current ? ` Tab ${session.current.id} is now current.` : " No tabs are left; navigate opens a new one."}`,
              );
            }
          }
        },
        service.limits.navigation,
      );
    },
    render: ({ tabs: list, message }) =>
      [message, ...list.map((t) => `${t.current ? "*" : " "} ${t.id} ${JSON.stringify(t.title)} ${t.url}`)].join("\n"),
  });

  const close = defineTool({
    name: "close",
    title: "Close the browser",
    description:
      "Closes this session's browser with all its tabs, cookies and storage. The next tool call starts a fresh browser with an empty profile.",
    input: z.strictObject({}),
    annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false },
    async handler(_args, ctx) {
      return withSession(service, ctx, async (session) => {
        const wasRunning = session.isRunning;
        await session.close();
        return { text: wasRunning ? "The browser is closed; its profile was deleted." : "The browser was not open." };
      });
    },
  });

  return [tabs, close];
}

function unknownTab(id: string): ToolError {
  return new ToolError("not_found", `There is no tab ${id}.`, {
    hint: 'Call tabs with action "list" to see the open tabs.',
    details: { argument: "tabId" },
  });
}
