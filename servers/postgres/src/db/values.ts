/**
 * How column values become JSON. Values whose JavaScript form would lose something (timestamps
 * shifted into the server's time zone, numerics rounded, bytea as a Buffer, bigints beyond 2^53)
 * stay in PostgreSQL's own text form; booleans, numbers that fit and JSON are parsed.
 */

type Parser = (text: string) => unknown;

const parseFinite: Parser = (text) => {
  const n = Number.parseFloat(text);
  return Number.isFinite(n) ? n : text;
};
const parseInteger: Parser = (text) => Number.parseInt(text, 10);
const parseBool: Parser = (text) => text === "t";
/** bigint as a number when it fits exactly, else its text. */
const parseBigint: Parser = (text) => {
  const n = Number(text);
  return Number.isSafeInteger(n) ? n : text;
};

/** OIDs of the types parsed into JSON values; everything else stays text. */
const PARSED: Record<number, "bool" | "int" | "bigint" | "float" | "json" | "array"> = {
  16: "bool",
  20: "bigint",
  21: "int",
  23: "int",
  26: "int",
  700: "float",
  701: "float",
  114: "json",
  3802: "json",
  // Arrays of the above and of text-like types.
  1000: "array",
  1005: "array",
  1007: "array",
  1009: "array",
  1014: "array",
  1015: "array",
  1016: "array",
  1021: "array",
  1022: "array",
  199: "array",
  3807: "array",
  2951: "array",
};

const ELEMENT: Record<number, Parser> = {
  1000: parseBool,
  1005: parseInteger,
  1007: parseInteger,
  1016: parseBigint,
  1021: parseFinite,
  1022: parseFinite,
  199: (text) => JSON.parse(text),
  3807: (text) => JSON.parse(text),
};

const identity: Parser = (text) => text;

/** The `types` object pg and pg-cursor accept. */
export const typeParsers = {
  getTypeParser(oid: number): Parser {
    switch (PARSED[oid]) {
      case "bool":
        return parseBool;
      case "int":
        return parseInteger;
      case "bigint":
        return parseBigint;
      case "float":
        return parseFinite;
      case "json":
        return (text) => JSON.parse(text);
      case "array": {
        const element = ELEMENT[oid] ?? identity;
        return (text) => parseArray(text, element);
      }
      default:
        return identity;
    }
  },
};

/**
 * Parses a PostgreSQL array literal (`{1,2,NULL}`, `{{a,b},{"c,d",e}}`). Only used for the
 * one-dimensional-or-nested arrays of simple element types listed above.
 */
export function parseArray(text: string, element: Parser): unknown {
  let i = 0;
  // Arrays with explicit bounds (`[0:1]={1,2}`) keep their text form.
  if (text[0] !== "{") return text;
  const parseLevel = (): unknown[] => {
    const out: unknown[] = [];
    i++; // {
    if (text[i] === "}") {
      i++;
      return out;
    }
    for (;;) {
      if (text[i] === "{") {
        out.push(parseLevel());
      } else if (text[i] === '"') {
        let value = "";
        i++;
        while (i < text.length && text[i] !== '"') {
          if (text[i] === "\\") i++;
          value += text[i] ?? "";
          i++;
        }
        i++; // closing quote
        out.push(element(value));
      } else {
        let j = i;
        while (j < text.length && text[j] !== "," && text[j] !== "}") j++;
        const raw = text.slice(i, j);
        out.push(raw === "NULL" ? null : element(raw));
        i = j;
      }
      if (text[i] === ",") {
        i++;
        continue;
      }
      i++; // }
      return out;
    }
  };
  return parseLevel();
}

/** Names of common built-in types by OID, so most results need no catalog lookup. */
export const BUILTIN_TYPE_NAMES: Record<number, string> = {
  16: "boolean",
  17: "bytea",
  18: '"char"',
  19: "name",
  20: "bigint",
  21: "smallint",
  23: "integer",
  25: "text",
  26: "oid",
  114: "json",
  142: "xml",
  650: "cidr",
  700: "real",
  701: "double precision",
  790: "money",
  829: "macaddr",
  869: "inet",
  1000: "boolean[]",
  1005: "smallint[]",
  1007: "integer[]",
  1009: "text[]",
  1014: "character[]",
  1015: "character varying[]",
  1016: "bigint[]",
  1021: "real[]",
  1022: "double precision[]",
  1042: "character",
  1043: "character varying",
  1082: "date",
  1083: "time without time zone",
  1114: "timestamp without time zone",
  1184: "timestamp with time zone",
  1186: "interval",
  1231: "numeric[]",
  1266: "time with time zone",
  1560: "bit",
  1562: "bit varying",
  1700: "numeric",
  2249: "record",
  2950: "uuid",
  2951: "uuid[]",
  3614: "tsvector",
  3615: "tsquery",
  3802: "jsonb",
  3807: "jsonb[]",
  3904: "int4range",
  3906: "numrange",
  3912: "daterange",
  3926: "int8range",
  705: "unknown",
};
