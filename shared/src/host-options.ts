import { z } from "zod";
import { DEFAULT_MAX_RESPONSE_CHARS } from "./budget.js";
import { option } from "./config.js";
import { LOG_LEVELS } from "./log.js";

const positiveInt = z.number().int().positive();
const optionalText = z.string().min(1).optional();

/** Settings every server has: transport, HTTP security, limits and logging. */
export const hostOptions = {
  http: option({
    type: "boolean",
    flag: "http",
    env: "MCP_HTTP",
    help: "Serve MCP over Streamable HTTP instead of stdio.",
    schema: z.boolean().default(false),
  }),
  port: option({
    type: "number",
    flag: "port",
    env: ["MCP_PORT", "PORT"],
    help: "HTTP port (0 picks a free one and prints it on stderr).",
    schema: z.number().int().min(0).max(65535).default(3000),
  }),
  host: option({
    type: "string",
    flag: "host",
    env: "MCP_HOST",
    help: "Address to bind. Anything but loopback needs authentication configured.",
    schema: z.string().min(1).default("127.0.0.1"),
  }),
  allowedHosts: option({
    type: "list",
    flag: "allowed-hosts",
    env: "MCP_ALLOWED_HOSTS",
    help: "Host header values accepted (DNS-rebinding protection). Default: loopback names on the bound port.",
    schema: z.array(z.string().min(1)).default([]),
  }),
  allowedOrigins: option({
    type: "list",
    flag: "allowed-origins",
    env: "MCP_ALLOWED_ORIGINS",
    help: "Browser Origins accepted. Requests with any other Origin get 403. Default: loopback origins on the bound port.",
    schema: z.array(z.string().min(1)).default([]),
  }),
  authToken: option({
    type: "string",
    flag: "auth-token",
    env: "MCP_AUTH_TOKEN",
    help: "Static bearer token clients must send (Authorization: Bearer <token>). Prefer the env variable.",
    schema: z.string().min(16, "must be at least 16 characters").optional(),
    secret: true,
  }),
  jwksUrl: option({
    type: "string",
    flag: "jwks-url",
    env: "MCP_JWKS_URL",
    help: "Verify bearer JWTs against this JWKS URL (OAuth resource-server mode).",
    schema: z.url().optional(),
  }),
  jwtIssuer: option({
    type: "string",
    flag: "jwt-issuer",
    env: "MCP_JWT_ISSUER",
    help: "Required `iss` of bearer JWTs; also announced as the authorization server.",
    schema: optionalText,
  }),
  jwtAudience: option({
    type: "string",
    flag: "jwt-audience",
    env: "MCP_JWT_AUDIENCE",
    help: "Required `aud` of bearer JWTs. Default: the resource URL.",
    schema: optionalText,
  }),
  resourceUrl: option({
    type: "string",
    flag: "resource-url",
    env: "MCP_RESOURCE_URL",
    help: "Public URL of the MCP endpoint, announced in OAuth protected-resource metadata.",
    schema: z.url().optional(),
  }),
  allowNoAuth: option({
    type: "boolean",
    flag: "allow-no-auth",
    env: "MCP_ALLOW_NO_AUTH",
    help: "Allow serving a non-loopback address without authentication (only behind a trusted proxy).",
    schema: z.boolean().default(false),
  }),
  maxBodyBytes: option({
    type: "number",
    flag: "max-body-bytes",
    env: "MCP_MAX_BODY_BYTES",
    help: "Largest HTTP request body accepted.",
    schema: positiveInt.default(16 * 1024 * 1024),
  }),
  maxSessions: option({
    type: "number",
    flag: "max-sessions",
    env: "MCP_MAX_SESSIONS",
    help: "Most concurrent HTTP sessions.",
    schema: positiveInt.default(100),
  }),
  sessionIdleSeconds: option({
    type: "number",
    flag: "session-idle-seconds",
    env: "MCP_SESSION_IDLE_SECONDS",
    help: "Close HTTP sessions idle this long.",
    schema: positiveInt.default(1800),
  }),
  maxMessageBytes: option({
    type: "number",
    flag: "max-message-bytes",
    env: "MCP_MAX_MESSAGE_BYTES",
    help: "Largest stdio message accepted; bigger ones get a JSON-RPC error.",
    schema: positiveInt.default(64 * 1024 * 1024),
  }),
  maxResponseChars: option({
    type: "number",
    flag: "max-response-chars",
    env: "MCP_MAX_RESPONSE_CHARS",
    help: "Cap on the text of one tool result.",
    schema: z.number().int().min(1000).default(DEFAULT_MAX_RESPONSE_CHARS),
  }),
  logLevel: option({
    type: "string",
    flag: "log-level",
    env: "LOG_LEVEL",
    help: "Least severe level written to stderr.",
    schema: z.enum(LOG_LEVELS).default("info"),
  }),
};

export type HostOptions = typeof hostOptions;
