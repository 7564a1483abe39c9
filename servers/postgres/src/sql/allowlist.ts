/**
 * Which relations the model may see: an allowlist and a denylist of `schema.table` patterns with
 * `*` and `?` globs. A relation is visible when some allow pattern matches it and no deny pattern
 * does. System schemas are only matched by a pattern that names them literally, so `*.*` never
 * opens the catalogs.
 */

export interface QualifiedName {
  schema: string;
  name: string;
}

const SYSTEM_SCHEMA = /^(pg_catalog|information_schema|pg_toast.*|pg_temp.*)$/;

export const isSystemSchema = (schema: string): boolean =>
  (schema.startsWith("pg_") || schema === "information_schema") && SYSTEM_SCHEMA.test(schema);

/** Whether a name matches one part of a pattern. */
type Matcher = (text: string) => boolean;

interface Pattern {
  source: string;
  schema: Matcher;
  name: Matcher;
  /** The schema part has no wildcard: only then may it match a system schema. */
  literalSchema: boolean;
}

export class TablePolicy {
  readonly allow: readonly string[];
  readonly deny: readonly string[];
  private readonly allowPatterns: Pattern[];
  private readonly denyPatterns: Pattern[];

  /**
   * `defaultSchema` qualifies patterns written without a schema (`orders` means `public.orders`
   * when the default schema is `public`).
   */
  constructor(allow: readonly string[], deny: readonly string[], defaultSchema: string) {
    this.allow = allow;
    this.deny = deny;
    this.allowPatterns = allow.map((p) => compilePattern(p, defaultSchema));
    this.denyPatterns = deny.map((p) => compilePattern(p, defaultSchema));
  }

  isAllowed(schema: string, name: string): boolean {
    const system = isSystemSchema(schema);
    return anyMatches(this.allowPatterns, schema, name, system) && !anyMatches(this.denyPatterns, schema, name, system);
  }

  /** Could any relation of this schema be allowed? (Used to skip whole schemas when listing.) */
  mayAllowSchema(schema: string): boolean {
    const system = isSystemSchema(schema);
    return this.allowPatterns.some((p) => (p.literalSchema || !system) && p.schema(schema));
  }
}

/** Runs on every relation of every query: plain loops, no closures. */
function anyMatches(patterns: readonly Pattern[], schema: string, name: string, system: boolean): boolean {
  for (const p of patterns) {
    if ((p.literalSchema || !system) && p.schema(schema) && p.name(name)) return true;
  }
  return false;
}

/** Parses `schema.table`, `"My Schema"."Table"`, `sales.*` or `orders` into a pattern. */
export function compilePattern(source: string, defaultSchema: string): Pattern {
  const parts = splitQualified(source.trim());
  if (!parts || parts.length === 0 || parts.length > 2 || parts.some((p) => p.length === 0)) {
    throw new Error(
      `invalid table pattern ${JSON.stringify(source)}: use schema.table, with * and ? as wildcards (e.g. public.orders, sales.*)`,
    );
  }
  const [schemaPart, namePart] = parts.length === 2 ? (parts as [string, string]) : [defaultSchema, parts[0] as string];
  return {
    source,
    schema: globMatcher(schemaPart),
    name: globMatcher(namePart),
    literalSchema: !/[*?]/.test(schemaPart),
  };
}

/** Splits on dots outside double quotes; quoted parts keep their case and may contain dots. */
function splitQualified(text: string): string[] | undefined {
  const parts: string[] = [];
  let current = "";
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i] as string;
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        current += '"';
        i++;
      } else if (ch === '"') {
        quoted = false;
      } else {
        current += ch;
      }
    } else if (ch === '"') {
      quoted = true;
    } else if (ch === ".") {
      parts.push(current);
      current = "";
    } else {
      current += ch;
    }
  }
  if (quoted) return undefined;
  parts.push(current);
  return parts;
}

/** `*` and literal names, the usual parts, match without a regular expression. */
function globMatcher(glob: string): Matcher {
  if (glob === "*") return () => true;
  if (!/[*?]/.test(glob)) return (text) => text === glob;
  const body = [...glob]
    .map((ch) => (ch === "*" ? ".*" : ch === "?" ? "." : ch.replace(/[\\^$.+()[\]{}|/-]/g, "\\$&")))
    .join("");
  const pattern = new RegExp(`^${body}$`, "s");
  return (text) => pattern.test(text);
}

/** Renders a name the way PostgreSQL would accept it back: quoted only when it must be. */
export function quoteIdent(name: string): string {
  return /^[a-z_][a-z0-9_$]*$/.test(name) && !RESERVED.has(name) ? name : `"${name.replace(/"/g, '""')}"`;
}

export const qualifiedName = (q: QualifiedName): string => `${quoteIdent(q.schema)}.${quoteIdent(q.name)}`;

/** Always-quoted form, for SQL text the server splices in itself. */
export const quoteAlways = (name: string): string => `"${name.replace(/"/g, '""')}"`;

// Reserved words that need quoting as identifiers (the common ones; quoting more is harmless).
const RESERVED = new Set([
  "all",
  "analyse",
  "analyze",
  "and",
  "any",
  "array",
  "as",
  "asc",
  "both",
  "case",
  "cast",
  "check",
  "collate",
  "column",
  "constraint",
  "create",
  "default",
  "desc",
  "distinct",
  "do",
  "else",
  "end",
  "except",
  "false",
  "for",
  "foreign",
  "from",
  "grant",
  "group",
  "having",
  "in",
  "intersect",
  "into",
  "leading",
  "limit",
  "not",
  "null",
  "offset",
  "on",
  "only",
  "or",
  "order",
  "primary",
  "references",
  "select",
  "table",
  "then",
  "to",
  "trailing",
  "true",
  "union",
  "unique",
  "user",
  "using",
  "when",
  "where",
  "window",
  "with",
]);
