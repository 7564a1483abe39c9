import { createHash, randomUUID, timingSafeEqual } from "node:crypto";
import { createServer, type IncomingMessage, type Server as NodeHttpServer, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { AuthInfo } from "@modelcontextprotocol/sdk/server/auth/types.js";
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import { isInitializeRequest } from "@modelcontextprotocol/sdk/types.js";
import { ConfigError } from "./config.js";
import type { Logger } from "./log.js";
import { createSessionServer, type HostConfig, type ServerApp, type ServerInfo, type SessionServer } from "./server.js";

export interface HttpHost {
  /** The MCP endpoint, e.g. http://127.0.0.1:3000/mcp. */
  url: URL;
  sessionCount(): number;
  close(): Promise<void>;
}

interface SessionEntry extends SessionServer {
  transport: StreamableHTTPServerTransport;
  lastSeen: number;
  active: number;
}

type Verifier = (token: string) => Promise<AuthInfo>;

const MCP_PATH = "/mcp";
const METADATA_PATH = "/.well-known/oauth-protected-resource";

const isLoopback = (host: string) =>
  host === "localhost" || host === "::1" || host === "[::1]" || /^127(?:\.\d{1,3}){3}$/.test(host);

/** Serves the app over Streamable HTTP with sessions, Host/Origin checks, bearer auth and limits. */
export async function serveHttp(
  info: ServerInfo,
  app: ServerApp,
  config: HostConfig,
  log: Logger,
  options: { handleSignals?: boolean } = {},
): Promise<HttpHost> {
  const authEnabled = Boolean(config.authToken || config.jwksUrl);
  if (!isLoopback(config.host) && !authEnabled && !config.allowNoAuth) {
    throw new ConfigError(
      `refusing to serve ${config.host} without authentication: set MCP_AUTH_TOKEN or --jwks-url, or pass --allow-no-auth behind a trusted proxy`,
    );
  }
  const sessions = new Map<string, SessionEntry>();
  let pending = 0;
  let resourceUrl: URL;
  let allowedHosts: string[] = [];
  let allowedOrigins: string[] = [];
  const verify = await createVerifier(config, () => resourceUrl);

  const server: NodeHttpServer = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      log.error("HTTP request failed", { error });
      if (!res.headersSent) sendError(res, 500, -32603, "Internal server error");
      else res.end();
    });
  });
  server.requestTimeout = 0;
  server.headersTimeout = 30_000;

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://placeholder");
    if (!hostAllowed(req.headers.host, allowedHosts)) {
      sendError(res, 403, -32000, "Forbidden: Host header not allowed (DNS-rebinding protection).");
      return;
    }
    const origin = req.headers.origin;
    if (origin !== undefined && !allowedOrigins.includes(origin.toLowerCase())) {
      sendError(res, 403, -32000, "Forbidden: Origin not allowed.");
      return;
    }
    if (url.pathname === "/healthz") {
      sendJson(res, 200, { status: "ok", name: info.name, version: info.version, sessions: sessions.size });
      return;
    }
    if (url.pathname === METADATA_PATH || url.pathname === `${METADATA_PATH}${MCP_PATH}`) {
      sendJson(res, 200, {
        resource: resourceUrl.href,
        ...(config.jwtIssuer ? { authorization_servers: [config.jwtIssuer] } : {}),
        bearer_methods_supported: ["header"],
        resource_name: info.title,
      });
      return;
    }
    if (url.pathname !== MCP_PATH) {
      sendError(res, 404, -32000, `Not found: the MCP endpoint is ${MCP_PATH}.`);
      return;
    }

    let auth: AuthInfo | undefined;
    if (verify) {
      const header = req.headers.authorization;
      const token = header?.match(/^Bearer\s+(\S+)\s*$/i)?.[1];
      if (!token) {
        unauthorized(res, undefined);
        return;
      }
      try {
        auth = await verify(token);
      } catch (error) {
        unauthorized(res, error instanceof Error ? error.message : "invalid token");
        return;
      }
    }

    const sessionId = headerValue(req.headers["mcp-session-id"]);
    if (sessionId !== undefined) {
      const entry = sessions.get(sessionId);
      if (!entry) {
        sendError(res, 404, -32001, "Session not found: it ended or expired. Start a new session with initialize.");
        return;
      }
      const body = req.method === "POST" ? await readJson(req, res, config.maxBodyBytes) : undefined;
      if (body === INVALID) return;
      await track(entry, req, res, auth, body);
      return;
    }
    if (req.method !== "POST") {
      sendError(res, 400, -32000, "Bad request: Mcp-Session-Id header required.");
      return;
    }
    const body = await readJson(req, res, config.maxBodyBytes);
    if (body === INVALID) return;
    const initializing = Array.isArray(body) ? body.some(isInitializeRequest) : isInitializeRequest(body);
    if (!initializing) {
      sendError(res, 400, -32000, "Bad request: no session; the first request must be initialize.");
      return;
    }
    if (sessions.size + pending >= config.maxSessions) {
      res.setHeader("Retry-After", "30");
      sendError(res, 503, -32000, `Too many sessions (limit ${config.maxSessions}); try again later.`);
      return;
    }
    const id = randomUUID();
    const transport = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => id,
      onsessioninitialized: () => {
        sessions.set(id, entry);
      },
      onsessionclosed: () => {
        void closeSession(id);
      },
    });
    const created = createSessionServer(info, app, {
      id,
      log: log.child(`session.${id.slice(0, 8)}`),
      maxResponseChars: config.maxResponseChars,
    });
    const entry: SessionEntry = { ...created, transport, lastSeen: Date.now(), active: 0 };
    pending++;
    try {
      await created.mcp.connect(transport);
      await track(entry, req, res, auth, body);
    } finally {
      pending--;
    }
    if (!sessions.has(id)) await created.mcp.close().catch(() => undefined);
  }

  async function track(
    entry: SessionEntry,
    req: IncomingMessage,
    res: ServerResponse,
    auth: AuthInfo | undefined,
    body: unknown,
  ): Promise<void> {
    entry.active++;
    entry.lastSeen = Date.now();
    res.once("close", () => {
      entry.active--;
      entry.lastSeen = Date.now();
    });
    if (auth) (req as IncomingMessage & { auth?: AuthInfo }).auth = auth;
    await entry.transport.handleRequest(req, res, body);
  }

  async function closeSession(id: string): Promise<void> {
    const entry = sessions.get(id);
    if (!entry) return;
    sessions.delete(id);
    await entry.mcp.close().catch(() => undefined);
    await entry.session.end();
  }

  function unauthorized(res: ServerResponse, problem: string | undefined): void {
    const metadata = new URL(`${METADATA_PATH}${MCP_PATH}`, resourceUrl).href;
    const parts = [`resource_metadata="${metadata}"`];
    if (problem !== undefined) {
      parts.unshift(`error="invalid_token"`, `error_description="${problem.replace(/["\\]/g, "'")}"`);
    }
    res.setHeader("WWW-Authenticate", `Bearer ${parts.join(", ")}`);
    sendError(
      res,
      401,
      -32001,
      problem === undefined ? "Unauthorized: send Authorization: Bearer <token>." : `Unauthorized: ${problem}`,
    );
  }

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(config.port, config.host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const hostForUrl = address.family === "IPv6" ? `[${address.address}]` : address.address;
  const url = new URL(`http://${hostForUrl}:${address.port}${MCP_PATH}`);
  resourceUrl = config.resourceUrl ? new URL(config.resourceUrl) : url;
  allowedHosts = (config.allowedHosts.length ? config.allowedHosts : defaultHosts(config.host, address.port)).map((h) =>
    h.toLowerCase(),
  );
  allowedOrigins = (
    config.allowedOrigins.length ? config.allowedOrigins : defaultOrigins(config.host, address.port)
  ).map((o) => o.toLowerCase().replace(/\/$/, ""));

  const idleMs = config.sessionIdleSeconds * 1000;
  const sweeper = setInterval(
    () => {
      const now = Date.now();
      for (const [id, entry] of sessions) {
        if (entry.active === 0 && now - entry.lastSeen > idleMs) {
          log.info("closing idle session", { session: id });
          void closeSession(id);
        }
      }
    },
    Math.min(60_000, Math.max(250, idleMs / 4)),
  );
  sweeper.unref();

  log.info(`listening on ${url.href}`, { auth: authEnabled ? (config.jwksUrl ? "jwt" : "token") : "none" });

  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      clearInterval(sweeper);
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      await Promise.all([...sessions.keys()].map((id) => closeSession(id)));
      server.closeAllConnections();
      await closed;
      await app.close?.().catch((error: unknown) => log.warn("close failed", { error }));
    })();
    return closing;
  };
  if (options.handleSignals !== false) {
    const onSignal = (signal: string) => {
      log.info("shutting down", { signal });
      const force = setTimeout(() => process.exit(0), 5000);
      force.unref();
      void close().then(() => process.exit(0));
    };
    process.once("SIGTERM", onSignal);
    process.once("SIGINT", onSignal);
  }
  return { url, sessionCount: () => sessions.size, close };
}

