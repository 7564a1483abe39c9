/**
 * The SQL guard: decides, from PostgreSQL's own parse tree, whether a query may run, and rewrites it
 * so the database runs exactly what was checked.
 *
 * - Exactly one statement: a plain SELECT (or EXPLAIN of one; ANALYZE only when enabled).
 * - Every node of the tree must be of a known-safe kind, with known fields. Anything new or unusual
 *   (INTO, FOR UPDATE, XML, data-modifying WITH, …) is refused rather than guessed about.
 * - Every relation anywhere in the tree must be on the allowlist once its schema is resolved; a WITH
 *   query may not take the name of a real table.
 * - Every function, wherever it is called, must be on the safe list.
 * - Casts only to built-in value types; operators only from pg_catalog when qualified.
 *
 * The checked query is then rewritten by inserting schema names in front of every unqualified table
 * and function name (nothing else in the text moves): the database never resolves a name
 * differently from the guard.
 */
import { type QualifiedName, quoteAlways, type TablePolicy } from "./allowlist.js";
import { resultRowBound, type UniqueKeys } from "./bound.js";
import { GuardError } from "./errors.js";
import { type FunctionPolicy, SAFE_SAMPLING_METHODS, SAFE_TYPES_SET } from "./functions.js";
import { parseSql } from "./parser.js";

export interface GuardPolicy {
  tables: TablePolicy;
  functions: FunctionPolicy;
  /** Schemas searched, in order, for an unqualified table name (after pg_catalog, as PostgreSQL does). */
  searchPath: readonly string[];
  /** Whether a relation exists (from a catalog snapshot; used only to resolve unqualified names). */
  relationExists(schema: string, name: string): boolean;
  allowExplainAnalyze: boolean;
  /** Unique column sets of a relation, to recognise lookups that return at most one row. */
  uniqueKeys?: UniqueKeys;
}

export interface ExplainRequest {
  analyze?: boolean;
  format?: "text" | "json";
}

export interface GuardedQuery {
  kind: "select" | "explain";
  /** The text to run: the original with schema names inserted. */
  text: string;
  /** Every table or view the query reads, resolved. */
  relations: QualifiedName[];
  /** Highest `$n` placeholder used. */
  parameterCount: number;
  /** The most rows the query can return, when its shape proves it (see bound.ts). */
  rowBound: number | undefined;
  /** Maps a 1-based position in `text` back to the caller's SQL (for database error positions). */
  originalPosition(position: number): number | undefined;
}

const EXPLAIN_OPTIONS = new Set([
  "analyze",
  "verbose",
  "costs",
  "settings",
  "generic_plan",
  "buffers",
  "serialize",
  "wal",
  "timing",
  "summary",
  "memory",
  "format",
]);

/** Checks a query and returns what to run, or throws a GuardError saying what was refused and why. */
export async function guardQuery(sql: string, policy: GuardPolicy, explain?: ExplainRequest): Promise<GuardedQuery> {
  const checked = await checkText(sql, policy, explain !== undefined);
  if (explain?.analyze && !policy.allowExplainAnalyze) {
    throw new GuardError("explain_option", "EXPLAIN ANALYZE runs the query and is disabled on this server.", {
      code: "permission_denied",
      hint: "Ask for the estimated plan (without ANALYZE), or ask the operator to start the server with --allow-explain-analyze.",
    });
  }
  // Inserting ` "schema".` right before a name token the parser placed as a table or function name
  // only turns it into the qualified form of the same name: the token stream is unchanged apart
  // from the two inserted tokens (the leading space keeps them from fusing with the text before).
  // The tests re-parse every rewritten query and compare the trees.
  const rewritten = applyInsertions(sql, checked.insertions);
  let prefixLength = 0;
  let text = rewritten.text;
  if (explain) {
    const options = [`FORMAT ${explain.format === "json" ? "JSON" : "TEXT"}`];
    if (explain.analyze) options.push("ANALYZE");
    const prefix = `EXPLAIN (${options.join(", ")}) `;
    prefixLength = prefix.length;
    text = prefix + text;
  }
  return {
    kind: explain || checked.kind === "explain" ? "explain" : "select",
    text,
    relations: checked.relations,
    parameterCount: checked.parameterCount,
    rowBound: explain ? undefined : checked.rowBound,
    originalPosition(position) {
      const inRewritten = position - prefixLength;
      if (inRewritten < 1) return undefined;
      return rewritten.toOriginal(inRewritten);
    },
  };
}

interface Insertion {
  /** 0-based character index in the text where `text` goes. */
  at: number;
  text: string;
}

interface CheckResult {
  kind: "select" | "explain";
  relations: QualifiedName[];
  insertions: Insertion[];
  parameterCount: number;
  rowBound: number | undefined;
}

