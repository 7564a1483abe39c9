import { homedir } from "node:os";
import { join } from "node:path";
import { option } from "@portside/shared";
import { z } from "zod";

export const TOOLSETS = ["graph", "memories", "admin"] as const;
export type Toolset = (typeof TOOLSETS)[number];

const optionalUrl = z
  .string()
  .url("must be a URL such as http://localhost:11434/v1")
  .refine((u) => /^https?:\/\//i.test(u), "must be an http:// or https:// URL")
  .optional();

export const memoryOptions = {
  store: option({
    type: "string",
    flag: "store",
    env: "MEMORY_STORE",
    placeholder: "path",
    help: "SQLite file that holds the memory (created if missing). Default: $XDG_DATA_HOME/portside/memory.db, else ~/.local/share/portside/memory.db (%LOCALAPPDATA%\\portside\\memory.db on Windows).",
    schema: z.string().min(1).optional(),
  }),
  databaseUrl: option({
    type: "string",
    flag: "database-url",
    env: "DATABASE_URL",
    placeholder: "url",
    secret: true,
    help: "Use PostgreSQL (with pgvector) instead of SQLite, e.g. postgresql://user:pass@host/db. Prefer the env variable.",
    schema: z
      .string()
      .refine((u) => /^postgres(ql)?:\/\//i.test(u), "must start with postgresql://")
      .optional(),
  }),
  pgSchema: option({
    type: "string",
    flag: "pg-schema",
    env: "MEMORY_PG_SCHEMA",
    help: "PostgreSQL schema for the memory tables.",
    schema: z
      .string()
      .regex(/^[a-z_][a-z0-9_]{0,62}$/, "must be lowercase letters, digits and underscores")
      .default("portside_memory"),
  }),
  embeddings: option({
    type: "boolean",
    flag: "embeddings",
    env: "MEMORY_EMBEDDINGS",
    help: "Search by meaning. On by default when an API key or base URL is set; --no-embeddings turns it off.",
    schema: z.boolean().optional(),
  }),
  embeddingApiKey: option({
    type: "string",
    flag: "embedding-api-key",
    env: ["MEMORY_EMBEDDING_API_KEY", "OPENAI_API_KEY"],
    secret: true,
    help: "API key for the embeddings endpoint. Prefer the env variable.",
    schema: z.string().min(1).optional(),
  }),
  embeddingBaseUrl: option({
    type: "string",
    flag: "embedding-base-url",
    env: ["MEMORY_EMBEDDING_BASE_URL", "OPENAI_BASE_URL"],
    placeholder: "url",
    help: "Any OpenAI-compatible embeddings endpoint: Ollama http://localhost:11434/v1, LM Studio http://localhost:1234/v1, vLLM, llama.cpp, Azure https://<resource>.openai.azure.com/openai/v1.",
    schema: optionalUrl,
  }),
  embeddingModel: option({
    type: "string",
    flag: "embedding-model",
    env: "MEMORY_EMBEDDING_MODEL",
    help: "Embedding model (for Azure: the deployment name).",
    schema: z.string().min(1).max(200).default("text-embedding-3-small"),
  }),
  embeddingDimensions: option({
    type: "number",
    flag: "embedding-dimensions",
    env: "MEMORY_EMBEDDING_DIMENSIONS",
    help: "Ask for vectors of this length (text-embedding-3-* support it); default: the model's own.",
    schema: z.number().int().min(8).max(8192).optional(),
  }),
  embeddingBatchSize: option({
    type: "number",
    flag: "embedding-batch-size",
    env: "MEMORY_EMBEDDING_BATCH_SIZE",
    help: "Texts per embeddings request.",
    schema: z.number().int().min(1).max(2048).default(64),
  }),
  embeddingMaxRetries: option({
    type: "number",
    flag: "embedding-max-retries",
    env: "MEMORY_EMBEDDING_MAX_RETRIES",
    help: "Retries on 429, 5xx and network errors (exponential backoff, honours Retry-After).",
    schema: z.number().int().min(0).max(10).default(4),
  }),
  embeddingTimeoutMs: option({
    type: "number",
    flag: "embedding-timeout-ms",
    env: "MEMORY_EMBEDDING_TIMEOUT_MS",
    help: "Timeout of one embeddings request.",
    schema: z.number().int().min(100).max(600_000).default(30_000),
  }),
  minSimilarity: option({
    type: "number",
    flag: "min-similarity",
    env: "MEMORY_MIN_SIMILARITY",
    help: "Cosine similarity a match found only by meaning needs to be returned (tune per model).",
    schema: z.number().min(-1).max(1).default(0.25),
  }),
  importJsonl: option({
    type: "string",
    flag: "import-jsonl",
    env: "MEMORY_FILE_PATH",
    placeholder: "path",
    help: "Import the official server's memory.jsonl at start-up (once per file version), so an existing MEMORY_FILE_PATH setting carries over.",
    schema: z.string().min(1).optional(),
  }),
  readOnly: option({
    type: "boolean",
    flag: "read-only",
    env: "MEMORY_READ_ONLY",
    help: "Offer only the tools that read.",
    schema: z.boolean().default(false),
  }),
  toolsets: option({
    type: "list",
    flag: "toolsets",
    env: "MEMORY_TOOLSETS",
    help: `Tool groups to offer: ${TOOLSETS.join(", ")}.`,
    schema: z
      .array(z.enum(TOOLSETS))
      .min(1)
      .default([...TOOLSETS]),
  }),
};

/** The per-user data directory, never inside the package (npx caches are wiped on update). */
export function defaultStorePath(
  env: Readonly<Record<string, string | undefined>> = process.env,
  platform: NodeJS.Platform = process.platform,
  home: string = homedir(),
): string {
  if (env.XDG_DATA_HOME) return join(env.XDG_DATA_HOME, "portside", "memory.db");
  if (platform === "win32") return join(env.LOCALAPPDATA ?? join(home, "AppData", "Local"), "portside", "memory.db");
  return join(home, ".local", "share", "portside", "memory.db");
}