function defaultHosts(host: string, port: number): string[] {
  if (!isLoopback(host)) return [];
  return [`localhost:${port}`, `127.0.0.1:${port}`, `[::1]:${port}`];
}

function defaultOrigins(host: string, port: number): string[] {
  if (!isLoopback(host)) return [];
  return [`http://localhost:${port}`, `http://127.0.0.1:${port}`, `http://[::1]:${port}`];
}

function hostAllowed(header: string | undefined, allowed: string[]): boolean {
  if (allowed.length === 0) return true;
  if (!header) return false;
  const host = header.toLowerCase();
  if (allowed.includes(host)) return true;
  const name = host.startsWith("[") ? host.slice(0, host.indexOf("]") + 1) : host.split(":")[0];
  return allowed.includes(name as string);
}

async function createVerifier(config: HostConfig, resource: () => URL): Promise<Verifier | undefined> {
  if (!config.authToken && !config.jwksUrl) return undefined;
  const staticDigest = config.authToken ? sha256(config.authToken) : undefined;
  let jwt: ((token: string) => Promise<AuthInfo>) | undefined;
  if (config.jwksUrl) {
    const { createRemoteJWKSet, jwtVerify } = await import("jose");
    const keys = createRemoteJWKSet(new URL(config.jwksUrl));
    jwt = async (token) => {
      const { payload } = await jwtVerify(token, keys, {
        audience: config.jwtAudience ?? resource().href,
        ...(config.jwtIssuer ? { issuer: config.jwtIssuer } : {}),
      });
      const scope = typeof payload.scope === "string" ? payload.scope.split(" ").filter(Boolean) : [];
      return {
        token,
        clientId: String(payload.client_id ?? payload.azp ?? payload.sub ?? "unknown"),
        scopes: scope,
        ...(payload.exp !== undefined ? { expiresAt: payload.exp } : {}),
        extra: { subject: payload.sub },
      };
    };
  }
  return async (token) => {
    if (staticDigest && timingSafeEqual(sha256(token), staticDigest)) {
      return { token, clientId: "static-token", scopes: [] };
    }
    if (jwt) return jwt(token);
    throw new Error("the bearer token is not valid");
  };
}

const sha256 = (text: string) => createHash("sha256").update(text).digest();

const headerValue = (value: string | string[] | undefined) => (Array.isArray(value) ? value[0] : value);

const INVALID = Symbol("invalid body");

async function readJson(req: IncomingMessage, res: ServerResponse, limit: number): Promise<unknown> {
  const declared = Number(req.headers["content-length"] ?? Number.NaN);
  if (declared > limit) {
    sendError(res, 413, -32600, `Request body too large (limit ${limit} bytes).`);
    req.resume();
    return INVALID;
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) {
      sendError(res, 413, -32600, `Request body too large (limit ${limit} bytes).`);
      req.resume();
      return INVALID;
    }
    chunks.push(chunk);
  }
  try {
    return JSON.parse(Buffer.concat(chunks, size).toString("utf8"));
  } catch {
    sendError(res, 400, -32700, "Parse error: the body is not valid JSON.");
    return INVALID;
  }
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  res.end(text);
}

function sendError(res: ServerResponse, status: number, code: number, message: string): void {
  sendJson(res, status, { jsonrpc: "2.0", error: { code, message }, id: null });
}