async function checkText(sql: string, policy: GuardPolicy, explainWrapped: boolean): Promise<CheckResult> {
  if (sql.trim() === "") {
    throw new GuardError("empty", "The query is empty.", {
      code: "invalid_argument",
      hint: "Send one SELECT statement.",
    });
  }
  // The parser reads a C string and would stop at a NUL, checking less than the database is sent.
  const nul = sql.indexOf("\0");
  if (nul !== -1) {
    throw new GuardError("syntax", "The query contains a NUL character (\\0), which PostgreSQL does not accept.", {
      code: "invalid_argument",
      hint: "Remove the NUL character; write chr(0) or '\\x00'::bytea for a zero byte in data.",
      position: nul + 1,
      sqlstate: "42601",
    });
  }
  const parsed = await parseSql(sql);
  const positions = new PositionMap(sql);
  const stmts = parsed.stmts ?? [];
  if (stmts.length === 0) {
    throw new GuardError("empty", "The query is empty (only comments or semicolons).", {
      code: "invalid_argument",
      hint: "Send one SELECT statement.",
    });
  }
  if (stmts.length > 1) {
    const second = stmts[1]?.stmt_location;
    throw new GuardError("multiple_statements", `Only one statement per call is allowed; got ${stmts.length}.`, {
      code: "permission_denied",
      hint: "Send a single SELECT without a second statement after the semicolon; run each query in its own call.",
      ...(second !== undefined ? { position: positions.toPosition(second) } : {}),
    });
  }
  const checker = new Checker(sql, policy, positions);
  const root = stmts[0]?.stmt as Record<string, unknown> | undefined;
  const [type, body] = nodeEntry(root);
  let kind: CheckResult["kind"] = "select";
  let rowBound: number | undefined;
  if (type === "SelectStmt") {
    checker.node(root);
    rowBound = resultRowBound(
      body as Record<string, unknown>,
      policy.uniqueKeys,
      (rangeVar) => checker.resolved(rangeVar),
      checker.functionCalls > 0,
    );
  } else if (type === "ExplainStmt" && !explainWrapped) {
    kind = "explain";
    checker.explain(body as Record<string, unknown>);
  } else {
    throw refusedStatement(type, explainWrapped);
  }
  return {
    kind,
    relations: checker.relations(),
    insertions: checker.insertions,
    parameterCount: checker.maxParam,
    rowBound,
  };
}

function refusedStatement(type: string | undefined, explainWrapped: boolean): GuardError {
  if (type === "ExplainStmt" && explainWrapped) {
    return new GuardError("statement_type", "Pass the SELECT itself; the tool adds EXPLAIN.", {
      code: "invalid_argument",
      hint: "Remove the leading EXPLAIN (and its options) and call again.",
    });
  }
  const what = own(STATEMENT_NAMES, type ?? "") ?? `${sqlWords(type ?? "Unknown")} statements`;
  return new GuardError("statement_type", `This server is read-only: ${what} are not allowed.`, {
    code: "permission_denied",
    hint: "Only a single plain SELECT (or EXPLAIN of one) can run. Use list_tables and describe_table to explore.",
  });
}

/** `CreateTableStmt` → `CREATE TABLE`. */
const sqlWords = (type: string): string =>
  type
    .replace(/Stmt$/, "")
    .replace(/([a-z])([A-Z])/g, "$1 $2")
    .toUpperCase();

const STATEMENT_NAMES: Record<string, string> = {
  InsertStmt: "INSERT statements",
  UpdateStmt: "UPDATE statements",
  DeleteStmt: "DELETE statements",
  MergeStmt: "MERGE statements",
  TransactionStmt: "transaction control statements (BEGIN, COMMIT, ROLLBACK, SAVEPOINT)",
  CopyStmt: "COPY statements",
  DoStmt: "DO blocks",
  CallStmt: "CALL statements",
  PrepareStmt: "PREPARE statements",
  ExecuteStmt: "EXECUTE statements",
  DeallocateStmt: "DEALLOCATE statements",
  ListenStmt: "LISTEN statements",
  UnlistenStmt: "UNLISTEN statements",
  NotifyStmt: "NOTIFY statements",
  VariableSetStmt: "SET and RESET statements",
  VariableShowStmt: "SHOW statements",
  LockStmt: "LOCK statements",
  CreateTableAsStmt: "CREATE TABLE AS and SELECT INTO",
  DeclareCursorStmt: "DECLARE CURSOR statements",
  FetchStmt: "FETCH and MOVE statements",
  ClosePortalStmt: "CLOSE statements",
  VacuumStmt: "VACUUM and ANALYZE statements",
  TruncateStmt: "TRUNCATE statements",
  GrantStmt: "GRANT and REVOKE statements",
  LoadStmt: "LOAD statements",
  DiscardStmt: "DISCARD statements",
  CheckPointStmt: "CHECKPOINT statements",
};

/** Byte offsets (libpg-query's locations) to character positions. */
class PositionMap {
  private indexOfByte: Uint32Array | undefined;
  private ascii: boolean | undefined;
  constructor(private readonly text: string) {}

