#!/usr/bin/env node
// The floor: the smallest useful server on the bare SDK, to measure what @portside/shared costs.
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import { z } from "zod";

const server = new McpServer({ name: "floor-echo", version: "1.0.0" });
server.registerTool(
  "echo",
  {
    title: "Echo",
    description: "Returns the text it was given and its length.",
    inputSchema: { text: z.string() },
    outputSchema: { text: z.string(), length: z.number().int() },
    annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  },
  async ({ text }) => ({
    content: [{ type: "text", text }],
    structuredContent: { text, length: text.length },
  }),
);
await server.connect(new StdioServerTransport());
