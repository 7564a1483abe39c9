import type { CallToolResult, ContentBlock, Tool as ToolListing } from "@modelcontextprotocol/sdk/types.js";
import { z } from "zod";
import type { ResponseBudget } from "./budget.js";
import { internalError, isToolError, newErrorId, ToolError } from "./errors.js";
import type { Logger } from "./log.js";
import { UNTRUSTED_META_KEY } from "./sanitize.js";
import type { Session } from "./session.js";

/** Every tool states all four hints, so a host can decide what to confirm with the user. */
export interface ToolAnnotations {
  readOnlyHint: boolean;
  destructiveHint: boolean;
  idempotentHint: boolean;
  openWorldHint: boolean;
}

export interface ToolContext {
  /** Aborted when the client cancels the call, the session ends, or the tool's timeout passes. */
  signal: AbortSignal;
  /** Sends an MCP progress notification when the client asked for progress; a no-op otherwise. */
  progress(progress: number, total?: number, message?: string): Promise<void>;
  log: Logger;
  budget: ResponseBudget;
  session: Session;
}

export interface ToolReply<D> {
  /** Structured result, validated against the tool's output schema and sent as `structuredContent`. */
  data?: D;
  /** Text for the model. Defaults to the tool's `render(data)`, else compact JSON of `data`. */
  text?: string;
  /** Extra content blocks after the text (images, resource links). */
  content?: ContentBlock[];
  /** Marks the result as third-party content (web pages, issue bodies, file text). */
  untrusted?: boolean;
}

type DataOf<O> = O extends z.ZodType ? z.input<O> : never;

export interface ToolDefinition<I extends z.ZodObject, O extends z.ZodObject | undefined> {
  name: string;
  title: string;
  /** Written for the model: what it does, when to use it, what it returns, its limits. */
  description: string;
  input: I;
  output?: O;
  annotations: ToolAnnotations;
  /** Aborts the handler's signal after this long. */
  timeoutMs?: number;
  handler(args: z.output<I>, ctx: ToolContext): Promise<ToolReply<DataOf<O>>>;
  render?(data: DataOf<O>): string;
}

/** A defined tool, with its handler wrapped so every outcome becomes a well-formed tool result. */
export interface Tool {
  readonly name: string;
  readonly annotations: ToolAnnotations;
  /** The `tools/list` entry (JSON Schemas computed once, on first listing). */
  listing(): ToolListing;
  call(args: unknown, ctx: ToolContext): Promise<CallToolResult>;
}

const NAME = /^[a-z][a-z0-9_]{0,63}$/;

export function defineTool<I extends z.ZodObject, O extends z.ZodObject | undefined = undefined>(
  def: ToolDefinition<I, O>,
): Tool {
  if (!NAME.test(def.name)) throw new Error(`tool name ${def.name} must be snake_case`);
  let listing: ToolListing | undefined;
  return {
    name: def.name,
    annotations: def.annotations,
    listing() {
      listing ??= {
        name: def.name,
        title: def.title,
        description: def.description,
        inputSchema: toJsonSchema(def.input, "input"),
        ...(def.output ? { outputSchema: toJsonSchema(def.output, "output") } : {}),
        annotations: { title: def.title, ...def.annotations },
      };
      return listing;
    },
    async call(rawArgs, ctx) {
      const parsed = def.input.safeParse(rawArgs ?? {});
      if (!parsed.success) return errorResult(invalidArguments(def.name, parsed.error));
      const limited = def.timeoutMs === undefined ? undefined : withDeadline(ctx, def.name, def.timeoutMs);
      const runCtx = limited?.ctx ?? ctx;
      try {
        const work = def.handler(parsed.data as z.output<I>, runCtx);
        const reply = await (limited ? Promise.race([work, limited.expired]) : work);
        return toResult(def, reply, runCtx);
      } catch (error) {
        return errorResult(classify(error, runCtx, def.name));
      } finally {
        limited?.clear();
      }
    },
  };
}

/**
 * Gives the handler a signal that also aborts at the deadline, and a promise that rejects then, so
 * the call answers on time even if the handler ignores its signal.
 */
function withDeadline(ctx: ToolContext, tool: string, ms: number) {
  const controller = new AbortController();
  const error = new ToolError("timeout", `${tool} did not finish within ${ms / 1000} s and was stopped.`, {
    hint: "Ask for less at once (a narrower query, a smaller page, fewer items) and call again.",
  });
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      controller.abort(error);
      reject(error);
    }, ms);
  });
  expired.catch(() => undefined);
  return {
    ctx: { ...ctx, signal: AbortSignal.any([ctx.signal, controller.signal]) },
    expired,
    clear: () => clearTimeout(timer),
  };
}

function toJsonSchema(schema: z.ZodObject, io: "input" | "output"): ToolListing["inputSchema"] {
  const json = z.toJSONSchema(schema, { io, unrepresentable: "any" }) as Record<string, unknown>;
  delete json.$schema;
  return json as ToolListing["inputSchema"];
}

function invalidArguments(tool: string, error: z.ZodError): ToolError {
  const problems = error.issues.map((issue) => {
    const where = issue.path.length ? issue.path.map(String).join(".") : "(arguments)";
    return `\`${where}\`: ${issue.message}`;
  });
  const first = error.issues[0]?.path[0];
  return new ToolError("invalid_argument", `Invalid arguments for ${tool}: ${problems.join("; ")}`, {
    hint: "Fix the named argument(s) to match the tool's input schema and call again.",
    ...(first !== undefined ? { details: { argument: String(first) } } : {}),
  });
}

function classify(error: unknown, ctx: ToolContext, tool: string): ToolError {
  if (isToolError(error)) return error;
  if (ctx.signal.aborted) {
    const reason = ctx.signal.reason;
    if (reason instanceof ToolError) return reason;
    return new ToolError("cancelled", "The call was cancelled before it finished.");
  }
  const id = newErrorId();
  ctx.log.error(`tool ${tool} failed unexpectedly`, { errorId: id, error });
  return internalError(id);
}

function errorResult(error: ToolError): CallToolResult {
  return {
    content: [{ type: "text", text: error.render() }],
    isError: true,
    _meta: { "io.portside/error": { code: error.code, ...(error.details ?? {}) } },
  };
}

function toResult<I extends z.ZodObject, O extends z.ZodObject | undefined>(
  def: ToolDefinition<I, O>,
  reply: ToolReply<DataOf<O>>,
  ctx: ToolContext,
): CallToolResult {
  let structured: Record<string, unknown> | undefined;
  if (def.output) {
    const checked = def.output.safeParse(reply.data);
    if (!checked.success) {
      const id = newErrorId();
      ctx.log.error(`tool ${def.name} produced output that does not match its schema`, {
        errorId: id,
        issues: checked.error.issues.slice(0, 5),
      });
      return errorResult(internalError(id));
    }
    structured = reply.data as Record<string, unknown>;
  }
  let text = reply.text;
  if (text === undefined && reply.data !== undefined) {
    text = def.render ? def.render(reply.data) : JSON.stringify(reply.data);
  }
  const content: ContentBlock[] = [];
  if (text !== undefined) {
    const clipped = ctx.budget.clipText(
      text,
      "The result is larger than the response budget; ask for less (use the tool's paging, limit or filter arguments).",
    );
    content.push({ type: "text", text: clipped.text });
  }
  if (reply.content) content.push(...reply.content);
  const result: CallToolResult = { content };
  if (structured !== undefined) result.structuredContent = structured;
  if (reply.untrusted) result._meta = { [UNTRUSTED_META_KEY]: true };
  return result;
}
