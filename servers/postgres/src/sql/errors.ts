/** Why the guard refused a query. Pure data: the tool layer turns it into a tool error. */
export type GuardRule =
  | "syntax"
  | "empty"
  | "multiple_statements"
  | "statement_type"
  | "relation"
  | "function"
  | "type"
  | "operator"
  | "construct"
  | "cte_shadows_table"
  | "explain_option"
  | "unverifiable";

export interface GuardErrorOptions {
  code: "invalid_argument" | "permission_denied" | "not_found";
  hint: string;
  /** 1-based character position in the query text, PostgreSQL's convention. */
  position?: number;
  sqlstate?: string;
}

export class GuardError extends Error {
  readonly rule: GuardRule;
  readonly code: GuardErrorOptions["code"];
  readonly hint: string;
  readonly position: number | undefined;
  readonly sqlstate: string | undefined;

  constructor(rule: GuardRule, message: string, options: GuardErrorOptions) {
    super(message);
    this.name = "GuardError";
    this.rule = rule;
    this.code = options.code;
    this.hint = options.hint;
    this.position = options.position;
    this.sqlstate = options.sqlstate;
  }
}

/** Line and column (both 1-based) of a 1-based character position, for messages. */
export function lineAndColumn(text: string, position: number): { line: number; column: number } {
  const before = text.slice(0, Math.max(0, position - 1));
  const lines = before.split("\n");
  return { line: lines.length, column: (lines[lines.length - 1]?.length ?? 0) + 1 };
}
