import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { InMemoryTransport } from "@modelcontextprotocol/sdk/inMemory.js";
import { ListRootsRequestSchema, type Root } from "@modelcontextprotocol/sdk/types.js";
import { DEFAULT_MAX_RESPONSE_CHARS } from "./budget.js";
import { createLogger } from "./log.js";
import { createSessionServer, type ServerApp, type ServerInfo } from "./server.js";

export interface InMemoryConnection {
  client: Client;
  /** Changes the roots the client offers and tells the server. */
  setRoots(roots: Root[]): Promise<void>;
  close(): Promise<void>;
}

const TEST_INFO: ServerInfo = {
  name: "@portside/test",
  version: "0.0.0",
  title: "Test server",
  description: "in-memory test server",
  bin: "test",
};

/**
 * Connects a real MCP client to an app through an in-memory transport, for a server's own tests.
 * Pass `roots` to make the client offer roots.
 */
export async function connectInMemory(
  app: ServerApp,
  options: { info?: ServerInfo; roots?: Root[]; maxResponseChars?: number } = {},
): Promise<InMemoryConnection> {
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  const { mcp, session } = createSessionServer(options.info ?? TEST_INFO, app, {
    id: "test",
    log: createLogger({ level: "error" }),
    maxResponseChars: options.maxResponseChars ?? DEFAULT_MAX_RESPONSE_CHARS,
  });
  let roots = options.roots;
  const client = new Client(
    { name: "portside-test-client", version: "0.0.0" },
    { capabilities: roots ? { roots: { listChanged: true } } : {} },
  );
  if (roots) client.setRequestHandler(ListRootsRequestSchema, () => ({ roots: roots ?? [] }));
  await mcp.connect(serverSide);
  await client.connect(clientSide);
  return {
    client,
    async setRoots(next) {
      roots = next;
      await client.sendRootsListChanged();
    },
    async close() {
      await client.close();
      await mcp.close();
      await session.end();
    },
  };
}
