/**
 * A proven upper bound on the rows a SELECT returns, read from its parse tree: a constant LIMIT, a
 * VALUES list, a lone aggregate, or a lookup that pins every column of a unique key of its only
 * table. The server uses it to answer small queries in one round trip (fetch, then end the
 * transaction in the same message batch). A wrong bound costs a second run, never a wrong answer.
 */

type Body = Record<string, unknown>;

/** Column sets that are unique in a relation (primary key and unique indexes without predicates). */
export type UniqueKeys = (schema: string, name: string) => readonly (readonly string[])[];

/** Set-returning functions of the safe list: one call can return many rows, even in SELECT's list. */
const SET_RETURNING = new Set([
  "generate_series",
  "generate_subscripts",
  "unnest",
  "regexp_matches",
  "regexp_split_to_table",
  "string_to_table",
  "json_array_elements",
  "json_array_elements_text",
  "jsonb_array_elements",
  "jsonb_array_elements_text",
  "json_each",
  "json_each_text",
  "jsonb_each",
  "jsonb_each_text",
  "json_object_keys",
  "jsonb_object_keys",
  "json_to_recordset",
  "jsonb_to_recordset",
  "jsonb_path_query",
  "jsonb_path_query_tz",
]);

const AGGREGATES = new Set([
  "count",
  "sum",
  "avg",
  "min",
  "max",
  "bool_and",
  "bool_or",
  "every",
  "string_agg",
  "array_agg",
  "json_agg",
  "jsonb_agg",
  "json_object_agg",
  "jsonb_object_agg",
  "stddev",
  "stddev_pop",
  "stddev_samp",
  "variance",
  "var_pop",
  "var_samp",
  "percentile_cont",
  "percentile_disc",
  "mode",
  "any_value",
]);

const NONE: [undefined, undefined] = [undefined, undefined];

function entry(value: unknown): [string | undefined, Body | undefined] {
  if (!value || typeof value !== "object" || Array.isArray(value)) return NONE;
  let type: string | undefined;
  for (const key in value) {
    if (type !== undefined) return NONE;
    type = key;
  }
  return type === undefined ? NONE : [type, (value as Body)[type] as Body];
}

const list = (value: unknown): unknown[] => (Array.isArray(value) ? value : []);

function funcName(call: Body): string | undefined {
  const parts = list(call.funcname);
  const [, last] = entry(parts[parts.length - 1]);
  return typeof last?.sval === "string" ? last.sval : undefined;
}

/** Whether a set-returning function is called anywhere inside `value`. */
function callsSetReturning(value: unknown): boolean {
  if (Array.isArray(value)) return value.some(callsSetReturning);
  if (!value || typeof value !== "object") return false;
  for (const key in value) {
    const inner = (value as Body)[key];
    if (key === "FuncCall" && SET_RETURNING.has(funcName(inner as Body) ?? "")) return true;
    if (callsSetReturning(inner)) return true;
  }
  return false;
}

function constantInteger(value: unknown): number | undefined {
  const [type, body] = entry(value);
  if (type !== "A_Const" || !body) return undefined;
  const ival = body.ival as Body | undefined;
  if (ival && typeof ival === "object") return typeof ival.ival === "number" ? ival.ival : 0;
  return undefined;
}

const isConstant = (value: unknown): boolean => {
  const [type, body] = entry(value);
  if (type === "A_Const" || type === "ParamRef") return true;
  if (type === "TypeCast") return isConstant(body?.arg);
  return false;
};

/** The columns a WHERE clause pins to one value (`col = constant`, joined by AND). */
function pinnedColumns(where: unknown, table: string, alias: string | undefined, out: Set<string>): void {
  const [type, body] = entry(where);
  if (type === "BoolExpr" && body?.boolop === "AND_EXPR") {
    for (const arg of list(body.args)) pinnedColumns(arg, table, alias, out);
    return;
  }
  if (type !== "A_Expr" || body?.kind !== "AEXPR_OP") return;
  const [op] = list(body.name).map((n) => entry(n)[1]?.sval);
  if (op !== "=") return;
  for (const [column, other] of [
    [body.lexpr, body.rexpr],
    [body.rexpr, body.lexpr],
  ]) {
    const [refType, ref] = entry(column);
    if (refType !== "ColumnRef" || !isConstant(other)) continue;
    const fields = list(ref?.fields).map((f) => entry(f)[1]?.sval);
    if (fields.some((f) => typeof f !== "string")) continue;
    const name = fields[fields.length - 1] as string;
    const qualifier = fields.length === 2 ? fields[0] : undefined;
    if (fields.length > 2) continue;
    if (qualifier === undefined || qualifier === (alias ?? table)) out.add(name);
  }
}

/**
 * The most rows `select` can return, when the tree proves it; undefined otherwise. `relation`
 * resolves the query's only table (schema, name) when it has exactly one. `callsFunctions: false`
 * (the guard saw no function call anywhere) skips looking for set-returning ones.
 */
export function resultRowBound(
  select: Body,
  uniqueKeys: UniqueKeys | undefined,
  resolve: (rangeVar: Body) => { schema: string; name: string } | undefined,
  callsFunctions = true,
): number | undefined {
  let bound: number | undefined;
  const limit = constantInteger(select.limitCount);
  if (limit !== undefined && limit >= 0 && select.limitOption !== "LIMIT_OPTION_WITH_TIES") bound = limit;

  if (select.op && select.op !== "SETOP_NONE") return bound;
  const values = list(select.valuesLists);
  if (values.length > 0) return Math.min(bound ?? values.length, values.length);
  const from = list(select.fromClause);
  if (callsFunctions && (callsSetReturning(select.targetList) || callsSetReturning(from))) return bound;

  const groups = list(select.groupClause);
  const targets = list(select.targetList).map((t) => entry(t)[1]?.val);
  const isAggregate = (val: unknown) => {
    const [type, body] = entry(val);
    return type === "FuncCall" && AGGREGATES.has(funcName(body as Body) ?? "") && !body?.over;
  };
  // Without GROUP BY, aggregates (with constants beside them) make exactly one row.
  if (groups.length === 0 && targets.some(isAggregate) && targets.every((v) => isAggregate(v) || isConstant(v))) {
    return Math.min(bound ?? 1, 1);
  }

  if (uniqueKeys && from.length === 1 && groups.length === 0) {
    const [type, rangeVar] = entry(from[0]);
    if (type === "RangeVar" && rangeVar) {
      const relation = resolve(rangeVar);
      if (relation) {
        const pinned = new Set<string>();
        const alias = (rangeVar.alias as Body | undefined)?.aliasname as string | undefined;
        pinnedColumns(select.whereClause, String(rangeVar.relname), alias, pinned);
        if (uniqueKeys(relation.schema, relation.name).some((key) => key.every((c) => pinned.has(c)))) {
          return Math.min(bound ?? 1, 1);
        }
      }
    }
  }
  return bound;
}
