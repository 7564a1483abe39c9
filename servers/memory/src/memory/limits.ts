import { z } from "zod";

/** Limits on what one call may store; generous for real use, small enough to keep answers bounded. */
export const LIMITS = {
  name: 256,
  entityType: 128,
  relationType: 128,
  observation: 32_000,
  memory: 32_000,
  tag: 64,
  tagsPerMemory: 32,
  linksPerMemory: 32,
  metadataChars: 4_000,
  itemsPerCall: 1_000,
  observationsPerItem: 1_000,
} as const;

const text = (max: number, what: string) =>
  z
    .string()
    .min(1, `${what} must not be empty`)
    .max(max, `${what} must be at most ${max} characters`)
    .refine((s) => s.trim().length > 0, `${what} must not be blank`);

export const entityNameSchema = text(LIMITS.name, "an entity name");
export const entitySchema = z.object({
  name: entityNameSchema.describe("The name of the entity"),
  entityType: text(LIMITS.entityType, "an entity type").describe("The type of the entity"),
  observations: z
    .array(text(LIMITS.observation, "an observation"))
    .max(LIMITS.observationsPerItem)
    .describe("An array of observation contents associated with the entity"),
});
export const relationSchema = z.object({
  from: entityNameSchema.describe("The name of the entity where the relation starts"),
  to: entityNameSchema.describe("The name of the entity where the relation ends"),
  relationType: text(LIMITS.relationType, "a relation type").describe("The type of the relation"),
});

const TAG = /^[\p{L}\p{N}][\p{L}\p{N}_\-:./]*$/u;
export const tagSchema = z
  .string()
  .trim()
  .toLowerCase()
  .min(1, "a tag must not be empty")
  .max(LIMITS.tag, `a tag must be at most ${LIMITS.tag} characters`)
  .regex(TAG, "a tag is letters, digits and _ - : . / (starting with a letter or digit), e.g. project:atlas");

const RESERVED_KEYS = new Set(["__proto__", "constructor", "prototype"]);

export const metadataSchema = z
  .record(
    z
      .string()
      .max(100)
      .refine((key) => !RESERVED_KEYS.has(key), "metadata keys __proto__, constructor and prototype are reserved"),
    z.unknown(),
  )
  .refine((m) => JSON.stringify(m).length <= LIMITS.metadataChars, {
    message: `metadata must serialise to at most ${LIMITS.metadataChars} characters of JSON`,
  });

export const memoryContentSchema = text(LIMITS.memory, "memory content");

/** A memory line in our JSONL export (the official format has only entities and relations). */
export const memoryLineSchema = z.object({
  content: memoryContentSchema,
  tags: z.array(tagSchema).max(LIMITS.tagsPerMemory).default([]),
  metadata: metadataSchema.default({}),
  entities: z.array(entityNameSchema).max(LIMITS.linksPerMemory).default([]),
  source: z.string().max(200).nullable().optional(),
  createdAt: z.union([z.number().int().nonnegative(), z.string()]).optional(),
});
