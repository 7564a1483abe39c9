import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { type ConfigOf, createLogger } from "@portside/shared";
import { connectInMemory, type InMemoryConnection } from "@portside/shared/testing";
import type { options } from "../src/config.ts";
import { githubServer } from "../src/server.ts";

export type GitHubConfig = ConfigOf<typeof options>;

export const TEST_TOKEN = "ghp_testtokentesttokentesttokentest0000";

/** The server's app started with test settings and a real MCP client connected in memory. */
export async function connectGitHub(
  apiUrl: string,
  overrides: Partial<GitHubConfig> = {},
  maxResponseChars?: number,
): Promise<InMemoryConnection> {
  const config: GitHubConfig = {
    token: TEST_TOKEN,
    apiUrl,
    toolsets: ["default"],
    tools: [],
    excludeTools: [],
    readOnly: false,
    allowedRepos: ["*"],
    cacheMb: 32,
    ...overrides,
  };
  const app = await githubServer.start(config, { log: createLogger({ level: "error" }), transport: "stdio" });
  return connectInMemory(app, maxResponseChars ? { maxResponseChars } : {});
}

export async function call(client: Client, name: string, args: Record<string, unknown>): Promise<CallToolResult> {
  return (await client.callTool({ name, arguments: args })) as CallToolResult;
}

export function textOf(result: CallToolResult): string {
  return result.content
    .filter((block): block is { type: "text"; text: string } => block.type === "text")
    .map((block) => block.text)
    .join("\n");
}

/** The JSON a tool answered (its header, for answers with a raw body after `---`). */
export function jsonOf<T = Record<string, unknown>>(result: CallToolResult): T {
  const text = textOf(result);
  if (result.isError) throw new Error(`tool failed: ${text}`);
  const header = text.split("\n---\n", 1)[0] as string;
  return JSON.parse(header) as T;
}

/** The raw body after the JSON header (a diff, a file, a log). */
export function bodyOf(result: CallToolResult): string {
  const text = textOf(result);
  const at = text.indexOf("\n---\n");
  return at === -1 ? "" : text.slice(at + 5);
}
