import { defineTool, sanitizeText, type Tool, ToolError } from "@portside/shared";
import { z } from "zod";
import type { PostgresService } from "../service.js";
import { translated } from "./errors.js";

const MAX_PLAN_LINES = 2000;

export function explainTool(service: PostgresService, allowAnalyze: boolean): Tool {
  return defineTool({
    name: "explain_query",
    title: "Explain a query's plan",
    description: [
      "Shows PostgreSQL's plan for one SELECT without running it: how tables are scanned and joined, and estimated costs and rows.",
      "Pass the SELECT itself (the tool adds EXPLAIN). The query is checked exactly as `query` checks it.",
      allowAnalyze
        ? "With analyze=true the query also runs (read-only, under the statement timeout) and the plan shows actual times and rows."
        : "EXPLAIN ANALYZE is disabled on this server.",
    ].join(" "),
    input: z.object({
      sql: z.string().min(1).max(100_000).describe("The SELECT to explain."),
      analyze: z
        .boolean()
        .default(false)
        .describe(allowAnalyze ? "Run the query and show actual times and rows." : "Not available on this server."),
      format: z.enum(["text", "json"]).default("text").describe("Plan as indented text, or PostgreSQL's JSON form."),
    }),
    output: z.object({
      format: z.enum(["text", "json"]),
      analyzed: z.boolean(),
      plan: z.unknown(),
    }),
    annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    async handler({ sql, analyze, format }, ctx) {
      if (analyze && !allowAnalyze) {
        throw new ToolError("permission_denied", "EXPLAIN ANALYZE is disabled on this server.", {
          hint: "Call again with analyze=false for the estimated plan.",
          details: { argument: "analyze" },
        });
      }
      return translated(sql, async () => {
        const { result } = await service.query(
          sql,
          [],
          { maxRows: MAX_PLAN_LINES, maxBytes: 4 * 1024 * 1024, maxValueChars: 4 * 1024 * 1024 },
          { signal: ctx.signal, explain: { analyze, format } },
        );
        if (format === "json") {
          const plan = result.rows[0]?.[0] ?? null;
          const text = JSON.stringify(plan);
          if (text.length > ctx.budget.maxChars - 500) {
            throw new ToolError(
              "too_large",
              `The JSON plan has ${text.length} characters, more than this answer can hold.`,
              {
                hint: "Call again with format=text (it is cut to fit), or explain a smaller part of the query.",
                details: { argument: "format" },
              },
            );
          }
          return { data: { format, analyzed: analyze, plan }, text };
        }
        const lines = result.rows.map((row) => sanitizeText(String(row[0] ?? "")));
        const clipped = ctx.budget.clipText(
          lines.join("\n"),
          "The plan is longer than the response budget; explain a smaller part of the query.",
        );
        return { data: { format, analyzed: analyze, plan: clipped.text }, text: clipped.text };
      });
    },
  });
}
