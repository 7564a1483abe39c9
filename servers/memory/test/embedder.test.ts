import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type EmbeddingsServer, startEmbeddingsServer } from "../../../test/fixtures/memory/embedder.ts";
import { Embedder, type EmbedderOptions, EmbeddingError } from "../src/memory/embedder.ts";
import { dot } from "../src/memory/vectors.ts";

let server: EmbeddingsServer;
const KEY = "sk-test-secret-key";

beforeAll(async () => {
  server = await startEmbeddingsServer({ apiKey: KEY });
});
afterAll(async () => {
  await server.close();
});

const embedder = (options: Partial<EmbedderOptions> = {}) =>
  new Embedder({
    apiKey: KEY,
    baseURL: server.baseUrl,
    model: "fixture-embed",
    dimensions: undefined,
    batchSize: 64,
    maxRetries: 3,
    timeoutMs: 5000,
    maxChars: 8000,
    ...options,
  });

describe("Embedder against an OpenAI-compatible endpoint", () => {
  it("sends batches of the configured size and returns unit vectors in input order", async () => {
    const before = server.stats.batches.length;
    const texts = Array.from({ length: 7 }, (_, i) => `text number ${i}`);
    const { vectors, tokens } = await embedder({ batchSize: 3 }).embed(texts);
    expect(server.stats.batches.slice(before)).toEqual([3, 3, 1]);
    expect(vectors).toHaveLength(7);
    expect(tokens).toBeGreaterThan(0);
    for (const v of vectors) expect(dot(v, v)).toBeCloseTo(1, 5);
    const [again] = (await embedder().embed(["text number 4"])).vectors;
    expect(dot(again!, vectors[4]!)).toBeCloseTo(1, 5);
  });

  it("asks for shorter vectors when dimensions is set", async () => {
    const { vectors } = await embedder({ dimensions: 32 }).embed(["hello"]);
    expect(vectors[0]).toHaveLength(32);
  });

  it("places related texts closer than unrelated ones (the fixture has meaning)", async () => {
    const [coffee, espresso, database] = (
      await embedder().embed([
        "I drink coffee every morning",
        "an espresso before work",
        "the postgres database migration",
      ])
    ).vectors;
    expect(dot(coffee!, espresso!)).toBeGreaterThan(dot(coffee!, database!) + 0.2);
  });

  it("retries a 429 after the time Retry-After asks for, then succeeds", async () => {
    const before = server.stats.requestTimes.length;
    server.failNext(2, { status: 429, retryAfterMs: 150 });
    const { vectors } = await embedder().embed(["after the rate limit"]);
    expect(vectors).toHaveLength(1);
    const times = server.stats.requestTimes.slice(before);
    expect(times).toHaveLength(3);
    expect(times[1]! - times[0]!).toBeGreaterThanOrEqual(140);
    expect(times[2]! - times[1]!).toBeGreaterThanOrEqual(140);
  });

  it("retries server errors with backoff", async () => {
    const before = server.stats.requests;
    server.failNext(1, { status: 503 });
    await embedder().embed(["after a 503"]);
    expect(server.stats.requests - before).toBe(2);
  });

  it("gives up after the retries with a retryable rate-limit error", async () => {
    server.failNext(2, { status: 429, retryAfterMs: 10 });
    const error = await embedder({ maxRetries: 1 })
      .embed(["x"])
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EmbeddingError);
    expect((error as EmbeddingError).status).toBe(429);
    expect((error as EmbeddingError).retryable).toBe(true);
  });

  it("explains a refused key without repeating it, and an unknown model", async () => {
    const refused = (await embedder({ apiKey: "sk-wrong-key-123" })
      .embed(["x"])
      .catch((e: unknown) => e)) as EmbeddingError;
    expect(refused).toBeInstanceOf(EmbeddingError);
    expect(refused.message).toMatch(/refused the API key/);
    expect(refused.message).not.toContain("sk-wrong");
    expect(refused.retryable).toBe(false);
    const unknown = (await embedder({ model: "no-such-model" })
      .embed(["x"])
      .catch((e: unknown) => e)) as EmbeddingError;
    expect(unknown.message).toMatch(/does not know the model/);
  });

  it("reports an unreachable endpoint and cancellation", async () => {
    const down = (await embedder({ baseURL: "http://127.0.0.1:9/v1", maxRetries: 0 })
      .embed(["x"])
      .catch((e: unknown) => e)) as EmbeddingError;
    expect(down.message).toMatch(/could not reach/);
    const abort = new AbortController();
    abort.abort();
    const cancelled = (await embedder()
      .embed(["x"], abort.signal)
      .catch((e: unknown) => e)) as EmbeddingError;
    expect(cancelled.message).toMatch(/cancelled/);
  });

  it("cuts over-long input and replaces empty input instead of sending what the API refuses", async () => {
    const { vectors } = await embedder({ maxChars: 10 }).embed(["", "x".repeat(50_000)]);
    expect(vectors).toHaveLength(2);
  });
});
