import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { Protocol } from "@modelcontextprotocol/sdk/shared/protocol.js";
import {
  CallToolRequestSchema,
  ErrorCode,
  ListToolsRequestSchema,
  type LoggingLevel,
  McpError,
  SetLevelRequestSchema,
} from "@modelcontextprotocol/sdk/types.js";
import type { jsonSchemaValidator } from "@modelcontextprotocol/sdk/validation/types.js";
import { ResponseBudget } from "./budget.js";
import { ConfigError, type ConfigOf, type OptionsSpec, parseCommandLine, renderHelp } from "./config.js";
import { type HostOptions, hostOptions } from "./host-options.js";
import { createLogger, type Logger, type LogLevel, severity } from "./log.js";
import { McpSession, type Session } from "./session.js";
import { StdioTransport } from "./stdio.js";
import type { Tool, ToolContext } from "./tool.js";

export interface ServerInfo {
  /** npm package name, e.g. `@portside/server-filesystem`. */
  name: string;
  version: string;
  title: string;
  description: string;
  /** Command name shown in `--help`. */
  bin: string;
  /** Usage line after the command name. */
  usage?: string;
}

export interface HostEnvironment {
  log: Logger;
  transport: "stdio" | "http";
}

/** What a server's `start` builds once per process; sessions share it. */
export interface ServerApp {
  instructions?: string;
  tools: readonly Tool[];
  /** Registers resources and prompts on each session's McpServer. */
  setupSession?(mcp: McpServer, session: Session): void;
  close?(): Promise<void>;
}

export interface ServerSpec<S extends OptionsSpec> {
  info: ServerInfo;
  options: S;
  start(config: ConfigOf<S>, env: HostEnvironment): Promise<ServerApp> | ServerApp;
}

export const defineServer = <S extends OptionsSpec>(spec: ServerSpec<S>): ServerSpec<S> => spec;

export interface SessionServer {
  mcp: McpServer;
  session: McpSession;
}

export interface SessionOptions {
  id: string;
  log: Logger;
  maxResponseChars: number;
}

/** Builds the MCP server object for one session: tools, logging, and the app's resources. */
export function createSessionServer(info: ServerInfo, app: ServerApp, options: SessionOptions): SessionServer {
  const mcp = new McpServer(
    { name: info.name, version: info.version, title: info.title },
    {
      capabilities: { logging: {} },
      jsonSchemaValidator: noElicitation,
      ...(app.instructions ? { instructions: app.instructions } : {}),
    },
  );
  const server = mcp.server;
  let clientLevel: LoggingLevel | undefined;
  const log = options.log.withSink((level, logger, message, fields) => {
    if (clientLevel === undefined || severity(level) < severity(clientLevel as LogLevel)) return;
    void server
      .sendLoggingMessage({ level, logger, data: fields ? { message, ...fields } : message })
      .catch(() => undefined);
  });
  const session = new McpSession(server, options.id, log);
  server.setRequestHandler(SetLevelRequestSchema, (request) => {
    clientLevel = request.params.level;
    return {};
  });

  const tools = new Map(app.tools.map((tool) => [tool.name, tool]));
  const budget = new ResponseBudget(options.maxResponseChars);
  server.registerCapabilities({ tools: { listChanged: false } });
  server.setRequestHandler(ListToolsRequestSchema, () => ({ tools: app.tools.map((tool) => tool.listing()) }));
  // Server.setRequestHandler wraps tools/call to parse the request a second time and check the result
  // against the protocol schema; defineTool builds every result to that schema already, so the
  // handler is registered on the protocol layer directly and skips both on every call.
  Protocol.prototype.setRequestHandler.call(server, CallToolRequestSchema, async (request, extra) => {
    const tool = tools.get(request.params.name);
    if (!tool) {
      throw new McpError(
        ErrorCode.InvalidParams,
        `Unknown tool ${JSON.stringify(request.params.name)}. Call tools/list for the available tools.`,
      );
    }
    const progressToken = request.params._meta?.progressToken;
    // The protocol aborts every running call when the connection closes, which is how a session ends.
    const signal = extra.signal;
    // Progress sent without being awaited must still reach the client before the result does.
    const unsent = new Set<Promise<void>>();
    let sentProgress = false;
    const ctx: ToolContext = {
      signal,
      log,
      budget,
      session,
      progress(progress, total, message) {
        if (progressToken === undefined || signal.aborted) return Promise.resolve();
        const sending = extra
          .sendNotification({
            method: "notifications/progress",
            params: {
              progressToken,
              progress,
              ...(total !== undefined ? { total } : {}),
              ...(message !== undefined ? { message } : {}),
            },
          })
          .catch(() => undefined)
          .finally(() => unsent.delete(sending));
        unsent.add(sending);
        sentProgress = true;
        return sending;
      },
    };
    const result = await tool.call(request.params.arguments, ctx);
    if (unsent.size > 0) await Promise.all(unsent);
    // The SDK client handles a notification a microtask after it arrives but a response at once, and
    // forgets the call's progress handler with the response: a progress notification that reaches it
    // in the same read as the result is dropped (and reported as an error). A short pause after the
    // last progress lets it go out on its own.
    if (sentProgress) await new Promise((resolve) => setTimeout(resolve, PROGRESS_SETTLE_MS));
    return result;
  });
  app.setupSession?.(mcp, session);
  server.onclose = () => {
    void session.end();
  };
  return { mcp, session };
}

