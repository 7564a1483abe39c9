import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startEmbeddingsServer } from "../../fixtures/memory/embedder.ts";
import { startStdio } from "../../src/harness.ts";
import type { Transcript } from "../transcript.ts";

/**
 * Long-term memory in a temporary store: the official knowledge-graph tools, then memories recalled
 * by meaning (embeddings from a local OpenAI-compatible endpoint), then moving over an old
 * memory.jsonl from the official server.
 */
export async function run(t: Transcript): Promise<void> {
  t.heading("long-term memory (temporary SQLite store, local embeddings endpoint)");
  const dir = mkdtempSync(join(tmpdir(), "portside-memory-demo-"));
  const embeddings = await startEmbeddingsServer();
  const server = await startStdio("memory", ["--store", join(dir, "memory.db")], {
    env: { MEMORY_EMBEDDING_BASE_URL: embeddings.baseUrl, MEMORY_EMBEDDING_MODEL: "fixture-embed" },
  });
  try {
    const c = server.client;
    t.note(c.getInstructions()?.split("\n")[3] ?? "");
    await t.call(
      c,
      "create_entities",
      {
        entities: [
          {
            name: "Maya",
            entityType: "person",
            observations: ["Lead engineer on Atlas", "Drinks a cortado, never decaf"],
          },
          { name: "Atlas", entityType: "project", observations: ["Mapping service", "Ships every second Thursday"] },
          { name: "Biscuit", entityType: "pet", observations: ["Maya's beagle puppy"] },
        ],
      },
      "The official tools, unchanged: create entities…",
    );
    await t.call(
      c,
      "create_relations",
      {
        relations: [
          { from: "Maya", to: "Atlas", relationType: "leads" },
          { from: "Maya", to: "Biscuit", relationType: "owns" },
        ],
      },
      "…and relations between them",
    );
    await t.call(c, "search_nodes", { query: "atlas" }, "Substring search, best match first, with its relations");
    await t.call(c, "search_nodes", { query: "dog" }, "…and by meaning: no entity says 'dog', the beagle is found");
    await t.call(
      c,
      "store_memory",
      {
        content: "Maya prefers async stand-ups written in the #atlas channel over video calls",
        tags: ["preference", "project:atlas"],
        entities: ["Maya"],
      },
      "A free-text memory with tags and an entity link",
    );
    await t.call(
      c,
      "store_memory",
      { content: "The Atlas release pipeline deploys to production on Thursdays", tags: ["project:atlas"] },
      "Another one",
    );
    await t.call(
      c,
      "recall",
      { query: "how does Maya like to run meetings?", k: 3 },
      "Recall by meaning, with scores, tags, source and time",
    );
    await t.call(c, "recall", { query: "when do we ship", tags: ["project:atlas"], k: 2 }, "Filtered by tag");
    const legacy = join(dir, "memory.jsonl");
    writeFileSync(
      legacy,
      [
        { type: "entity", name: "Old Friend", entityType: "person", observations: ["Met at the 2019 conference"] },
        { type: "relation", from: "Old Friend", to: "Maya", relationType: "knows" },
      ]
        .map((line) => JSON.stringify(line))
        .join("\n"),
    );
    await t.call(c, "import_graph", { path: legacy }, "Moving over from the official server's memory.jsonl");
    await t.call(c, "read_graph", { limit: 3 }, "read_graph is paged: three items, then a cursor for the rest");
    await t.call(c, "memory_status", {}, "Where the memory lives and what it holds");
    await t.call(
      c,
      "add_observations",
      { observations: [{ entityName: "Nobody", contents: ["x"] }] },
      "A refusal that says how to fix it",
    );
  } finally {
    await server.close();
    await embeddings.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
