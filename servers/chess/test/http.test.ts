import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { freshness, ResponseCache } from "../src/chesscom/cache.js";
import type { ChessComClient } from "../src/chesscom/client.js";
import { ChessComError } from "../src/chesscom/errors.js";
import { retryAfterMs } from "../src/chesscom/http.js";
import { type ChessFixture, clientFor, startChessFixture, TEST_USER_AGENT } from "./helpers.js";

async function failure(promise: Promise<unknown>): Promise<ChessComError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof ChessComError) return error;
    throw error;
  }
  throw new Error("expected the call to fail");
}

let fixture: ChessFixture;
let client: ChessComClient;

beforeAll(async () => {
  fixture = await startChessFixture();
});
afterAll(async () => {
  await fixture.close();
});
beforeEach(async () => {
  await client?.close();
  client = clientFor(fixture.baseUrl);
  fixture.reset();
});

describe("a good API citizen", () => {
  it("never has two requests in flight, however many calls are made at once", async () => {
    fixture.setLatency(15);
    const calls = await Promise.all([
      client.profile("nimzo_lover"),
      client.stats("nimzo_lover"),
      client.playerClubs("nimzo_lover"),
      client.archives("nimzo_lover"),
      client.monthGames("nimzo_lover", { year: 2024, month: 1 }),
      client.monthGames("nimzo_lover", { year: 2024, month: 2 }),
      client.club("portside-chess-club"),
      client.leaderboards(),
      client.titled("GM"),
      client.country("NO"),
    ]);
    expect(calls).toHaveLength(10);
    expect(fixture.requests).toHaveLength(10);
    expect(fixture.maxInFlight).toBe(1);
    expect(fixture.parallelRejected).toBe(0);
    expect(fixture.requests.every((r) => r.inFlight === 1 && r.status === 200)).toBe(true);
  });

  it("the fixture really refuses parallel requests, so the test above can fail", async () => {
    fixture.setLatency(30);
    const statuses = await Promise.all(
      ["/player/nimzo_lover", "/player/nimzo_lover/stats", "/leaderboards"].map(
        async (path) => (await fetch(`${fixture.baseUrl}${path}`)).status,
      ),
    );
    expect(statuses).toContain(429);
    expect(fixture.maxInFlight).toBeGreaterThan(1);
  });

  it("sends a User-Agent with contact info and asks for compression", async () => {
    const { value } = await client.profile("nimzo_lover");
    expect(value.username).toBe("nimzo_lover");
    const [request] = fixture.requests;
    expect(request?.userAgent).toBe(TEST_USER_AGENT);
    expect(request?.acceptEncoding).toMatch(/gzip/);
  });

  it("serves fresh answers from the cache without asking again (Cache-Control max-age)", async () => {
    fixture.setMaxAge(300);
    const first = await client.profile("nimzo_lover");
    const second = await client.profile("NIMZO_LOVER");
    expect(first.source).toBe("network");
    expect(second.source).toBe("cache");
    expect(second.value).toEqual(first.value);
    expect(fixture.requests).toHaveLength(1);
    expect(client.http.stats.cacheHits).toBe(1);
  });

  it("revalidates stale answers with If-None-Match and serves 304s from the cache", async () => {
    fixture.setMaxAge(0);
    const first = await client.stats("nimzo_lover");
    const second = await client.stats("nimzo_lover");
    expect(second.source).toBe("revalidated");
    expect(second.value).toEqual(first.value);
    const [plain, conditional] = fixture.requests;
    expect(plain?.status).toBe(200);
    expect(plain?.ifNoneMatch).toBeUndefined();
    expect(conditional?.status).toBe(304);
    expect(conditional?.ifNoneMatch).toMatch(/^W\/"[0-9a-f]{32}"$/);
    // Chess.com's Last-Modified is not an HTTP-date; it goes back exactly as it came.
    expect(conditional?.ifModifiedSince).toMatch(/^\w+day, \d\d-\w{3}-\d{4} \d\d:\d\d:\d\d GMT\+0000$/);
    expect(client.http.stats.notModified).toBe(1);
  });

  it("takes the new body when the resource changed", async () => {
    fixture.setMaxAge(0);
    await client.club("portside-chess-club");
    fixture.update("/pub/club/portside-chess-club", (body) => ({ ...(body as object), members_count: 7 }));
    const after = await client.club("portside-chess-club");
    expect(after.source).toBe("network");
    expect(after.value.members_count).toBe(7);
    expect(fixture.requests.map((r) => r.status)).toEqual([200, 200]);
    fixture.update("/pub/club/portside-chess-club", (body) => ({ ...(body as object), members_count: 6 }));
  });

  it("recovers from 429 by waiting as Retry-After says, then succeeds", async () => {
    fixture.rateLimit(2, "1", "/pub/player/nimzo_lover/stats");
    const { value } = await client.stats("nimzo_lover");
    expect(value.chess_blitz).toBeDefined();
    expect(fixture.requests.map((r) => r.status)).toEqual([429, 429, 200]);
    expect(client.http.stats.rateLimited).toBe(2);
    expect(client.http.stats.retries).toBe(2);
  });

  it("fails at once with the wait when Retry-After is longer than it may wait", async () => {
    fixture.rateLimit(1, "120", "/pub/player/nimzo_lover");
    const error = await failure(client.profile("nimzo_lover"));
    expect(error.kind).toBe("rate_limited");
    expect(error.details).toMatchObject({ status: 429, retryAfterSeconds: 120 });
    expect(fixture.requests).toHaveLength(1);
  });

  it("gives up on 429 after the configured retries", async () => {
    const strict = clientFor(fixture.baseUrl, { maxRetries: 1 });
    fixture.rateLimit(5, "0", "/pub/leaderboards");
    const error = await failure(strict.leaderboards());
    expect(error.kind).toBe("rate_limited");
    expect(fixture.requests).toHaveLength(2);
    await strict.close();
  });

  it("retries a 503, then succeeds", async () => {
    const quick = clientFor(fixture.baseUrl);
    fixture.fail(1, 503, "/pub/puzzle");
    // 503 without Retry-After backs off about a second.
    const { value } = await quick.dailyPuzzle();
    expect(value.title).toBe("Back Rank Blues");
    expect(fixture.requests.map((r) => r.status)).toEqual([503, 200]);
    await quick.close();
  });

  it("follows a 301 and remembers it, so the old address is never asked again", async () => {
    fixture.setMaxAge(0);
    const first = await client.profile("nimzo_fan");
    expect(first.value.username).toBe("nimzo_lover");
    expect(first.url).toBe(`${fixture.baseUrl}/player/nimzo_lover`);
    await client.profile("nimzo_fan");
    expect(fixture.requests.map((r) => [r.path, r.status])).toEqual([
      ["/pub/player/nimzo_fan", 301],
      ["/pub/player/nimzo_lover", 200],
      ["/pub/player/nimzo_lover", 304],
    ]);
  });

  it("turns a 404 into not_found that names the player", async () => {
    const error = await failure(client.profile("no_such_person"));
    expect(error.kind).toBe("not_found");
    expect(error.message).toBe('No such player "no_such_person" on Chess.com.');
    expect(error.hint).toMatch(/spelling/);
  });

  it("never retries a 410 and never asks for it again", async () => {
    const first = await failure(client.profile("closed_account"));
    const second = await failure(client.profile("closed_account"));
    expect(first.kind).toBe("gone");
    expect(first.message).toMatch(/never be available \(410 Gone\)/);
    expect(second.kind).toBe("gone");
    expect(fixture.requests).toHaveLength(1);
  });

  it("validates before any request is made", async () => {
    const error = await failure(client.profile("../../admin"));
    expect(error.kind).toBe("invalid_argument");
    expect(fixture.requests).toHaveLength(0);
  });

  it("times out a request that takes too long", async () => {
    const impatient = clientFor(fixture.baseUrl, { timeoutMs: 200 });
    fixture.stall("/pub/streamers", 1500);
    const error = await failure(impatient.streamers());
    expect(error.kind).toBe("timeout");
    expect(error.message).toMatch(/did not answer/);
    await impatient.close();
  });

  it("a call cancelled while waiting its turn is never sent", async () => {
    fixture.setLatency(50);
    const controller = new AbortController();
    const first = client.profile("nimzo_lover");
    const second = failure(client.stats("nimzo_lover", controller.signal));
    controller.abort();
    await first;
    const error = await second;
    expect(error.kind).toBe("cancelled");
    await client.club("portside-chess-club");
    expect(fixture.requests.map((r) => r.path)).toEqual(["/pub/player/nimzo_lover", "/pub/club/portside-chess-club"]);
  });

  it("refuses answers over the size limit", async () => {
    const small = clientFor(fixture.baseUrl, { maxResponseBytes: 2048 });
    const error = await failure(small.monthGames("nimzo_lover", { year: 2024, month: 1 }));
    expect(error.kind).toBe("too_large");
    const ok = await small.country("NO");
    expect(ok.value.name).toBe("Norway");
    await small.close();
  });

  it("downloads a month as PGN", async () => {
    const { value } = await client.monthPgn("nimzo_lover", { year: 2024, month: 2 });
    expect(value.match(/^\[Event /gm)).toHaveLength(6);
  });
});

describe("redirects", () => {
  it("refuses to follow a redirect out of the API", async () => {
    const evil = createServer((_req, res) => {
      res.writeHead(301, { location: "http://169.254.169.254/latest/meta-data" });
      res.end();
    });
    await new Promise<void>((done) => evil.listen(0, "127.0.0.1", done));
    const { port } = evil.address() as AddressInfo;
    const victim = clientFor(`http://127.0.0.1:${port}/pub`);
    const error = await failure(victim.profile("hikaru"));
    expect(error.kind).toBe("upstream");
    expect(error.message).toMatch(/outside the API/);
    await victim.close();
    await new Promise((done) => evil.close(done));
  });
});

describe("cache rules", () => {
  it("reads max-age, Age, no-store and no-cache", () => {
    expect(freshness({ "cache-control": "public, max-age=5" })).toEqual({ noStore: false, lifetimeSeconds: 5 });
    expect(freshness({ "cache-control": "max-age=3600", age: "600" })).toEqual({
      noStore: false,
      lifetimeSeconds: 3000,
    });
    expect(freshness({ "cache-control": "no-store, max-age=60" }).noStore).toBe(true);
    expect(freshness({ "cache-control": "no-cache, max-age=60" }).lifetimeSeconds).toBe(0);
    expect(freshness({}).lifetimeSeconds).toBe(0);
    expect(
      freshness({ expires: "Sat, 12 Oct 2024 02:03:40 GMT", date: "Sat, 12 Oct 2024 02:03:35 GMT" }).lifetimeSeconds,
    ).toBe(5);
  });

  it("evicts the least recently used entries past its byte budget", () => {
    const cache = new ResponseCache(100);
    const entry = (bytes: number) => ({ value: bytes, etag: undefined, lastModified: undefined, freshUntil: 0, bytes });
    cache.set("a", entry(40));
    cache.set("b", entry(40));
    cache.get("a");
    cache.set("c", entry(40));
    expect(cache.get("b")).toBeUndefined();
    expect(cache.get("a")).toBeDefined();
    expect(cache.totalBytes).toBe(80);
    cache.set("huge", entry(60));
    expect(cache.get("huge")).toBeUndefined();
  });

  it("reads Retry-After as seconds or an HTTP-date", () => {
    expect(retryAfterMs("3")).toBe(3000);
    expect(retryAfterMs("Wed, 21 Oct 2015 07:28:10 GMT", Date.parse("Wed, 21 Oct 2015 07:28:00 GMT"))).toBe(10_000);
    expect(retryAfterMs("soon")).toBeUndefined();
    expect(retryAfterMs(undefined)).toBeUndefined();
  });
});
