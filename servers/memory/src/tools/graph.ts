import { defineTool, sanitizeText, type Tool } from "@portside/shared";
import { z } from "zod";
import { decodeCursor, encodeCursor, graphCursorShape, offsetCursorShape } from "../memory/cursor.js";
import { entityNameSchema, entitySchema, LIMITS, relationSchema } from "../memory/limits.js";
import { hashText } from "../memory/text.js";
import type { GraphPosition } from "../memory/types.js";
import { badCursor, DELETE, entityOut, fitGraph, READ, relationOut, type ToolDeps, WRITE } from "./common.js";

const many = <T extends z.ZodType>(item: T) => z.array(item).max(LIMITS.itemsPerCall);
const deleted = z.object({ success: z.boolean(), message: z.string(), deleted: z.number().int() });
const graphOut = {
  entities: z.array(entityOut),
  relations: z.array(relationOut),
};

/** The official server's nine tools, same names and parameters, with paging and budgets added. */
export function graphTools({ service, graphChanged }: ToolDeps): { read: Tool[]; write: Tool[] } {
  const createEntities = defineTool({
    name: "create_entities",
    title: "Create Entities",
    description:
      "Create multiple new entities in the knowledge graph. Entities whose name already exists are left as they are " +
      "(use add_observations to extend them); the result lists only the entities that were created.",
    input: z.object({ entities: many(entitySchema) }),
    output: z.object({ entities: z.array(entitySchema) }),
    annotations: WRITE,
    async handler({ entities }) {
      const created = await service.createEntities(entities);
      if (created.length > 0) graphChanged();
      return { data: { entities: created } };
    },
  });

  const createRelations = defineTool({
    name: "create_relations",
    title: "Create Relations",
    description:
      "Create multiple new relations between entities in the knowledge graph. Relations should be in active voice " +
      '(e.g. from "Alice" relationType "works_at" to "Acme"). Existing relations are skipped; the result lists the new ones.',
    input: z.object({ relations: many(relationSchema) }),
    output: z.object({ relations: z.array(relationSchema) }),
    annotations: WRITE,
    async handler({ relations }) {
      const created = await service.createRelations(relations);
      if (created.length > 0) graphChanged();
      return { data: { relations: created } };
    },
  });

  const addObservations = defineTool({
    name: "add_observations",
    title: "Add Observations",
    description:
      "Add new observations to existing entities in the knowledge graph. Observations an entity already has are " +
      "skipped. If any entity does not exist, nothing is added and the error names it.",
    input: z.object({
      observations: many(
        z.object({
          entityName: entityNameSchema.describe("The name of the entity to add the observations to"),
          contents: z
            .array(entitySchema.shape.observations.element)
            .max(LIMITS.observationsPerItem)
            .describe("An array of observation contents to add"),
        }),
      ),
    }),
    output: z.object({
      results: z.array(z.object({ entityName: z.string(), addedObservations: z.array(z.string()) })),
    }),
    annotations: WRITE,
    async handler({ observations }) {
      const results = await service.addObservations(observations);
      if (results.some((r) => r.addedObservations.length > 0)) graphChanged();
      return { data: { results } };
    },
  });

  const deleteEntities = defineTool({
    name: "delete_entities",
    title: "Delete Entities",
    description:
      "Delete multiple entities and their associated relations from the knowledge graph. Unknown names are ignored.",
    input: z.object({
      entityNames: many(entityNameSchema).describe("An array of entity names to delete"),
    }),
    output: deleted,
    annotations: DELETE,
    async handler({ entityNames }) {
      const count = await service.deleteEntities(entityNames);
      graphChanged();
      return { data: { success: true, message: `Entities deleted successfully (${count} found).`, deleted: count } };
    },
  });

  const deleteObservations = defineTool({
    name: "delete_observations",
    title: "Delete Observations",
    description: "Delete specific observations from entities in the knowledge graph. Unknown ones are ignored.",
    input: z.object({
      deletions: many(
        z.object({
          entityName: entityNameSchema.describe("The name of the entity containing the observations"),
          observations: z
            .array(z.string().max(LIMITS.observation))
            .max(LIMITS.observationsPerItem)
            .describe("An array of observations to delete"),
        }),
      ),
    }),
    output: deleted,
    annotations: DELETE,
    async handler({ deletions }) {
      const count = await service.deleteObservations(deletions);
      graphChanged();
      return {
        data: { success: true, message: `Observations deleted successfully (${count} found).`, deleted: count },
      };
    },
  });

  const deleteRelations = defineTool({
    name: "delete_relations",
    title: "Delete Relations",
    description: "Delete multiple relations from the knowledge graph. Unknown ones are ignored.",
    input: z.object({ relations: many(relationSchema).describe("An array of relations to delete") }),
    output: deleted,
    annotations: DELETE,
    async handler({ relations }) {
      const count = await service.deleteRelations(relations);
      graphChanged();
      return { data: { success: true, message: `Relations deleted successfully (${count} found).`, deleted: count } };
    },
  });

  const readGraph = defineTool({
    name: "read_graph",
    title: "Read Graph",
    description:
      "Read the knowledge graph, one page at a time: entities first (oldest first), then relations. When nextCursor " +
      "is present, call again with it to get the next page. For a specific question, search_nodes or open_nodes is " +
      "cheaper than reading everything.",
    input: z.object({
      cursor: z.string().max(512).optional().describe("nextCursor from the previous page; omit to start."),
      limit: z.number().int().min(1).max(1000).default(200).describe("Most items (entities + relations) per page."),
    }),
    output: z.object({
      ...graphOut,
      totals: z.object({ entities: z.number().int(), relations: z.number().int() }),
      nextCursor: z.string().optional(),
      note: z.string().optional(),
    }),
    annotations: READ,
    async handler({ cursor, limit }, ctx) {
      let position: GraphPosition | undefined;
      if (cursor !== undefined) {
        const decoded = decodeCursor("graph", cursor, graphCursorShape);
        if (!decoded) throw badCursor();
        position = { phase: decoded.p === "e" ? "entities" : "relations", after: decoded.a };
      }
      const [page, counts] = await Promise.all([service.readGraph(position, limit), service.store.graphCounts()]);
      const entityItems = page.items.filter((i) => i.kind === "entity");
      const relationItems = page.items.filter((i) => i.kind === "relation");
      const fitted = fitGraph(
        ctx.budget,
        entityItems.map((i) => i.entity),
        relationItems.map((i) => i.relation),
      );
      // The page ends at the last item that fit; the cursor points just past it.
      const keptEntities = entityItems.slice(0, fitted.entities.length);
      const keptRelations = relationItems.slice(0, fitted.relations.length);
      const last = keptRelations.at(-1) ?? keptEntities.at(-1);
      const cut = fitted.omittedEntities + fitted.omittedRelations > 0;
      let nextCursor: string | undefined;
      if (page.more || cut) {
        nextCursor = last ? encodeCursor("graph", { p: last.kind === "entity" ? "e" : "r", a: last.id }) : cursor;
      }
      const truncatedObservations = fitted.entities.some((e) => e.observationsOmitted);
      return {
        data: {
          entities: fitted.entities,
          relations: fitted.relations,
          totals: { entities: counts.entities, relations: counts.relations },
          ...(nextCursor ? { nextCursor } : {}),
          ...(nextCursor
            ? { note: "More of the graph follows: call read_graph with this nextCursor." }
            : truncatedObservations
              ? { note: "Some observations were left out to fit the response; open_nodes shows one entity in full." }
              : {}),
        },
        untrusted: true,
      };
    },
  });

  const searchNodes = defineTool({
    name: "search_nodes",
    title: "Search Nodes",
    description:
      "Search for nodes in the knowledge graph based on a query. Matches entity names, types and observation content: " +
      "first entities containing the whole query (case-insensitive), then entities containing some of its words, " +
      "and — when embeddings are on — entities related by meaning. Best matches first, with relations to or from " +
      "them. Page with nextCursor.",
    input: z.object({
      query: z
        .string()
        .min(1)
        .max(1000)
        .describe("The search query to match against entity names, types, and observation content"),
      limit: z.number().int().min(1).max(200).default(25).describe("Most entities to return."),
      cursor: z.string().max(512).optional().describe("nextCursor from the previous page of the same query."),
    }),
    output: z.object({
      ...graphOut,
      matches: z.array(
        z.object({
          name: z.string(),
          score: z.number().describe("0–1: how well the searches that found it ranked it"),
          matchedBy: z.array(z.enum(["substring", "words", "meaning"])),
          similarity: z.number().optional(),
        }),
      ),
      semanticSearch: z.boolean(),
      nextCursor: z.string().optional(),
      note: z.string().optional(),
    }),
    annotations: READ,
    async handler({ query, limit, cursor }, ctx) {
      const queryKey = hashText(query).slice(0, 16);
      let offset = 0;
      if (cursor !== undefined) {
        const decoded = decodeCursor("search", cursor, offsetCursorShape);
        if (!decoded || decoded.q !== queryKey) throw badCursor();
        offset = decoded.o;
      }
      const found = await service.searchNodes(query, Math.min(offset + limit + 1, 1000), ctx.signal);
      const page = found.ranked.slice(offset, offset + limit);
      const names = page.map((r) => r.entity.name);
      const touching = await service.relationsTouching(names, 500);
      const fitted = fitGraph(
        ctx.budget,
        page.map((r) => r.entity),
        touching.relations,
        800 + page.length * 90,
      );
      const shown = page.slice(0, fitted.entities.length);
      const more = found.ranked.length > offset + shown.length;
      const nextCursor = more ? encodeCursor("search", { o: offset + shown.length, q: queryKey }) : undefined;
      const notes = [
        found.note,
        service.semantic().enabled ? undefined : "Search by meaning is off; this is substring and word matching only.",
        touching.more || fitted.omittedRelations > 0
          ? "Some relations were left out; open_nodes on one entity lists its relations."
          : undefined,
        nextCursor ? "More matches follow: call search_nodes again with nextCursor." : undefined,
      ].filter(Boolean);
      return {
        data: {
          entities: fitted.entities,
          relations: fitted.relations,
          matches: shown.map((r) => ({
            name: sanitizeText(r.entity.name),
            score: r.score,
            matchedBy: r.matchedBy,
            ...(r.similarity !== undefined ? { similarity: r.similarity } : {}),
          })),
          semanticSearch: service.semantic().enabled,
          ...(nextCursor ? { nextCursor } : {}),
          ...(notes.length ? { note: notes.join(" ") } : {}),
        },
        untrusted: true,
      };
    },
  });

  const openNodes = defineTool({
    name: "open_nodes",
    title: "Open Nodes",
    description:
      "Open specific nodes in the knowledge graph by their names: their observations and every relation to or from " +
      "them. Unknown names are listed in `missing`.",
    input: z.object({
      names: z.array(entityNameSchema).min(1).max(200).describe("An array of entity names to retrieve"),
    }),
    output: z.object({
      ...graphOut,
      missing: z.array(z.string()).optional(),
      note: z.string().optional(),
    }),
    annotations: READ,
    async handler({ names }, ctx) {
      const entities = await service.openNodes(names);
      const found = new Set(entities.map((e) => e.name));
      const missing = names.filter((n) => !found.has(n));
      const touching = await service.relationsTouching([...found], 2000);
      const fitted = fitGraph(ctx.budget, entities, touching.relations, 600 + jsonSize(missing));
      const notes = [
        fitted.omittedEntities > 0 ? `${fitted.omittedEntities} entities did not fit; open fewer names at once.` : "",
        fitted.entities.some((e) => e.observationsOmitted)
          ? "Some observations were left out to fit the response; open that entity alone to see more."
          : "",
        touching.more || fitted.omittedRelations > 0 ? "Some relations were left out to fit the response." : "",
      ].filter(Boolean);
      return {
        data: {
          entities: fitted.entities,
          relations: fitted.relations,
          ...(missing.length ? { missing } : {}),
          ...(notes.length ? { note: notes.join(" ") } : {}),
        },
        untrusted: true,
      };
    },
  });

  return {
    read: [readGraph, searchNodes, openNodes],
    write: [createEntities, createRelations, addObservations, deleteEntities, deleteObservations, deleteRelations],
  };
}

const jsonSize = (value: unknown) => JSON.stringify(value).length;
