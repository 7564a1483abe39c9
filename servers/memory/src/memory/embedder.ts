import type OpenAI from "openai";
import { normalize } from "./vectors.js";

export interface EmbedderOptions {
  /** Sent as the bearer token; local servers (Ollama, LM Studio) accept any value. */
  apiKey: string | undefined;
  /** An OpenAI-compatible endpoint, e.g. http://localhost:11434/v1; default OpenAI's. */
  baseURL: string | undefined;
  model: string;
  /** Asks models that support it (text-embedding-3-*) for shorter vectors. */
  dimensions: number | undefined;
  /** Inputs per request. */
  batchSize: number;
  /** Retries on 408/409/429/5xx and connection errors, with exponential backoff that honours Retry-After. */
  maxRetries: number;
  timeoutMs: number;
  /** Longer texts are cut before embedding (models have a context limit). */
  maxChars: number;
}

export interface EmbeddingResult {
  vectors: Float32Array[];
  tokens: number;
}

/** Why embedding failed, in words for the model and the log (never the API key). */
export class EmbeddingError extends Error {
  constructor(
    message: string,
    readonly status: number | undefined,
    readonly retryable: boolean,
  ) {
    super(message);
    this.name = "EmbeddingError";
  }
}

/**
 * Turns text into unit-length vectors through any OpenAI-compatible embeddings endpoint, in
 * batches. The `openai` client is loaded on first use, so a server without embeddings never pays
 * for it.
 */
export class Embedder {
  private client: Promise<OpenAI> | undefined;
  /** Requests sent and texts embedded, for the status tool. */
  readonly stats = { requests: 0, texts: 0, tokens: 0, failures: 0 };

  constructor(readonly options: EmbedderOptions) {}

  get model(): string {
    return this.options.model;
  }

  /** Where requests go, safe to show (any user:password in the URL is left out). */
  get endpoint(): string {
    const url = new URL(this.options.baseURL ?? "https://api.openai.com/v1");
    url.username = "";
    url.password = "";
    return url.href.replace(/\/$/, "");
  }

  /** Loads the client library ahead of the first request. */
  async preload(): Promise<void> {
    await this.openai();
  }

  private async openai(): Promise<OpenAI> {
    this.client ??= import("openai").then(
      ({ default: OpenAIClient }) =>
        new OpenAIClient({
          apiKey: this.options.apiKey ?? "not-needed",
          ...(this.options.baseURL ? { baseURL: this.options.baseURL } : {}),
          maxRetries: this.options.maxRetries,
          timeout: this.options.timeoutMs,
        }),
    );
    return this.client;
  }

  async embed(texts: string[], signal?: AbortSignal): Promise<EmbeddingResult> {
    const vectors: Float32Array[] = [];
    let tokens = 0;
    for (let start = 0; start < texts.length; start += this.options.batchSize) {
      const batch = texts.slice(start, start + this.options.batchSize).map((t) => this.prepare(t));
      const result = await this.request(batch, signal);
      vectors.push(...result.vectors);
      tokens += result.tokens;
    }
    return { vectors, tokens };
  }

  private prepare(text: string): string {
    const cut = text.length > this.options.maxChars ? text.slice(0, this.options.maxChars) : text;
    // Empty input is an error for most providers; a single space embeds as "nothing".
    return cut.trim() === "" ? " " : cut;
  }

  private async request(input: string[], signal?: AbortSignal): Promise<EmbeddingResult> {
    const client = await this.openai();
    this.stats.requests++;
    let response: Awaited<ReturnType<OpenAI["embeddings"]["create"]>>;
    try {
      response = await client.embeddings.create(
        {
          model: this.options.model,
          input,
          ...(this.options.dimensions ? { dimensions: this.options.dimensions } : {}),
        },
        signal ? { signal } : {},
      );
    } catch (error) {
      if (signal?.aborted) throw new EmbeddingError("embedding was cancelled", undefined, false);
      this.stats.failures++;
      throw describeFailure(error, this.endpoint);
    }
    const data = [...(response.data ?? [])].sort((a, b) => a.index - b.index);
    if (data.length !== input.length) {
      this.stats.failures++;
      throw new EmbeddingError(
        `the embeddings endpoint returned ${data.length} vectors for ${input.length} inputs`,
        undefined,
        false,
      );
    }
    const vectors = data.map((d) => normalize(d.embedding));
    const dimensions = vectors[0]?.length ?? 0;
    if (dimensions === 0 || vectors.some((v) => v.length !== dimensions)) {
      this.stats.failures++;
      throw new EmbeddingError(
        "the embeddings endpoint returned vectors of differing or zero length",
        undefined,
        false,
      );
    }
    const tokens = response.usage?.total_tokens ?? 0;
    this.stats.texts += input.length;
    this.stats.tokens += tokens;
    return { vectors, tokens };
  }
}

function describeFailure(error: unknown, endpoint: string): EmbeddingError {
  if (error instanceof EmbeddingError) return error;
  const e = error as { status?: number; name?: string; message?: string };
  const status = typeof e.status === "number" ? e.status : undefined;
  if (status === 401 || status === 403) {
    return new EmbeddingError(
      `the embeddings endpoint ${endpoint} refused the API key (HTTP ${status}); check OPENAI_API_KEY`,
      status,
      false,
    );
  }
  if (status === 404) {
    return new EmbeddingError(
      `the embeddings endpoint ${endpoint} does not know the model or path (HTTP 404); check --embedding-model and --embedding-base-url`,
      status,
      false,
    );
  }
  if (status === 429) {
    return new EmbeddingError(
      `the embeddings endpoint ${endpoint} is rate limiting (HTTP 429) and retries ran out`,
      status,
      true,
    );
  }
  if (status !== undefined) {
    const detail = (e.message ?? "").replace(/\s+/g, " ").slice(0, 200);
    return new EmbeddingError(
      `the embeddings endpoint ${endpoint} failed with HTTP ${status}: ${detail}`,
      status,
      status >= 500,
    );
  }
  if (e.name === "APIConnectionTimeoutError") {
    return new EmbeddingError(`the embeddings endpoint ${endpoint} timed out`, undefined, true);
  }
  return new EmbeddingError(`could not reach the embeddings endpoint ${endpoint}`, undefined, true);
}