  /** 0-based character (UTF-16 code unit) index of a byte offset. */
  toIndex(byteOffset: number): number {
    // Plain ASCII, the common case: bytes and characters line up.
    this.ascii ??= isAscii(this.text);
    if (this.ascii) return Math.min(byteOffset, this.text.length);
    if (!this.indexOfByte) {
      // Built once per query, so a query with many names stays linear.
      const table = new Uint32Array(Buffer.byteLength(this.text, "utf8") + 1);
      let byte = 0;
      for (let i = 0; i < this.text.length; i++) {
        const code = this.text.codePointAt(i) as number;
        const width = code < 0x80 ? 1 : code < 0x800 ? 2 : code < 0x10000 ? 3 : 4;
        for (let b = 0; b < width; b++) table[byte + b] = i;
        byte += width;
        if (code >= 0x10000) i++;
      }
      table[byte] = this.text.length;
      this.indexOfByte = table;
    }
    return this.indexOfByte[Math.min(byteOffset, this.indexOfByte.length - 1)] as number;
  }

  /** 1-based character position of a byte offset. */
  toPosition(byteOffset: number): number {
    return this.toIndex(byteOffset) + 1;
  }
}

function isAscii(text: string): boolean {
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) > 0x7f) return false;
  return true;
}

type Body = Record<string, unknown>;
type FieldSpec = "scalar" | "node" | "names" | "operator" | "leaf" | `struct:${string}`;

