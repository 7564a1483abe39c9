import { constants } from "node:fs";
import { type FileHandle, open } from "node:fs/promises";
import { isAbsolute } from "node:path";
import { createInterface } from "node:readline";
import { defineTool, type Tool, ToolError } from "@portside/shared";
import { z } from "zod";
import { EmbeddingError } from "../memory/embedder.js";
import type { ImportOutcome, MemoryService } from "../memory/service.js";
import { READ, type ToolDeps, WRITE } from "./common.js";

const MAX_IMPORT_BYTES = 2 * 1024 * 1024 * 1024;

const counts = z.object({
  entities: z.number().int(),
  observations: z.number().int(),
  relations: z.number().int(),
  memories: z.number().int(),
});

/** Upkeep: status, re-embedding after a model change, and moving over from the official server. */
export function adminTools({ service, graphChanged, transport }: ToolDeps): { read: Tool[]; write: Tool[] } {
  const status = defineTool({
    name: "memory_status",
    title: "Memory Status",
    description:
      "Where the memory is stored, how much it holds, and whether search by meaning is on (model, endpoint, and how " +
      "many items still need vectors — e.g. after switching models, run reembed_memories).",
    input: z.object({}),
    output: z.object({
      store: z.object({ kind: z.enum(["sqlite", "postgres"]), location: z.string() }),
      counts: z.object({
        entities: z.number().int(),
        relations: z.number().int(),
        observations: z.number().int(),
        memories: z.number().int(),
      }),
      semanticSearch: z.object({
        enabled: z.boolean(),
        model: z.string().optional(),
        endpoint: z.string().optional(),
        dimensions: z.number().int().optional(),
        note: z.string().optional(),
      }),
      vectors: z
        .object({
          memories: z.object({ current: z.number().int(), stale: z.number().int(), missing: z.number().int() }),
          entities: z.object({ current: z.number().int(), stale: z.number().int(), missing: z.number().int() }),
        })
        .optional(),
    }),
    annotations: READ,
    async handler() {
      return { data: await statusOf(service) };
    },
  });

  const reembed = defineTool({
    name: "reembed_memories",
    title: "Re-embed Memories",
    description:
      "Compute vectors for memories and entities that lack one for the current embedding model: after switching " +
      "models (scope stale, the default) or to recompute everything (scope all). Reports progress; can be cancelled " +
      "and resumed (finished items are kept).",
    input: z.object({
      scope: z
        .enum(["stale", "all"])
        .default("stale")
        .describe("stale: items with no vector or one from another model; all: every item."),
    }),
    output: z.object({ embedded: z.number().int(), model: z.string(), dimensions: z.number().int().optional() }),
    annotations: { ...WRITE, idempotentHint: true, openWorldHint: true },
    async handler({ scope }, ctx) {
      const semantic = service.semantic();
      if (!semantic.enabled || !service.embedder) {
        throw new ToolError("unavailable", `Search by meaning is off: ${semantic.note}.`, {
          hint: "Start the server with OPENAI_API_KEY or --embedding-base-url (and --embedding-model) to enable it.",
        });
      }
      try {
        const { embedded } = await service.embedPending(scope, {
          signal: ctx.signal,
          progress: (done, total, message) => ctx.progress(done, total, message),
        });
        const dimensions = service.currentSpace()?.dimensions;
        return { data: { embedded, model: service.embedder.model, ...(dimensions ? { dimensions } : {}) } };
      } catch (error) {
        if (error instanceof EmbeddingError) {
          throw new ToolError(
            error.status === 429 ? "rate_limited" : "upstream_error",
            `Re-embedding stopped: ${error.message}.`,
            {
              hint: "Vectors computed so far are kept; call reembed_memories again to continue.",
            },
          );
        }
        throw error;
      }
    },
  });

  const importGraph = defineTool({
    name: "import_graph",
    title: "Import Memory File",
    description:
      "Import a knowledge graph in the official memory server's JSONL format (memory.jsonl: one entity or relation " +
      "per line), or this server's export (which adds memory lines). Give a file `path` (local stdio use only) or " +
      "the `jsonl` text itself. Safe to repeat: existing entities gain only new observations, duplicates are skipped.",
    input: z.object({
      path: z.string().min(1).max(4096).optional().describe("Absolute path of a memory.jsonl file on this machine."),
      jsonl: z.string().max(10_000_000).optional().describe("The JSONL text itself."),
    }),
    output: z.object({
      imported: counts,
      lines: z.number().int(),
      skippedCount: z.number().int(),
      skipped: z.array(z.object({ line: z.number().int(), reason: z.string() })),
    }),
    annotations: { ...WRITE, idempotentHint: true },
    async handler({ path, jsonl }, ctx) {
      if ((path === undefined) === (jsonl === undefined)) {
        throw new ToolError("invalid_argument", "Pass exactly one of `path` or `jsonl`.", {
          details: { argument: path === undefined ? "path" : "jsonl" },
        });
      }
      const progress = (done: number, _total: number | undefined, message: string) =>
        ctx.progress(done, undefined, message);
      let outcome: ImportOutcome;
      if (jsonl !== undefined) {
        outcome = await service.importLines(jsonl.split("\n"), { signal: ctx.signal, progress });
      } else {
        outcome = await importFile(service, path as string, transport, ctx.signal, progress);
      }
      if (outcome.imported.entities + outcome.imported.relations + outcome.imported.observations > 0) graphChanged();
      return { data: outcome };
    },
  });

  return { read: [status], write: [reembed, importGraph] };
}

