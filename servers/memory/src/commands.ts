import { createReadStream } from "node:fs";
import { createInterface } from "node:readline";
import { ConfigError, createLogger, option, parseCommandLine, renderHelp } from "@portside/shared";
import { z } from "zod";
import { memoryOptions } from "./config.js";
import { entityLine, relationLine } from "./memory/jsonl.js";
import type { MemoryService } from "./memory/service.js";
import type { GraphPosition } from "./memory/types.js";
import { createService, type MemoryConfig } from "./server.js";

export const SUBCOMMANDS = ["import", "export", "reembed"] as const;
type Subcommand = (typeof SUBCOMMANDS)[number];

const commandOptions = {
  ...memoryOptions,
  files: option({
    type: "list",
    flag: "file",
    positional: true,
    placeholder: "file.jsonl",
    help: "Files to import.",
    schema: z.array(z.string()).default([]),
  }),
  all: option({
    type: "boolean",
    flag: "all",
    help: "reembed: recompute every vector, not only missing or stale ones.",
    schema: z.boolean().default(false),
  }),
  logLevel: option({
    type: "string",
    flag: "log-level",
    env: "LOG_LEVEL",
    help: "Log level on stderr.",
    schema: z.enum(["debug", "info", "warning", "error"]).default("warning"),
  }),
};

const HELP: Record<Subcommand, string> = {
  import: "Import memory.jsonl files (the official server's format, or this server's export) into the store.",
  export: "Write the whole store (entities, relations, memories) to stdout as JSONL.",
  reembed: "Compute vectors for items with none, or from another model (--all: every item).",
};

/** One-shot commands that work on the same store as the server, without MCP. Returns the exit code. */
export async function runCommand(name: Subcommand, argv: string[]): Promise<number> {
  let config: MemoryConfig & { files: string[]; all: boolean; logLevel: "debug" | "info" | "warning" | "error" };
  try {
    const parsed = parseCommandLine(commandOptions, argv, process.env);
    if (parsed.kind !== "run") {
      process.stdout.write(
        renderHelp(
          {
            bin: "portside-memory",
            description: HELP[name],
            usage: `${name} [options]${name === "import" ? " <file.jsonl…>" : ""}`,
          },
          [{ title: "Settings", spec: commandOptions }],
        ),
      );
      return 0;
    }
    config = parsed.config;
    if (name === "import" && config.files.length === 0) throw new ConfigError("import needs at least one file");
    if (name !== "import" && config.files.length > 0) throw new ConfigError(`unexpected argument ${config.files[0]}`);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`portside-memory ${name}: ${error.message}\n`);
      return 2;
    }
    throw error;
  }
  const log = createLogger({ level: config.logLevel, name: "portside-memory" });
  let service: MemoryService;
  try {
    service = await createService(config, log);
  } catch (error) {
    process.stderr.write(`portside-memory ${name}: ${error instanceof Error ? error.message : String(error)}\n`);
    return 2;
  }
  const stop = new AbortController();
  process.once("SIGINT", () => stop.abort());
  try {
    switch (name) {
      case "import":
        return await importFiles(service, config.files, stop.signal);
      case "export":
        await exportAll(service);
        return 0;
      case "reembed": {
        if (!service.semantic().enabled) {
          process.stderr.write(`portside-memory reembed: search by meaning is off: ${service.semantic().note}\n`);
          return 2;
        }
        let last = 0;
        const { embedded } = await service.embedPending(config.all ? "all" : "stale", {
          signal: stop.signal,
          progress: (done, total) => {
            if (done - last >= 1000 || done === total) {
              last = done;
              process.stderr.write(`embedded ${done} of ${total}\n`);
            }
          },
        });
        process.stderr.write(`done: ${embedded} vectors written\n`);
        return 0;
      }
    }
  } catch (error) {
    process.stderr.write(`portside-memory ${name}: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  } finally {
    await service.close();
  }
}

async function importFiles(service: MemoryService, files: string[], signal: AbortSignal): Promise<number> {
  for (const file of files) {
    const stream = createReadStream(file, { encoding: "utf8" });
    const opened = await new Promise<Error | undefined>((resolve) => {
      stream.once("ready", () => resolve(undefined));
      stream.once("error", (error) => resolve(error));
    });
    if (opened) {
      process.stderr.write(`portside-memory import: cannot read ${file}: ${opened.message}\n`);
      return 1;
    }
    const lines = createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY });
    const outcome = await service.importLines(lines, { signal, source: "import" });
    const i = outcome.imported;
    process.stderr.write(
      `${file}: ${outcome.lines} lines; imported ${i.entities} entities, ${i.observations} observations, ` +
        `${i.relations} relations, ${i.memories} memories; skipped ${outcome.skippedCount}\n`,
    );
    for (const s of outcome.skipped) process.stderr.write(`  line ${s.line}: ${s.reason}\n`);
  }
  if (service.semantic().enabled) {
    process.stderr.write("computing vectors for search by meaning…\n");
    await service.embedPending("missing", { signal });
  }
  return 0;
}

async function exportAll(service: MemoryService): Promise<void> {
  const write = (line: string) =>
    new Promise<void>((resolve) => {
      if (process.stdout.write(`${line}\n`)) resolve();
      else process.stdout.once("drain", resolve);
    });
  let position: GraphPosition | undefined;
  for (;;) {
    const page = await service.readGraph(position, 1000);
    for (const item of page.items) {
      await write(item.kind === "entity" ? entityLine(item.entity) : relationLine(item.relation));
    }
    const last = page.items.at(-1);
    if (!page.more || !last) break;
    position = { phase: last.kind === "entity" ? "entities" : "relations", after: last.id };
  }
  let before: number | undefined;
  for (;;) {
    const memories = await service.listMemories({}, before, 1000);
    for (const m of memories) {
      await write(
        JSON.stringify({
          type: "memory",
          content: m.content,
          tags: m.tags,
          metadata: m.metadata,
          entities: m.entities,
          source: m.source,
          createdAt: new Date(m.createdAt).toISOString(),
        }),
      );
    }
    if (memories.length < 1000) break;
    before = memories.at(-1)?.id;
  }
}