/** Field rules of every node kind the guard accepts. A field not listed here is refused. */
const RULES: Record<string, Record<string, FieldSpec>> = {
  SelectStmt: {
    distinctClause: "node",
    targetList: "node",
    fromClause: "node",
    whereClause: "node",
    groupClause: "node",
    groupDistinct: "scalar",
    havingClause: "node",
    windowClause: "node",
    valuesLists: "node",
    sortClause: "node",
    limitOffset: "node",
    limitCount: "node",
    limitOption: "scalar",
    withClause: "struct:WithClause",
    op: "scalar",
    all: "scalar",
    larg: "struct:SelectStmt",
    rarg: "struct:SelectStmt",
  },
  ResTarget: { name: "scalar", indirection: "node", val: "node", location: "scalar" },
  ColumnRef: { fields: "node", location: "scalar" },
  ParamRef: { number: "scalar", location: "scalar" },
  A_Const: {
    ival: "leaf",
    fval: "leaf",
    boolval: "leaf",
    sval: "leaf",
    bsval: "leaf",
    isnull: "scalar",
    location: "scalar",
  },
  A_Star: {},
  String: { sval: "scalar" },
  Integer: { ival: "scalar" },
  Float: { fval: "scalar" },
  Boolean: { boolval: "scalar" },
  BitString: { bsval: "scalar" },
  List: { items: "node" },
  A_Expr: {
    kind: "scalar",
    name: "operator",
    lexpr: "node",
    rexpr: "node",
    rexpr_list_start: "scalar",
    rexpr_list_end: "scalar",
    location: "scalar",
  },
  A_Indices: { is_slice: "scalar", lidx: "node", uidx: "node" },
  A_Indirection: { arg: "node", indirection: "node" },
  A_ArrayExpr: { elements: "node", list_start: "scalar", list_end: "scalar", location: "scalar" },
  BoolExpr: { boolop: "scalar", args: "node", location: "scalar" },
  NullTest: { arg: "node", nulltesttype: "scalar", argisrow: "scalar", location: "scalar" },
  BooleanTest: { arg: "node", booltesttype: "scalar", location: "scalar" },
  CaseExpr: { arg: "node", args: "node", defresult: "node", location: "scalar" },
  CaseWhen: { expr: "node", result: "node", location: "scalar" },
  CoalesceExpr: { args: "node", location: "scalar" },
  MinMaxExpr: { op: "scalar", args: "node", location: "scalar" },
  RowExpr: { args: "node", row_format: "scalar", colnames: "names", location: "scalar" },
  NamedArgExpr: { arg: "node", name: "scalar", argnumber: "scalar", location: "scalar" },
  GroupingSet: { kind: "scalar", content: "node", location: "scalar" },
  GroupingFunc: { args: "node", location: "scalar" },
  CollateClause: { arg: "node", collname: "names", location: "scalar" },
  SubLink: {
    subLinkType: "scalar",
    subLinkId: "scalar",
    testexpr: "node",
    operName: "operator",
    subselect: "node",
    location: "scalar",
  },
  SQLValueFunction: { op: "scalar", typmod: "scalar", location: "scalar" },
  TypeCast: { arg: "node", typeName: "struct:TypeName", location: "scalar" },
  TypeName: {
    names: "names",
    typmods: "node",
    typemod: "scalar",
    arrayBounds: "node",
    location: "scalar",
  },
  FuncCall: {
    funcname: "names",
    args: "node",
    agg_order: "node",
    agg_filter: "node",
    over: "struct:WindowDef",
    agg_within_group: "scalar",
    agg_star: "scalar",
    agg_distinct: "scalar",
    func_variadic: "scalar",
    funcformat: "scalar",
    location: "scalar",
  },
  WindowDef: {
    name: "scalar",
    refname: "scalar",
    partitionClause: "node",
    orderClause: "node",
    frameOptions: "scalar",
    startOffset: "node",
    endOffset: "node",
    location: "scalar",
  },
  SortBy: { node: "node", sortby_dir: "scalar", sortby_nulls: "scalar", useOp: "operator", location: "scalar" },
  RangeVar: {
    schemaname: "scalar",
    relname: "scalar",
    inh: "scalar",
    relpersistence: "scalar",
    alias: "struct:Alias",
    location: "scalar",
  },
  Alias: { aliasname: "scalar", colnames: "names" },
  RangeSubselect: { lateral: "scalar", subquery: "node", alias: "struct:Alias" },
  RangeFunction: {
    lateral: "scalar",
    ordinality: "scalar",
    is_rowsfrom: "scalar",
    functions: "node",
    alias: "struct:Alias",
    coldeflist: "node",
  },
  RangeTableSample: { relation: "node", method: "names", args: "node", repeatable: "node", location: "scalar" },
  ColumnDef: {
    colname: "scalar",
    typeName: "struct:TypeName",
    is_local: "scalar",
    collClause: "struct:CollateClause",
    location: "scalar",
  },
  JoinExpr: {
    jointype: "scalar",
    isNatural: "scalar",
    larg: "node",
    rarg: "node",
    usingClause: "names",
    join_using_alias: "struct:Alias",
    quals: "node",
    alias: "struct:Alias",
    rtindex: "scalar",
  },
  WithClause: { ctes: "node", recursive: "scalar", location: "scalar" },
  CommonTableExpr: {
    ctename: "scalar",
    aliascolnames: "names",
    ctematerialized: "scalar",
    ctequery: "node",
    search_clause: "struct:CTESearchClause",
    cycle_clause: "struct:CTECycleClause",
    location: "scalar",
  },
  CTESearchClause: {
    search_col_list: "names",
    search_breadth_first: "scalar",
    search_seq_column: "scalar",
    location: "scalar",
  },
  CTECycleClause: {
    cycle_col_list: "names",
    cycle_mark_column: "scalar",
    cycle_mark_value: "node",
    cycle_mark_default: "node",
    cycle_path_column: "scalar",
    location: "scalar",
  },
  // SQL/JSON constructors and query functions (pure expressions).
  JsonObjectConstructor: {
    exprs: "node",
    output: "struct:JsonOutput",
    absent_on_null: "scalar",
    unique: "scalar",
    location: "scalar",
  },
  JsonArrayConstructor: { exprs: "node", output: "struct:JsonOutput", absent_on_null: "scalar", location: "scalar" },
  JsonArrayQueryConstructor: {
    query: "node",
    output: "struct:JsonOutput",
    format: "struct:JsonFormat",
    absent_on_null: "scalar",
    location: "scalar",
  },
  JsonKeyValue: { key: "node", value: "struct:JsonValueExpr" },
  JsonValueExpr: { raw_expr: "node", formatted_expr: "node", format: "struct:JsonFormat" },
  JsonOutput: { typeName: "struct:TypeName", returning: "struct:JsonReturning" },
  JsonReturning: { format: "struct:JsonFormat", typid: "scalar", typmod: "scalar" },
  JsonFormat: { format_type: "scalar", encoding: "scalar", location: "scalar" },
  JsonAggConstructor: {
    output: "struct:JsonOutput",
    agg_filter: "node",
    agg_order: "node",
    over: "struct:WindowDef",
    location: "scalar",
  },
  JsonObjectAgg: {
    constructor: "struct:JsonAggConstructor" as FieldSpec,
    arg: "struct:JsonKeyValue",
    absent_on_null: "scalar",
    unique: "scalar",
  },
  JsonArrayAgg: {
    constructor: "struct:JsonAggConstructor" as FieldSpec,
    arg: "struct:JsonValueExpr",
    absent_on_null: "scalar",
  },
  JsonIsPredicate: {
    expr: "node",
    format: "struct:JsonFormat",
    item_type: "scalar",
    unique_keys: "scalar",
    location: "scalar",
  },
  JsonFuncExpr: {
    op: "scalar",
    column_name: "scalar",
    context_item: "struct:JsonValueExpr",
    pathspec: "node",
    passing: "node",
    output: "struct:JsonOutput",
    on_empty: "struct:JsonBehavior",
    on_error: "struct:JsonBehavior",
    wrapper: "scalar",
    quotes: "scalar",
    location: "scalar",
  },
  JsonBehavior: { btype: "scalar", expr: "node", coerce: "scalar", location: "scalar" },
  JsonArgument: { val: "struct:JsonValueExpr", name: "scalar" },
  JsonParseExpr: {
    expr: "struct:JsonValueExpr",
    output: "struct:JsonOutput",
    unique_keys: "scalar",
    location: "scalar",
  },
  JsonScalarExpr: { expr: "node", output: "struct:JsonOutput", location: "scalar" },
  JsonSerializeExpr: { expr: "struct:JsonValueExpr", output: "struct:JsonOutput", location: "scalar" },
};

/**
 * The rules as maps: a lookup by node or field name can never reach an Object.prototype member,
 * and maps are the faster lookup on this hot path.
 */
const RULE_MAP: ReadonlyMap<string, ReadonlyMap<string, FieldSpec>> = new Map(
  Object.entries(RULES).map(([type, fields]) => [type, new Map(Object.entries(fields))]),
);

