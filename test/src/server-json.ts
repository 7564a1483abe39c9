import { z } from "zod";

/**
 * The MCP Registry's server.json rules (schema 2025-12-11), for the fields Portside uses. Written from
 * the published schema: reverse-DNS name with one slash, description of at most 100 characters, one
 * specific version, packages with a registry type, identifier, version and transport.
 */
export const SERVER_JSON_SCHEMA_URL = "https://static.modelcontextprotocol.io/schemas/2025-12-11/server.schema.json";

const SPECIFIC_VERSION = /^(?!latest$)(?![\^~<>=*])(?!.*(?:^|\.)[xX*](?:\.|$))\S{1,255}$/;

const input = z.object({
  description: z.string().optional(),
  isRequired: z.boolean().optional(),
  format: z.enum(["string", "number", "boolean", "filepath"]).optional(),
  value: z.string().optional(),
  isSecret: z.boolean().optional(),
  default: z.string().optional(),
  placeholder: z.string().optional(),
  choices: z.array(z.string()).optional(),
});

const keyValue = input.extend({ name: z.string().min(1) });

const argument = z.union([
  input
    .extend({ type: z.literal("positional"), valueHint: z.string().optional(), isRepeated: z.boolean().optional() })
    .refine((a) => a.valueHint !== undefined || a.value !== undefined, "positional arguments need valueHint or value"),
  input.extend({ type: z.literal("named"), name: z.string().regex(/^-/), isRepeated: z.boolean().optional() }),
]);

const transport = z.union([
  z.object({ type: z.literal("stdio") }).strict(),
  z.object({ type: z.literal("streamable-http"), url: z.string(), headers: z.array(keyValue).optional() }),
]);

export const serverJsonSchema = z
  .object({
    $schema: z.literal(SERVER_JSON_SCHEMA_URL),
    name: z
      .string()
      .min(3)
      .max(200)
      .regex(/^[a-zA-Z0-9.-]+\/[a-zA-Z0-9._-]+$/),
    title: z.string().min(1).max(100).optional(),
    description: z.string().min(1).max(100),
    version: z.string().regex(SPECIFIC_VERSION, "must be one specific version"),
    websiteUrl: z.url().optional(),
    repository: z.object({ url: z.url(), source: z.string(), subfolder: z.string().optional() }).optional(),
    packages: z
      .array(
        z
          .object({
            registryType: z.string(),
            registryBaseUrl: z.url().optional(),
            identifier: z.string(),
            version: z.string().regex(SPECIFIC_VERSION, "must be one specific version"),
            runtimeHint: z.string().optional(),
            transport,
            runtimeArguments: z.array(argument).optional(),
            packageArguments: z.array(argument).optional(),
            environmentVariables: z.array(keyValue).optional(),
          })
          .strict(),
      )
      .min(1),
  })
  .strict();

export type ServerJson = z.infer<typeof serverJsonSchema>;
