import { jsonLength, type ResponseBudget, sanitizeDeep, ToolError } from "@portside/shared";
import { z } from "zod";
import type { MemoryService } from "../memory/service.js";
import type { Entity, Memory, MemoryFilter, Relation } from "../memory/types.js";

/** What every tool factory gets. */
export interface ToolDeps {
  service: MemoryService;
  /** Tells sessions subscribed to memory://knowledge-graph that it changed. */
  graphChanged(): void;
  transport: "stdio" | "http";
}

export const entityOut = z.object({
  name: z.string(),
  entityType: z.string(),
  observations: z.array(z.string()),
  /** Present when some observations did not fit the response budget. */
  observationsOmitted: z.number().int().optional(),
});

export const relationOut = z.object({ from: z.string(), to: z.string(), relationType: z.string() });

export const memoryOut = z.object({
  id: z.number().int(),
  content: z.string(),
  contentTruncated: z.boolean().optional(),
  tags: z.array(z.string()),
  metadata: z.record(z.string(), z.unknown()),
  entities: z.array(z.string()),
  source: z.string().nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
});

export type EntityOut = z.input<typeof entityOut>;
export type MemoryOut = z.input<typeof memoryOut>;

export const WRITE = { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false };
export const DELETE = { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false };
export const READ = { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false };

const iso = (ms: number) => new Date(ms).toISOString();

/** A memory as the model sees it: sanitised, with readable timestamps, its content cut to `maxChars`. */
export function memoryView(memory: Memory, maxChars = Number.POSITIVE_INFINITY): MemoryOut {
  const clean = sanitizeDeep({
    content: memory.content,
    tags: memory.tags,
    metadata: memory.metadata,
    entities: memory.entities,
  });
  const cut = clean.content.length > maxChars;
  return {
    id: memory.id,
    content: cut ? `${clean.content.slice(0, Math.max(0, maxChars))}…` : clean.content,
    ...(cut ? { contentTruncated: true } : {}),
    tags: clean.tags,
    metadata: clean.metadata,
    entities: clean.entities,
    source: memory.source === null ? null : sanitizeDeep(memory.source),
    createdAt: iso(memory.createdAt),
    updatedAt: iso(memory.updatedAt),
  };
}

/** An entity as the model sees it, with observations cut to fit `maxChars`. */
export function entityView(entity: Entity, maxChars: number): EntityOut {
  const clean = sanitizeDeep({ name: entity.name, entityType: entity.entityType, observations: entity.observations });
  let room = maxChars - jsonLength({ name: clean.name, entityType: clean.entityType, observations: [] }) - 40;
  const kept: string[] = [];
  for (const observation of clean.observations) {
    const size = jsonLength(observation) + 1;
    if (size > room && kept.length > 0) break;
    kept.push(size > room ? `${observation.slice(0, Math.max(0, room - 10))}…` : observation);
    room -= size;
  }
  const omitted = clean.observations.length - kept.length;
  return { ...clean, observations: kept, ...(omitted > 0 ? { observationsOmitted: omitted } : {}) };
}

/**
 * Fits entities then relations into the budget (less `reserve` for the rest of the answer). A huge
 * entity keeps as many observations as fit, so a page always makes progress.
 */
export function fitGraph(
  budget: ResponseBudget,
  entities: Entity[],
  relations: Relation[],
  reserve = 600,
): { entities: EntityOut[]; relations: Relation[]; omittedEntities: number; omittedRelations: number } {
  const perEntity = Math.max(500, Math.floor((budget.maxChars - reserve) / 2));
  const views = entities.map((e) => entityView(e, perEntity));
  const fitted = budget.fitItems(views, { reserve, atLeastOne: true });
  const used = fitted.items.reduce((sum, e) => sum + jsonLength(e) + 1, 0);
  const cleanRelations = relations.map((r) => sanitizeDeep(r));
  const fittedRelations = fitted.truncated
    ? { items: [], omitted: relations.length }
    : budget.fitItems(cleanRelations, { reserve: reserve + used });
  return {
    entities: fitted.items,
    relations: fittedRelations.items,
    omittedEntities: fitted.omitted,
    omittedRelations: fittedRelations.omitted,
  };
}

export const filterInput = {
  tags: z.array(z.string()).max(32).optional().describe("Only memories that have every one of these tags."),
  entity: z.string().max(256).optional().describe("Only memories linked to this knowledge-graph entity."),
  since: z
    .string()
    .max(40)
    .optional()
    .describe("Only memories created at or after this time (ISO 8601, e.g. 2026-01-31 or 2026-01-31T09:00:00Z)."),
  until: z.string().max(40).optional().describe("Only memories created before this time (ISO 8601)."),
};

export function parseFilter(args: {
  tags?: string[] | undefined;
  entity?: string | undefined;
  since?: string | undefined;
  until?: string | undefined;
}): MemoryFilter {
  const filter: MemoryFilter = {};
  if (args.tags?.length) filter.tags = args.tags.map((t) => t.trim().toLowerCase());
  if (args.entity !== undefined) filter.entity = args.entity;
  if (args.since !== undefined) filter.since = parseTime(args.since, "since");
  if (args.until !== undefined) filter.until = parseTime(args.until, "until");
  return filter;
}

function parseTime(value: string, argument: string): number {
  const ms = Date.parse(value);
  if (!Number.isFinite(ms)) {
    throw new ToolError("invalid_argument", `\`${argument}\` is not a date: ${JSON.stringify(value)}.`, {
      hint: "Use ISO 8601, e.g. 2026-01-31 or 2026-01-31T09:00:00Z.",
      details: { argument },
    });
  }
  return ms;
}

export function badCursor(argument = "cursor"): ToolError {
  return new ToolError("invalid_argument", `\`${argument}\` is not a cursor this tool handed out.`, {
    hint: "Pass the nextCursor value from the previous page exactly, or omit it to start from the beginning.",
    details: { argument },
  });
}