/** Own-property lookup: node and field names must never reach Object.prototype members. */
function own<T>(table: Record<string, T>, key: string): T | undefined {
  return Object.hasOwn(table, key) ? table[key] : undefined;
}

/** Friendlier words for constructs refused by the node allowlist. */
const CONSTRUCT_NAMES: Record<string, string> = {
  XmlExpr: "XML functions",
  XmlSerialize: "XMLSERIALIZE",
  RangeTableFunc: "XMLTABLE",
  JsonTable: "JSON_TABLE",
  MultiAssignRef: "multiple-column assignment",
  SetToDefault: "DEFAULT",
  CurrentOfExpr: "WHERE CURRENT OF",
  MergeSupportFunc: "MERGE_ACTION()",
  InsertStmt: "INSERT (in a WITH query)",
  UpdateStmt: "UPDATE (in a WITH query)",
  DeleteStmt: "DELETE (in a WITH query)",
  MergeStmt: "MERGE (in a WITH query)",
  LockingClause: "FOR UPDATE / FOR SHARE locking clauses",
  IntoClause: "SELECT … INTO",
};

/** A lexical scope of WITH query names. */
interface Scope {
  names: Set<string>;
  parent: Scope | undefined;
}

class Checker {
  readonly insertions: Insertion[] = [];
  maxParam = 0;
  /** Function calls anywhere in the tree. */
  functionCalls = 0;
  private readonly seen = new Map<string, QualifiedName>();
  private readonly resolutions = new Map<Body, QualifiedName>();
  private scope: Scope | undefined;

  constructor(
    private readonly sql: string,
    private readonly policy: GuardPolicy,
    private readonly positions: PositionMap,
  ) {}

  relations(): QualifiedName[] {
    return [...this.seen.values()];
  }

  /** The relation a checked RangeVar resolved to (undefined for WITH query references). */
  resolved(rangeVar: Body): QualifiedName | undefined {
    return this.resolutions.get(rangeVar);
  }

  explain(body: Body): void {
    for (const key of Object.keys(body)) {
      if (key !== "query" && key !== "options") this.refuseField("ExplainStmt", key, undefined);
    }
    for (const option of asArray(body.options)) {
      const [type, def] = nodeEntry(option);
      const name = typeof def?.defname === "string" ? def.defname : "";
      const location = typeof def?.location === "number" ? def.location : undefined;
      if (type !== "DefElem" || !EXPLAIN_OPTIONS.has(name)) {
        throw this.error("explain_option", `EXPLAIN option ${name.toUpperCase() || "?"} is not supported.`, location, {
          code: "invalid_argument",
          hint: `Use only ${[...EXPLAIN_OPTIONS].map((o) => o.toUpperCase()).join(", ")}.`,
        });
      }
      if (name === "analyze" && isEnabled(def?.arg) && !this.policy.allowExplainAnalyze) {
        throw this.error("explain_option", "EXPLAIN ANALYZE runs the query and is disabled on this server.", location, {
          code: "permission_denied",
          hint: "Use EXPLAIN without ANALYZE for the estimated plan, or ask the operator to start the server with --allow-explain-analyze.",
        });
      }
      const arg = def?.arg;
      if (arg !== undefined) {
        const [argType] = nodeEntry(arg);
        if (!["String", "Integer", "Boolean", "Float"].includes(argType ?? "")) this.refuseNode(argType, location);
      }
    }
    const [queryType] = nodeEntry(body.query);
    if (queryType !== "SelectStmt") throw refusedStatement(queryType, false);
    this.node(body.query);
  }

  /** Visits a wrapped node (`{Type: {...}}`), a list of them, or an empty placeholder `{}`. */
  node(value: unknown): void {
    if (value === undefined || value === null) return;
    if (Array.isArray(value)) {
      for (const item of value) this.node(item);
      return;
    }
    if (typeof value !== "object") throw this.malformed();
    const type = soleKey(value);
    if (type === EMPTY) return;
    if (type === undefined) throw this.malformed();
    const body = (value as Body)[type];
    if (typeof body !== "object" || body === null || Array.isArray(body)) throw this.malformed();
    this.typed(type, body as Body);
  }

  /** Visits a node body of a known type (wrapped or stored bare in a typed field). */
  private typed(type: string, body: Body): void {
    switch (type) {
      case "SelectStmt":
        this.select(body);
        return;
      case "RangeVar":
        this.rangeVar(body);
        return;
      case "FuncCall":
        this.funcCall(body);
        return;
      case "TypeName":
        this.typeName(body);
        return;
      case "RangeTableSample":
        this.tableSample(body);
        return;
      case "ParamRef":
        if (typeof body.number === "number") this.maxParam = Math.max(this.maxParam, body.number);
        this.fields(type, body);
        return;
      default:
        if (!RULE_MAP.has(type)) this.refuseNode(type, locationOf(body));
        this.fields(type, body);
        return;
    }
  }