/**
 * The SDK uses a JSON Schema validator only to check elicitation answers. Portside servers never
 * elicit, so they skip building Ajv (a large share of start-up time) and refuse instead.
 */
const noElicitation: jsonSchemaValidator = {
  getValidator: () => () => ({
    valid: false,
    data: undefined,
    errorMessage: "This server does not use elicitation.",
  }),
};

export type HostConfig = ConfigOf<HostOptions>;

/** See the tools/call handler: how long a result waits behind the call's last progress notification. */
const PROGRESS_SETTLE_MS = 5;

/**
 * The one entry every server's CLI calls: reads settings, starts the app, and serves it over stdio
 * or Streamable HTTP until told to stop.
 */
export async function runServer<S extends OptionsSpec>(
  spec: ServerSpec<S>,
  argv: readonly string[] = process.argv.slice(2),
  env: Readonly<Record<string, string | undefined>> = process.env,
): Promise<void> {
  const all = { ...hostOptions, ...spec.options };
  let parsed: ReturnType<typeof parseCommandLine<typeof all>>;
  try {
    parsed = parseCommandLine(all, argv, env);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${spec.info.bin}: ${error.message}. Run ${spec.info.bin} --help for usage.\n`);
      process.exit(2);
    }
    throw error;
  }
  if (parsed.kind === "help") {
    process.stdout.write(
      renderHelp(spec.info, [
        { title: "Server settings", spec: spec.options },
        { title: "Transport, security and limits", spec: hostOptions },
      ]),
    );
    return;
  }
  if (parsed.kind === "version") {
    process.stdout.write(`${spec.info.version}\n`);
    return;
  }
  const config = parsed.config as ConfigOf<S> & HostConfig;
  const log = createLogger({ level: config.logLevel, name: spec.info.bin });
  if (!config.http) protectStdout();
  installCrashGuards(log);

  let app: ServerApp;
  try {
    app = await spec.start(config, { log, transport: config.http ? "http" : "stdio" });
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${spec.info.bin}: ${error.message}\n`);
      process.exit(2);
    }
    log.error("server failed to start", { error });
    process.exit(1);
  }

  if (config.http) {
    const { serveHttp } = await import("./http.js");
    try {
      await serveHttp(spec.info, app, config, log);
    } catch (error) {
      if (error instanceof ConfigError) {
        process.stderr.write(`${spec.info.bin}: ${error.message}\n`);
        await app.close?.();
        process.exit(2);
      }
      throw error;
    }
    return;
  }
  await serveStdio(spec.info, app, config, log);
}

async function serveStdio(info: ServerInfo, app: ServerApp, config: HostConfig, log: Logger): Promise<void> {
  const { mcp, session } = createSessionServer(info, app, {
    id: "stdio",
    log,
    maxResponseChars: config.maxResponseChars,
  });
  const transport = new StdioTransport({ maxMessageBytes: config.maxMessageBytes, log });
  let stopping = false;
  const stop = async (reason: string) => {
    if (stopping) return;
    stopping = true;
    log.debug("shutting down", { reason });
    const force = setTimeout(() => process.exit(0), 5000);
    force.unref();
    await session.end();
    await mcp.close().catch(() => undefined);
    await app.close?.().catch((error: unknown) => log.warn("close failed", { error }));
    process.exit(0);
  };
  transport.onclose = () => void stop("stdin closed");
  process.once("SIGTERM", () => void stop("SIGTERM"));
  process.once("SIGINT", () => void stop("SIGINT"));
  await mcp.connect(transport);
}

/** In a stdio server, stdout is the protocol: anything a library prints goes to stderr instead. */
function protectStdout(): void {
  const toStderr = (...args: unknown[]) => {
    process.stderr.write(`${args.map((a) => (typeof a === "string" ? a : JSON.stringify(a))).join(" ")}\n`);
  };
  console.log = toStderr;
  console.info = toStderr;
  console.debug = toStderr;
  console.dir = toStderr;
  console.table = toStderr;
}

function installCrashGuards(log: Logger): void {
  process.on("unhandledRejection", (reason) => log.error("unhandled rejection", { error: reason }));
  process.on("uncaughtException", (error) => log.error("uncaught exception", { error }));
  process.stdout.on("error", (error: NodeJS.ErrnoException) => {
    if (error.code === "EPIPE") process.exit(0);
  });
}
