import { entitySchema, memoryLineSchema, relationSchema } from "./limits.js";
import type { Entity, Relation } from "./types.js";

export type ParsedLine =
  | { type: "entity"; entity: Entity }
  | { type: "relation"; relation: Relation }
  | {
      type: "memory";
      memory: {
        content: string;
        tags: string[];
        metadata: Record<string, unknown>;
        entities: string[];
        source?: string | null | undefined;
        createdAt?: number | undefined;
      };
    }
  | { type: "skip" }
  | { type: "invalid"; reason: string };

/**
 * One line of the official server's memory.jsonl (`{"type":"entity",…}` / `{"type":"relation",…}`),
 * or of our own export, which adds `{"type":"memory",…}`. Reasons never quote the line, so a file
 * that is not a memory file does not leak its contents.
 */
export function parseLine(line: string): ParsedLine {
  const trimmed = line.trim();
  if (trimmed === "") return { type: "skip" };
  let value: unknown;
  try {
    value = JSON.parse(trimmed);
  } catch {
    return { type: "invalid", reason: "not JSON" };
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return { type: "invalid", reason: "not a JSON object" };
  }
  const record = value as Record<string, unknown>;
  switch (record.type) {
    case "entity": {
      const parsed = entitySchema.safeParse({ ...record, observations: record.observations ?? [] });
      return parsed.success
        ? { type: "entity", entity: parsed.data }
        : { type: "invalid", reason: `entity: ${firstIssue(parsed.error)}` };
    }
    case "relation": {
      const parsed = relationSchema.safeParse(record);
      return parsed.success
        ? { type: "relation", relation: parsed.data }
        : { type: "invalid", reason: `relation: ${firstIssue(parsed.error)}` };
    }
    case "memory": {
      const parsed = memoryLineSchema.safeParse(record);
      if (!parsed.success) return { type: "invalid", reason: `memory: ${firstIssue(parsed.error)}` };
      const { createdAt, ...rest } = parsed.data;
      const at = typeof createdAt === "string" ? Date.parse(createdAt) : createdAt;
      return { type: "memory", memory: { ...rest, createdAt: Number.isFinite(at) ? at : undefined } };
    }
    default:
      return { type: "invalid", reason: 'missing or unknown "type" (expected entity, relation or memory)' };
  }
}

function firstIssue(error: { issues: Array<{ path: PropertyKey[]; message: string }> }): string {
  const issue = error.issues[0];
  if (!issue) return "invalid";
  return issue.path.length ? `${issue.path.map(String).join(".")}: ${issue.message}` : issue.message;
}

export function entityLine(entity: Entity): string {
  return JSON.stringify({
    type: "entity",
    name: entity.name,
    entityType: entity.entityType,
    observations: entity.observations,
  });
}

export function relationLine(relation: Relation): string {
  return JSON.stringify({
    type: "relation",
    from: relation.from,
    to: relation.to,
    relationType: relation.relationType,
  });
}
