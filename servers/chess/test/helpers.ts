import { ChessComClient } from "../src/chesscom/client.js";
import type { HttpOptions } from "../src/chesscom/http.js";

export { type ChessFixture, startChessFixture } from "../../../test/fixtures/chess/server.ts";

export const TEST_USER_AGENT = "portside-server-chess-tests/0.0.0 (+https://github.com/portside-mcp/portside)";

export function clientFor(baseUrl: string, options: Partial<HttpOptions> = {}): ChessComClient {
  return new ChessComClient({
    baseUrl,
    userAgent: TEST_USER_AGENT,
    timeoutMs: 10_000,
    maxRetries: 3,
    maxRetryWaitMs: 5_000,
    cacheBytes: 16 * 1024 * 1024,
    maxResponseBytes: 16 * 1024 * 1024,
    ...options,
  });
}