  /**
   * Walks a node's fields by its rule; a field the rule does not name is refused. (for…in rather
   * than Object.entries: this runs for every node of every query, and allocates nothing.)
   */
  private fields(type: string, body: Body, skip?: string): void {
    const rule = RULE_MAP.get(type);
    if (!rule) {
      this.refuseNode(type, locationOf(body));
      return;
    }
    for (const key in body) {
      if (key === skip) continue;
      const spec = rule.get(key);
      if (!spec) {
        this.refuseField(type, key, locationOf(body));
        return;
      }
      this.field(spec, body[key], body);
    }
  }

  private field(spec: FieldSpec, value: unknown, owner: Body): void {
    switch (spec) {
      case "scalar":
        if (value !== null && typeof value === "object") throw this.malformed();
        return;
      case "leaf":
        // A_Const payloads: `{ival: 1}`, `{sval: "x"}`, `{}` — plain values only.
        if (typeof value !== "object" || value === null || Array.isArray(value)) throw this.malformed();
        for (const key in value) {
          const inner = (value as Body)[key];
          if (inner !== null && typeof inner === "object") throw this.malformed();
        }
        return;
      case "node":
        this.node(value);
        return;
      case "names":
        names(value, () => this.malformed());
        return;
      case "operator":
        this.operator(value, owner);
        return;
      default: {
        const type = spec.slice("struct:".length);
        if (typeof value !== "object" || value === null || Array.isArray(value)) throw this.malformed();
        this.typed(type, value as Body);
        return;
      }
    }
  }

  private select(body: Body): void {
    if (body.intoClause !== undefined) this.refuseNode("IntoClause", locationOf(body.intoClause as Body));
    if (asArray(body.lockingClause).length > 0) this.refuseNode("LockingClause", undefined);
    const withClause = body.withClause as Body | undefined;
    const outer = this.scope;
    if (withClause) this.withClause(withClause);
    try {
      this.fields("SelectStmt", body, "withClause");
    } finally {
      this.scope = outer;
    }
  }

  /**
   * Declares the WITH queries in PostgreSQL's scoping: each sees the ones before it (all of them,
   * itself included, under RECURSIVE), and the main query sees all. Leaves the new scope active.
   */
  private withClause(withClause: Body): void {
    for (const key of Object.keys(withClause)) {
      if (!RULE_MAP.get("WithClause")?.has(key)) this.refuseField("WithClause", key, locationOf(withClause));
    }
    const recursive = withClause.recursive === true;
    const ctes = asArray(withClause.ctes).map((item) => {
      const [type, cte] = nodeEntry(item);
      if (type !== "CommonTableExpr" || !cte) throw this.malformed();
      return cte;
    });
    const scope: Scope = { names: new Set(), parent: this.scope };
    for (const cte of ctes) {
      const name = String(cte.ctename ?? "");
      if (this.visibleRelation(name)) {
        throw this.error(
          "cte_shadows_table",
          `The WITH query name "${name}" is also the name of a table; it may not hide it.`,
          locationOf(cte),
          { code: "invalid_argument", hint: `Rename the WITH query (e.g. "${name}_q") and its references.` },
        );
      }
      if (recursive) scope.names.add(name);
    }
    for (const cte of ctes) {
      const [queryType] = nodeEntry(cte.ctequery);
      if (queryType !== "SelectStmt") {
        this.refuseNode(queryType, locationOf(cte));
      }
      this.scope = scope;
      this.fields("CommonTableExpr", cte);
      scope.names.add(String(cte.ctename ?? ""));
    }
    this.scope = scope;
  }

  private inCteScope(name: string): boolean {
    for (let s = this.scope; s; s = s.parent) if (s.names.has(name)) return true;
    return false;
  }

  /** The relation an unqualified name would find on pg_catalog + the search path, if any. */
  private visibleRelation(name: string): QualifiedName | undefined {
    if (this.policy.relationExists("pg_catalog", name)) return { schema: "pg_catalog", name };
    for (const schema of this.policy.searchPath) {
      if (this.policy.relationExists(schema, name)) return { schema, name };
    }
    return undefined;
  }

  private rangeVar(body: Body): void {
    const location = typeof body.location === "number" ? body.location : undefined;
    if (body.catalogname !== undefined) {
      throw this.error("relation", "Database-qualified names (db.schema.table) are not supported.", location, {
        code: "invalid_argument",
        hint: "Write schema.table; the server is connected to one database.",
      });
    }
    const relname = String(body.relname ?? "");
    let resolved: QualifiedName;
    if (typeof body.schemaname === "string") {
      resolved = { schema: body.schemaname, name: relname };
    } else if (this.inCteScope(relname)) {
      this.fields("RangeVar", body);
      return;
    } else {
      resolved = this.visibleRelation(relname) ?? { schema: this.policy.searchPath[0] ?? "public", name: relname };
      this.insertBefore(location, relname, ` ${quoteAlways(resolved.schema)}.`);
    }
    if (!this.policy.tables.isAllowed(resolved.schema, resolved.name)) {
      const shown = typeof body.schemaname === "string" ? `${resolved.schema}.${relname}` : relname;
      throw this.error("relation", `Relation "${shown}" does not exist or is not available on this server.`, location, {
        code: "not_found",
        hint: "Call list_tables to see the tables you can query.",
        sqlstate: "42P01",
      });
    }
    this.seen.set(`${resolved.schema}\u0000${resolved.name}`, resolved);
    this.resolutions.set(body, resolved);
    this.fields("RangeVar", body);
  }