async function importFile(
  service: MemoryService,
  path: string,
  transport: "stdio" | "http",
  signal: AbortSignal,
  progress: (done: number, total: number | undefined, message: string) => Promise<void>,
): Promise<ImportOutcome> {
  if (transport === "http") {
    throw new ToolError("permission_denied", "Importing a file by path is only possible over stdio (a local server).", {
      hint: "Send the file's text in `jsonl`, or run `portside-memory import FILE` on the server.",
      details: { argument: "path" },
    });
  }
  if (!isAbsolute(path)) {
    throw new ToolError("invalid_argument", "`path` must be absolute.", {
      hint: "e.g. /home/me/.npm/_npx/…/memory.jsonl",
      details: { argument: "path" },
    });
  }
  let handle: FileHandle;
  try {
    // Non-blocking, so a FIFO without a writer cannot hang the call; it is refused below as not a file.
    handle = await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw code === "EACCES" || code === "EPERM"
      ? new ToolError("permission_denied", "The file at `path` is not readable.", { details: { argument: "path" } })
      : new ToolError("not_found", "No readable file at `path`.", { details: { argument: "path" } });
  }
  try {
    const info = await handle.stat();
    if (!info.isFile()) {
      throw new ToolError("invalid_argument", "`path` is not a regular file.", { details: { argument: "path" } });
    }
    if (info.size > MAX_IMPORT_BYTES) {
      throw new ToolError("too_large", "The file is over 2 GiB.", { details: { argument: "path" } });
    }
    const lines = createInterface({
      input: handle.createReadStream({ encoding: "utf8", autoClose: false }),
      crlfDelay: Number.POSITIVE_INFINITY,
    });
    try {
      return await service.importLines(lines, { signal, progress });
    } finally {
      lines.close();
    }
  } finally {
    await handle.close();
  }
}

export async function statusOf(service: MemoryService) {
  const [graph, memories] = await Promise.all([service.store.graphCounts(), service.store.countMemories({})]);
  const semantic = service.semantic();
  const space = service.currentSpace();
  const vectors = semantic.enabled
    ? {
        memories: await service.store.vectorCounts("memory", space),
        entities: await service.store.vectorCounts("entity", space),
      }
    : undefined;
  return {
    store: { kind: service.store.kind, location: service.store.location },
    counts: { ...graph, memories },
    semanticSearch: {
      enabled: semantic.enabled,
      ...(semantic.model ? { model: semantic.model } : {}),
      ...(semantic.endpoint ? { endpoint: semantic.endpoint } : {}),
      ...(space ? { dimensions: space.dimensions } : {}),
      ...(semantic.note ? { note: semantic.note } : {}),
    },
    ...(vectors ? { vectors } : {}),
  };
}
