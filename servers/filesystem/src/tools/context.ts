/** What every filesystem tool shares: the sandbox of the session, and error translation. */
import { type ToolContext, ToolError } from "@portside/shared";
import type { FilesystemConfig } from "../config.js";
import { fromSystemError } from "../fs/errno.js";
import { FsError } from "../sandbox/errors.js";
import { type OpenedFile, openDirectory, openFileForReading, type PinnedDir } from "../sandbox/pinned.js";
import { rootUriToPath } from "../sandbox/roots.js";
import type { ResolvedPath, ResolveOptions, Sandbox } from "../sandbox/sandbox.js";

export interface FilesystemApp {
  config: FilesystemConfig;
  /** The operator's directories; a session's sandbox is this, narrowed by the client's roots. */
  operator: Sandbox;
}

const SESSION_SANDBOX = { key: "filesystem sandbox" };

interface SessionSandbox {
  current: Promise<Sandbox> | undefined;
}

/**
 * The session's effective sandbox: the operator's directories, narrowed to the client's roots when
 * the client offers any file:// roots. Recomputed after the client says its roots changed.
 */
export function sessionSandbox(app: FilesystemApp, ctx: ToolContext): Promise<Sandbox> {
  const state = ctx.session.state<SessionSandbox>(SESSION_SANDBOX, () => {
    const created: SessionSandbox = { current: undefined };
    ctx.session.onRootsChanged(() => {
      created.current = undefined;
    });
    return created;
  });
  state.current ??= computeSandbox(app, ctx).catch((error: unknown) => {
    state.current = undefined;
    throw error;
  });
  return state.current;
}

async function computeSandbox(app: FilesystemApp, ctx: ToolContext): Promise<Sandbox> {
  let roots: Awaited<ReturnType<typeof ctx.session.listRoots>>;
  try {
    roots = await ctx.session.listRoots();
  } catch (error) {
    ctx.log.warn("could not list the client's roots", { error });
    throw new ToolError("unavailable", "The client offers roots but did not say what they are.", {
      hint: "Try again; if it keeps failing, the client's roots support is broken.",
    });
  }
  const paths = (roots ?? []).map((root) => rootUriToPath(root.uri)).filter((p): p is string => p !== undefined);
  // No file:// roots at all means the client does not narrow anything.
  if (paths.length === 0) return app.operator;
  const narrowed = await app.operator.narrow(paths);
  ctx.log.debug("sandbox narrowed to the client's roots", { roots: paths, effective: narrowed.directories });
  return narrowed;
}

/** The ToolError for an FsError: the code, the message, the rule and argument in details. */
export function toToolError(error: FsError): ToolError {
  const details: Record<string, unknown> = { ...(error.details ?? {}) };
  if (error.argument) details.argument = error.argument;
  if (error.rule) details.rule = error.rule;
  const message = error.rule ? `${error.message} (rule: ${error.rule})` : error.message;
  return new ToolError(error.code, message, {
    ...(error.hint ? { hint: error.hint } : {}),
    ...(Object.keys(details).length ? { details } : {}),
  });
}

/**
 * Runs one step of a tool on behalf of an argument, turning sandbox refusals and system errors
 * into tool errors that name it. Anything else is a bug and is left to surface as `internal`.
 */
export async function step<T>(argument: string, shown: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    throw translate(error, argument, shown);
  }
}

export function translate(error: unknown, argument: string, shown: string): unknown {
  if (error instanceof ToolError) return error;
  if (error instanceof FsError) return toToolError(error);
  const mapped = fromSystemError(error, argument, shown);
  return mapped ? toToolError(mapped) : error;
}

/** Resolves a path argument in the session's sandbox. */
export async function resolveArgument(
  app: FilesystemApp,
  ctx: ToolContext,
  raw: string,
  options: ResolveOptions,
): Promise<{ sandbox: Sandbox; resolved: ResolvedPath }> {
  const sandbox = await sessionSandbox(app, ctx);
  const resolved = await step(options.argument, raw, () => sandbox.resolve(raw, options));
  return { sandbox, resolved };
}

/** Opens a resolved file for reading, runs `use`, and closes it. */
export async function withFile<T>(
  sandbox: Sandbox,
  resolved: ResolvedPath,
  argument: string,
  use: (file: OpenedFile) => Promise<T>,
): Promise<T> {
  const file = await step(argument, resolved.requested, () => openFileForReading(resolved.real, sandbox, argument));
  try {
    return await step(argument, resolved.requested, () => use(file));
  } finally {
    await file.handle.close();
  }
}

/** Opens a resolved directory, runs `use`, and closes it. */
export async function withDirectory<T>(
  sandbox: Sandbox,
  real: string,
  argument: string,
  shown: string,
  use: (dir: PinnedDir) => Promise<T>,
): Promise<T> {
  const dir = await step(argument, shown, () => openDirectory(real, sandbox, argument));
  try {
    return await step(argument, shown, () => use(dir));
  } finally {
    dir.close();
  }
}

/** Room for the text of a result, leaving space for notes the tool adds. */
export const textRoom = (ctx: ToolContext): number => Math.max(1000, ctx.budget.maxChars - 400);

export const READ_ONLY = { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false };

/** Progress notifications at most every `intervalMs`, so a long walk does not flood the client. */
export function throttledProgress(
  ctx: ToolContext,
  intervalMs = 250,
): (done: number, total: number | undefined, message: string) => void {
  let last = 0;
  return (done, total, message) => {
    const now = performance.now();
    if (now - last < intervalMs) return;
    last = now;
    void ctx.progress(done, total, message);
  };
}