  private funcCall(body: Body): void {
    this.functionCalls++;
    const location = typeof body.location === "number" ? body.location : undefined;
    const parts = names(body.funcname, () => this.malformed());
    const name = parts[parts.length - 1] ?? "";
    const schema = parts.length === 2 ? parts[0] : undefined;
    const home = this.policy.functions.get(name);
    const allowed = parts.length <= 2 && home !== undefined && (schema === undefined || schema === home);
    if (!allowed) {
      throw this.error("function", `Function ${parts.join(".")}() is not allowed on this server.`, location, {
        code: "permission_denied",
        hint: "Only built-in functions that compute over their arguments can be called (string, math, date/time, JSON, array and aggregate functions); no file, network, sleep, settings, lock, sequence or catalog functions.",
      });
    }
    if (schema === undefined) this.insertBefore(location, name, ` ${quoteAlways(home)}.`);
    this.fields("FuncCall", body);
  }

  private typeName(body: Body): void {
    const location = typeof body.location === "number" ? body.location : undefined;
    const parts = names(body.names, () => this.malformed());
    const name = parts[parts.length - 1] ?? "";
    const ok =
      body.setof !== true &&
      body.pct_type !== true &&
      (parts.length === 1 || (parts.length === 2 && parts[0] === "pg_catalog")) &&
      SAFE_TYPES_SET.has(name);
    if (!ok) {
      throw this.error("type", `Type ${parts.join(".")} cannot be used here.`, location, {
        code: "permission_denied",
        hint: "Cast only to built-in value types (text, integer, numeric, date, timestamptz, jsonb, uuid, …).",
      });
    }
    this.fields("TypeName", body);
  }

  private tableSample(body: Body): void {
    const method = names(body.method, () => this.malformed());
    const location = typeof body.location === "number" ? body.location : undefined;
    if (method.length !== 1 || !SAFE_SAMPLING_METHODS.has(method[0] as string)) {
      throw this.error("function", `Sampling method ${method.join(".")} is not allowed.`, location, {
        code: "permission_denied",
        hint: "Use TABLESAMPLE SYSTEM or TABLESAMPLE BERNOULLI.",
      });
    }
    this.fields("RangeTableSample", body);
  }

  private operator(value: unknown, owner: Body): void {
    const parts = names(value, () => this.malformed());
    if (parts.length > 2 || (parts.length === 2 && parts[0] !== "pg_catalog")) {
      throw this.error("operator", `Operator ${parts.join(".")} is not allowed.`, locationOf(owner), {
        code: "permission_denied",
        hint: "Use operators unqualified or from pg_catalog.",
      });
    }
  }

  /**
   * Records a schema to insert before the identifier at `byteLocation`, after checking that the text
   * there really is that identifier (anything unexpected fails closed). The inserted text starts
   * with a space so it can never fuse with what precedes it (`U&` before a quote would otherwise
   * turn `U&lower(x)` into a Unicode identifier).
   */
  private insertBefore(byteLocation: number | undefined, identifier: string, text: string): void {
    const at = byteLocation === undefined || byteLocation < 0 ? -1 : this.positions.toIndex(byteLocation);
    if (at < 0 || readIdentifier(this.sql, at) !== identifier) {
      throw this.error("unverifiable", `Could not qualify the name "${identifier}" safely.`, byteLocation, {
        code: "invalid_argument",
        hint: `Write it schema-qualified (e.g. public.${identifier} or pg_catalog.${identifier}) and call again.`,
      });
    }
    this.insertions.push({ at, text });
  }

  private refuseNode(type: string | undefined, byteLocation: number | undefined): never {
    const what = own(CONSTRUCT_NAMES, type ?? "") ?? `the SQL construct ${type ?? "?"}`;
    throw this.error(
      "construct",
      `${capitalize(what)} ${what.endsWith("s") ? "are" : "is"} not allowed here.`,
      byteLocation,
      {
        code: "permission_denied",
        hint: "Rewrite the query as a plain SELECT over allowed tables using common expressions.",
      },
    );
  }

  private refuseField(type: string, field: string, byteLocation: number | undefined): never {
    throw this.error("construct", `The ${field} part of ${type} is not supported.`, byteLocation, {
      code: "permission_denied",
      hint: "Rewrite the query as a plain SELECT over allowed tables using common expressions.",
    });
  }

  private malformed(): GuardError {
    return new GuardError("unverifiable", "The query's parse tree has an unexpected shape.", {
      code: "invalid_argument",
      hint: "Simplify the query.",
    });
  }

  private error(
    rule: GuardError["rule"],
    message: string,
    byteLocation: number | undefined,
    options: { code: GuardError["code"]; hint: string; sqlstate?: string },
  ): GuardError {
    const position =
      byteLocation !== undefined && byteLocation >= 0 ? this.positions.toPosition(byteLocation) : undefined;
    return new GuardError(rule, message, {
      ...options,
      ...(position !== undefined ? { position } : {}),
      sqlstate: options.sqlstate ?? (options.code === "permission_denied" ? "42501" : "42000"),
    });
  }
}

