import { defineTool, sanitizeDeep, type Tool, ToolError } from "@portside/shared";
import { z } from "zod";
import type { RelationInfo, TableDescription } from "../db/catalog.js";
import type { PostgresService } from "../service.js";
import { qualifiedName } from "../sql/allowlist.js";
import { translated } from "./errors.js";

const READ_ONLY = { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false };

export function listSchemasTool(service: PostgresService): Tool {
  return defineTool({
    name: "list_schemas",
    title: "List schemas",
    description:
      "Lists the schemas that hold tables or views you can query, with how many of each. Start here on an unfamiliar database, then call list_tables.",
    input: z.object({}),
    output: z.object({
      schemas: z.array(z.object({ name: z.string(), tables: z.number().int(), views: z.number().int() })),
    }),
    annotations: READ_ONLY,
    async handler(_args, ctx) {
      return translated(undefined, async () => {
        const counts = new Map<string, { name: string; tables: number; views: number }>();
        for (const relation of await service.listAllowed(ctx.signal)) {
          const entry = counts.get(relation.schema) ?? { name: relation.schema, tables: 0, views: 0 };
          if (relation.kind.endsWith("view")) entry.views++;
          else entry.tables++;
          counts.set(relation.schema, entry);
        }
        const fitted = ctx.budget.fitItems([...counts.values()], { atLeastOne: true });
        const schemas = fitted.items;
        const text = schemas.length
          ? schemas.map((s) => `${s.name}: ${s.tables} table(s), ${s.views} view(s)`).join("\n")
          : "No tables are available on this server.";
        return { data: { schemas }, text };
      });
    },
  });
}

export function listTablesTool(service: PostgresService): Tool {
  return defineTool({
    name: "list_tables",
    title: "List tables",
    description:
      "Lists the tables and views you can query (schema, name, kind, estimated rows, comment). Filter by schema or by a name pattern (* and ? wildcards); page with offset. Then call describe_table for columns and keys.",
    input: z.object({
      schema: z.string().min(1).max(63).optional().describe("Only this schema."),
      pattern: z
        .string()
        .min(1)
        .max(200)
        .optional()
        .describe("Only names matching this pattern, e.g. order* (case-insensitive)."),
      offset: z.number().int().min(0).default(0).describe("Skip this many entries (from nextOffset)."),
      limit: z.number().int().min(1).max(1000).default(200).describe("Return at most this many entries."),
    }),
    output: z.object({
      tables: z.array(
        z.object({
          schema: z.string(),
          name: z.string(),
          kind: z.string(),
          estimatedRows: z.number(),
          comment: z.string().nullable(),
        }),
      ),
      total: z.number().int(),
      nextOffset: z.number().int().optional(),
    }),
    annotations: READ_ONLY,
    async handler({ schema, pattern, offset, limit }, ctx) {
      return translated(undefined, async () => {
        const matcher = pattern ? globMatcher(pattern) : undefined;
        const all = (await service.listAllowed(ctx.signal)).filter(
          (r) => (schema === undefined || r.schema === schema) && (!matcher || matcher(r.name)),
        );
        const page = all.slice(offset, offset + limit);
        const fitted = ctx.budget.fitItems(page, { atLeastOne: true });
        const tables = sanitizeDeep(fitted.items.map(toEntry));
        const next = offset + tables.length;
        const data = { tables, total: all.length, ...(next < all.length ? { nextOffset: next } : {}) };
        const lines = tables.map(
          (t) =>
            `${qualifiedName(t)} (${t.kind}, ~${Math.max(0, t.estimatedRows)} rows)${t.comment ? ` — ${t.comment}` : ""}`,
        );
        if (tables.length === 0) lines.push(offset > 0 ? "No more tables." : "No tables match.");
        if (next < all.length) lines.push(`[${all.length - next} more: call again with offset=${next}]`);
        return { data, text: lines.join("\n"), untrusted: true };
      });
    },
  });
}

function toEntry(r: RelationInfo) {
  return { schema: r.schema, name: r.name, kind: r.kind, estimatedRows: r.estimatedRows, comment: r.comment };
}

function globMatcher(pattern: string): (name: string) => boolean {
  const body = [...pattern]
    .map((ch) => (ch === "*" ? ".*" : ch === "?" ? "." : ch.replace(/[\\^$.+()[\]{}|/-]/g, "\\$&")))
    .join("");
  const regex = new RegExp(`^${body}$`, "is");
  return (name) => regex.test(name);
}

const column = z.object({
  name: z.string(),
  type: z.string(),
  nullable: z.boolean(),
  default: z.string().nullable(),
  identity: z.string().nullable(),
  generated: z.string().nullable(),
  comment: z.string().nullable(),
});