function nodeEntry(value: unknown): [string | undefined, Body | undefined] {
  if (!value || typeof value !== "object" || Array.isArray(value)) return [undefined, undefined];
  const type = soleKey(value);
  if (type === undefined || type === EMPTY) return [undefined, undefined];
  return [type, (value as Body)[type] as Body];
}

/** What soleKey returns for an object without keys (the parser's empty placeholder `{}`). */
const EMPTY = Symbol("empty");

/**
 * The one key of a wrapped node (`{Type: {...}}`): EMPTY when it has none, undefined when it has
 * more than one. Keys inherited through a polluted prototype count too, so they fail closed.
 */
function soleKey(value: object): string | typeof EMPTY | undefined {
  let type: string | typeof EMPTY = EMPTY;
  for (const key in value) {
    if (type !== EMPTY) return undefined;
    type = key;
  }
  return type;
}

const asArray = (value: unknown): unknown[] => (Array.isArray(value) ? value : value === undefined ? [] : [value]);

/** A list of `{String: {sval}}` nodes as plain strings. */
function names(value: unknown, malformed: () => Error): string[] {
  return asArray(value).map((item) => {
    const [type, body] = nodeEntry(item);
    if (type !== "String" || typeof body?.sval !== "string") throw malformed();
    return body.sval;
  });
}

function locationOf(body: Body | undefined): number | undefined {
  return typeof body?.location === "number" && body.location >= 0 ? body.location : undefined;
}

function isEnabled(arg: unknown): boolean {
  const [type, body] = nodeEntry(arg);
  if (type === undefined) return true;
  if (type === "Boolean") return body?.boolval === true;
  if (type === "String") return !["false", "off", "0", "no"].includes(String(body?.sval).toLowerCase());
  if (type === "Integer") return body?.ival !== undefined && body.ival !== 0;
  return true;
}

const capitalize = (text: string) => text.charAt(0).toUpperCase() + text.slice(1);

/** PostgreSQL's identifier characters: letters, `_` and every non-ASCII code unit; then digits and `$`. */
const isIdentifierStart = (code: number) =>
  (code >= 0x61 && code <= 0x7a) || (code >= 0x41 && code <= 0x5a) || code === 0x5f || code >= 0x80;
const isIdentifierPart = (code: number) => isIdentifierStart(code) || (code >= 0x30 && code <= 0x39) || code === 0x24;

/**
 * The identifier starting at `index` as PostgreSQL would read it: a quoted identifier verbatim, an
 * unquoted one lower-cased; either truncated to 63 bytes. Undefined for anything else (including
 * U&"…" identifiers, which the guard does not try to decode).
 */
export function readIdentifier(text: string, index: number): string | undefined {
  let value: string;
  if (text[index] === '"') {
    let i = index + 1;
    value = "";
    for (;;) {
      const ch = text[i];
      if (ch === undefined) return undefined;
      if (ch === '"') {
        if (text[i + 1] === '"') {
          value += '"';
          i += 2;
          continue;
        }
        break;
      }
      value += ch;
      i++;
    }
  } else {
    if (!isIdentifierStart(text.charCodeAt(index))) return undefined;
    let end = index + 1;
    while (end < text.length && isIdentifierPart(text.charCodeAt(end))) end++;
    // Only ASCII letters are folded, as PostgreSQL does for UTF-8.
    value = text.slice(index, end).replace(/[A-Z]+/g, (s) => s.toLowerCase());
  }
  return truncateIdentifier(value);
}

function truncateIdentifier(value: string): string {
  // A UTF-16 code unit is at most 3 bytes of UTF-8: short names need no byte count.
  if (value.length <= 21) return value;
  const bytes = Buffer.from(value, "utf8");
  if (bytes.length <= 63) return value;
  let end = 63;
  // Never cut inside a multi-byte character.
  while (end > 0 && ((bytes[end] as number) & 0xc0) === 0x80) end--;
  return bytes.subarray(0, end).toString("utf8");
}

/** Inserts texts at character indices; maps positions in the result back to the original. */
function applyInsertions(
  text: string,
  insertions: readonly Insertion[],
): { text: string; toOriginal(position: number): number } {
  const sorted = insertions.length > 1 ? [...insertions].sort((a, b) => a.at - b.at) : insertions;
  let out = "";
  let cursor = 0;
  // Start (0-based, in the rewritten text) and length of each inserted span.
  const spans: Array<{ start: number; length: number }> = [];
  for (const insertion of sorted) {
    out += text.slice(cursor, insertion.at);
    spans.push({ start: out.length, length: insertion.text.length });
    out += insertion.text;
    cursor = insertion.at;
  }
  out += text.slice(cursor);
  return {
    text: out,
    toOriginal(position) {
      const index = position - 1;
      let shift = 0;
      for (const span of spans) {
        if (index >= span.start + span.length) shift += span.length;
        else if (index >= span.start) return span.start - shift + 1;
      }
      return index - shift + 1;
    },
  };
}