export const tableDescription = z.object({
  schema: z.string(),
  name: z.string(),
  kind: z.string(),
  comment: z.string().nullable(),
  estimatedRows: z.number(),
  columns: z.array(column),
  primaryKey: z.array(z.string()).nullable(),
  uniqueConstraints: z.array(z.object({ name: z.string(), columns: z.array(z.string()) })),
  checkConstraints: z.array(z.object({ name: z.string(), definition: z.string() })),
  foreignKeys: z.array(
    z.object({
      name: z.string(),
      columns: z.array(z.string()),
      references: z.object({ schema: z.string(), table: z.string(), columns: z.array(z.string()) }),
      onUpdate: z.string(),
      onDelete: z.string(),
    }),
  ),
  referencedBy: z.array(
    z.object({
      name: z.string(),
      schema: z.string(),
      table: z.string(),
      columns: z.array(z.string()),
      referencedColumns: z.array(z.string()),
    }),
  ),
  indexes: z.array(z.object({ name: z.string(), definition: z.string(), unique: z.boolean(), primary: z.boolean() })),
});

export function describeTableTool(service: PostgresService): Tool {
  return defineTool({
    name: "describe_table",
    title: "Describe a table",
    description:
      "Shows a table or view's columns (type, nullability, default, comment), primary key, unique and check constraints, foreign keys in and out, and indexes. Pass schema.table or a bare name (resolved on the search path).",
    input: z.object({
      table: z.string().min(1).max(200).describe('Table or view name: orders, public.orders, or "Mixed Case".'),
    }),
    output: tableDescription,
    annotations: READ_ONLY,
    async handler({ table }, ctx) {
      return translated(undefined, async () => {
        const parsed = parseTableName(table);
        if (!parsed) {
          throw new ToolError(
            "invalid_argument",
            `\`table\` must be a name or schema.name; got ${JSON.stringify(table)}.`,
            {
              hint: 'Write it as orders, public.orders or "Mixed Case".',
              details: { argument: "table" },
            },
          );
        }
        const relation = parsed.schema
          ? { schema: parsed.schema, name: parsed.name }
          : await service.resolve(parsed.name, ctx.signal);
        const description = await service.describe(relation, ctx.signal);
        if (!description) {
          throw new ToolError(
            "not_found",
            `Table ${JSON.stringify(table)} does not exist or is not available on this server.`,
            {
              hint: "Call list_tables to see the tables you can query.",
              details: { argument: "table" },
            },
          );
        }
        const data = sanitizeDeep(description);
        return { data, text: renderDescription(data), untrusted: true };
      });
    },
  });
}

/** `orders`, `public.orders`, `"My Schema"."Order Lines"`; unquoted parts are lower-cased like SQL. */
export function parseTableName(text: string): { schema?: string; name: string } | undefined {
  const parts: string[] = [];
  let i = 0;
  const input = text.trim();
  while (i < input.length) {
    if (input[i] === '"') {
      let value = "";
      i++;
      for (;;) {
        if (i >= input.length) return undefined;
        if (input[i] === '"') {
          if (input[i + 1] === '"') {
            value += '"';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        value += input[i];
        i++;
      }
      parts.push(value);
    } else {
      const match = /^[^."\s]+/.exec(input.slice(i));
      if (!match) return undefined;
      parts.push(match[0].replace(/[A-Z]+/g, (s) => s.toLowerCase()));
      i += match[0].length;
    }
    if (i < input.length) {
      if (input[i] !== ".") return undefined;
      i++;
      if (i >= input.length) return undefined;
    }
  }
  if (parts.length === 1) return { name: parts[0] as string };
  if (parts.length === 2) return { schema: parts[0] as string, name: parts[1] as string };
  return undefined;
}

/** A readable summary of a table for clients that only read text. */
export function renderDescription(d: TableDescription): string {
  const lines = [
    `${d.kind} ${qualifiedName(d)} (~${Math.max(0, d.estimatedRows)} rows)${d.comment ? ` — ${d.comment}` : ""}`,
  ];
  lines.push("columns:");
  for (const c of d.columns) {
    const extras = [
      c.nullable ? "" : "not null",
      c.default !== null ? `default ${c.default}` : "",
      c.identity ? `identity ${c.identity}` : "",
      c.generated ? `generated ${c.generated}` : "",
    ].filter(Boolean);
    lines.push(
      `  ${c.name} ${c.type}${extras.length ? ` ${extras.join(", ")}` : ""}${c.comment ? ` — ${c.comment}` : ""}`,
    );
  }
  if (d.primaryKey) lines.push(`primary key: (${d.primaryKey.join(", ")})`);
  for (const u of d.uniqueConstraints) lines.push(`unique ${u.name}: (${u.columns.join(", ")})`);
  for (const c of d.checkConstraints) lines.push(`check ${c.name}: ${c.definition}`);
  for (const fk of d.foreignKeys) {
    lines.push(
      `foreign key ${fk.name}: (${fk.columns.join(", ")}) → ${qualifiedName({ schema: fk.references.schema, name: fk.references.table })}(${fk.references.columns.join(", ")})`,
    );
  }
  for (const r of d.referencedBy) {
    lines.push(
      `referenced by ${qualifiedName({ schema: r.schema, name: r.table })}(${r.columns.join(", ")}) via ${r.name}`,
    );
  }
  for (const index of d.indexes) lines.push(`index ${index.definition}`);
  return lines.join("\n");
}
