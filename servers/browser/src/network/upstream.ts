import net from "node:net";
import tls from "node:tls";
import { parseIp } from "../policy/address.js";
import { type HostPattern, matchesAddress, matchesHost, normalizeHost, parseHostPattern } from "../policy/hosts.js";

/**
 * The operator's own proxy, which the server's local policy proxy forwards allowed traffic to.
 * The browser never sees it (nor its credentials): it only talks to the local policy proxy.
 */
export interface UpstreamProxy {
  protocol: "http" | "https" | "socks5";
  host: string;
  port: number;
  username?: string;
  password?: string;
  /** The URL without credentials, for logs and messages. */
  display: string;
}

export class ProxySettingError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ProxySettingError";
  }
}

const DEFAULT_PROXY_PORTS = { http: 80, https: 443, socks5: 1080 } as const;

export function parseProxyUrl(text: string, source: string): UpstreamProxy {
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(text) ? text : `http://${text}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw new ProxySettingError(`${source} is not a valid proxy URL`);
  }
  const scheme = url.protocol.slice(0, -1).toLowerCase();
  const protocol = scheme === "socks5h" || scheme === "socks" ? "socks5" : scheme;
  if (protocol !== "http" && protocol !== "https" && protocol !== "socks5") {
    throw new ProxySettingError(`${source} uses ${scheme}:, but only http, https and socks5 proxies are supported`);
  }
  if (!url.hostname) throw new ProxySettingError(`${source} has no host`);
  const port = url.port ? Number(url.port) : DEFAULT_PROXY_PORTS[protocol];
  const host = url.hostname.startsWith("[") ? url.hostname.slice(1, -1) : url.hostname;
  return {
    protocol,
    host,
    port,
    ...(url.username ? { username: decodeURIComponent(url.username) } : {}),
    ...(url.password ? { password: decodeURIComponent(url.password) } : {}),
    display: `${protocol}://${url.host}`,
  };
}

/** Which upstream proxy (if any) each kind of traffic uses, and which hosts skip it. */
export interface ProxyPlan {
  /** For TLS and WebSocket tunnels (CONNECT). */
  secure?: UpstreamProxy;
  /** For plain http requests. */
  plain?: UpstreamProxy;
  bypass: BypassRule[];
}

type BypassRule = { kind: "all" } | { kind: "local" } | { kind: "pattern"; pattern: HostPattern };

/**
 * Reads `--proxy-server` / `--proxy-bypass`, else the usual environment variables in either case:
 * HTTPS_PROXY for TLS, HTTP_PROXY for plain http, ALL_PROXY for both, NO_PROXY for exceptions.
 */
export function planProxies(
  explicit: { server?: string; bypass?: readonly string[] },
  env: Readonly<Record<string, string | undefined>>,
): ProxyPlan {
  const read = (name: string) => env[name] || env[name.toLowerCase()] || undefined;
  if (explicit.server) {
    const proxy = parseProxyUrl(explicit.server, "--proxy-server");
    return { secure: proxy, plain: proxy, bypass: parseBypass(explicit.bypass ?? []) };
  }
  const all = read("ALL_PROXY");
  const https = read("HTTPS_PROXY") ?? all;
  const http = read("HTTP_PROXY") ?? all;
  const bypassText = explicit.bypass?.length ? explicit.bypass : read("NO_PROXY") ? [read("NO_PROXY") as string] : [];
  return {
    ...(https
      ? { secure: parseProxyUrl(https, env.HTTPS_PROXY || env.https_proxy ? "HTTPS_PROXY" : "ALL_PROXY") }
      : {}),
    ...(http ? { plain: parseProxyUrl(http, env.HTTP_PROXY || env.http_proxy ? "HTTP_PROXY" : "ALL_PROXY") } : {}),
    bypass: parseBypass(bypassText),
  };
}

/** NO_PROXY conventions: `*`, `<local>`, `example.com` (and its subdomains), `.example.com`, IPs, CIDRs, `:port`. */
export function parseBypass(values: readonly string[]): BypassRule[] {
  const rules: BypassRule[] = [];
  for (const raw of values.flatMap((v) => v.split(/[\s,;]+/))) {
    const entry = raw.trim();
    if (entry === "") continue;
    if (entry === "*") rules.push({ kind: "all" });
    else if (entry === "<local>") rules.push({ kind: "local" });
    else {
      // A bare domain in NO_PROXY also covers its subdomains.
      const text = entry.startsWith("*.") ? entry.slice(1) : entry;
      const pattern = parseHostPattern(text);
      const widened: HostPattern =
        pattern.kind === "exact"
          ? {
              kind: "subdomains",
              suffix: pattern.host,
              includeApex: true,
              text: pattern.text,
              ...(pattern.port !== undefined ? { port: pattern.port } : {}),
            }
          : pattern;
      rules.push({ kind: "pattern", pattern: widened });
    }
  }
  return rules;
}

export function chooseUpstream(
  plan: ProxyPlan,
  host: string,
  port: number,
  address: string,
  secure: boolean,
): UpstreamProxy | undefined {
  const proxy = secure ? plan.secure : plan.plain;
  if (!proxy) return undefined;
  const name = normalizeHost(host) ?? host;
  const ip = parseIp(address);
  for (const rule of plan.bypass) {
    if (rule.kind === "all") return undefined;
    if (rule.kind === "local" && !name.includes(".") && !name.includes(":")) return undefined;
    if (rule.kind === "pattern") {
      if (matchesHost(rule.pattern, name, port)) return undefined;
      if (ip && matchesAddress(rule.pattern, ip, port)) return undefined;
    }
  }
  return proxy;
}

export interface TunnelOptions {
  timeoutMs: number;
  signal?: AbortSignal;
}

/**
 * Opens a TCP stream to `address:port` (an address the policy accepted), directly or through the
 * upstream proxy. The proxy is always given the checked address, never the name, so it cannot
 * resolve the name differently.
 */
export async function openTunnel(
  upstream: UpstreamProxy | undefined,
  address: string,
  port: number,
  options: TunnelOptions,
): Promise<net.Socket> {
  if (!upstream) return connectTcp(address, port, options);
  const socket =
    upstream.protocol === "https"
      ? await connectTls(upstream.host, upstream.port, options)
      : await connectTcp(upstream.host, upstream.port, options);
  try {
    if (upstream.protocol === "socks5") await socks5Connect(socket, upstream, address, port, options);
    else await httpConnect(socket, upstream, address, port, options);
    socket.setTimeout(0);
    return socket;
  } catch (error) {
    socket.destroy();
    throw error;
  }
}

export class TunnelError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "TunnelError";
  }
}

function connectTcp(host: string, port: number, options: TunnelOptions): Promise<net.Socket> {
  return connectWith(() => net.connect({ host, port, noDelay: true }), "connect", host, port, options);
}

function connectTls(host: string, port: number, options: TunnelOptions): Promise<net.Socket> {
  const servername = parseIp(host) ? undefined : host;
  return connectWith(
    () => tls.connect({ host, port, ...(servername ? { servername } : {}), ALPNProtocols: ["http/1.1"] }),
    "secureConnect",
    host,
    port,
    options,
  );
}

function connectWith(
  open: () => net.Socket,
  readyEvent: string,
  host: string,
  port: number,
  options: TunnelOptions,
): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = open();
    const fail = (error: Error) => {
      cleanup();
      socket.destroy();
      reject(error);
    };
    const onError = (error: Error) => fail(new TunnelError(`cannot reach ${host}:${port}: ${error.message}`));
    const onTimeout = () => fail(new TunnelError(`timed out connecting to ${host}:${port}`));
    const onAbort = () => fail(new TunnelError("cancelled"));
    const onReady = () => {
      cleanup();
      socket.setTimeout(0);
      resolve(socket);
    };
    const cleanup = () => {
      socket.off("error", onError);
      socket.off("timeout", onTimeout);
      socket.off(readyEvent, onReady);
      options.signal?.removeEventListener("abort", onAbort);
    };
    socket.setTimeout(options.timeoutMs);
    socket.once("error", onError);
    socket.once("timeout", onTimeout);
    socket.once(readyEvent, onReady);
    options.signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/** Reads from a socket until `want` reports the bytes it needs; the rest is pushed back. */
function readUntil(
  socket: net.Socket,
  want: (buffer: Buffer) => number | undefined,
  options: TunnelOptions,
  limit = 16 * 1024,
): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    let buffer = Buffer.alloc(0);
    const timer = setTimeout(
      () => finish(new TunnelError("the upstream proxy did not answer in time")),
      options.timeoutMs,
    );
    const finish = (error?: Error, value?: Buffer) => {
      clearTimeout(timer);
      socket.off("data", onData);
      socket.off("error", onError);
      socket.off("close", onClose);
      if (error) reject(error);
      else resolve(value as Buffer);
    };
    const onData = (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      const needed = want(buffer);
      if (needed !== undefined && buffer.length >= needed) {
        socket.pause();
        const rest = buffer.subarray(needed);
        if (rest.length) socket.unshift(rest);
        finish(undefined, buffer.subarray(0, needed));
      } else if (buffer.length > limit) {
        finish(new TunnelError("the upstream proxy sent an oversized answer"));
      }
    };
    const onError = (error: Error) => finish(new TunnelError(`upstream proxy error: ${error.message}`));
    const onClose = () => finish(new TunnelError("the upstream proxy closed the connection"));
    socket.on("data", onData);
    socket.once("error", onError);
    socket.once("close", onClose);
    socket.resume();
  });
}

async function httpConnect(
  socket: net.Socket,
  upstream: UpstreamProxy,
  address: string,
  port: number,
  options: TunnelOptions,
): Promise<void> {
  const target = address.includes(":") ? `[${address}]:${port}` : `${address}:${port}`;
  const auth =
    upstream.username !== undefined
      ? `Proxy-Authorization: Basic ${Buffer.from(`${upstream.username}:${upstream.password ?? ""}`).toString("base64")}\r\n`
      : "";
  socket.write(`CONNECT ${target} HTTP/1.1\r\nHost: ${target}\r\n${auth}\r\n`);
  const head = await readUntil(
    socket,
    (buffer) => {
      const end = buffer.indexOf("\r\n\r\n");
      return end === -1 ? undefined : end + 4;
    },
    options,
  );
  const status = /^HTTP\/1\.[01] (\d{3})/.exec(head.toString("latin1"));
  if (!status?.[1]?.startsWith("2")) {
    throw new TunnelError(
      `the upstream proxy ${upstream.display} refused the tunnel to ${target} (${status ? `HTTP ${status[1]}` : "bad answer"})`,
    );
  }
}

const SOCKS_REPLIES: Readonly<Record<number, string>> = {
  1: "general failure",
  2: "connection not allowed by ruleset",
  3: "network unreachable",
  4: "host unreachable",
  5: "connection refused",
  6: "TTL expired",
  7: "command not supported",
  8: "address type not supported",
};

async function socks5Connect(
  socket: net.Socket,
  upstream: UpstreamProxy,
  address: string,
  port: number,
  options: TunnelOptions,
): Promise<void> {
  const withAuth = upstream.username !== undefined;
  socket.write(Buffer.from(withAuth ? [5, 2, 0, 2] : [5, 1, 0]));
  const choice = await readUntil(socket, () => 2, options);
  if (choice[0] !== 5) throw new TunnelError(`${upstream.display} is not a SOCKS5 proxy`);
  if (choice[1] === 2) {
    const user = Buffer.from(upstream.username ?? "");
    const pass = Buffer.from(upstream.password ?? "");
    if (user.length > 255 || pass.length > 255) throw new TunnelError("SOCKS5 credentials are too long");
    socket.write(Buffer.concat([Buffer.from([1, user.length]), user, Buffer.from([pass.length]), pass]));
    const reply = await readUntil(socket, () => 2, options);
    if (reply[1] !== 0) throw new TunnelError(`the SOCKS5 proxy ${upstream.display} rejected the credentials`);
  } else if (choice[1] !== 0) {
    throw new TunnelError(`the SOCKS5 proxy ${upstream.display} accepts none of the offered authentication methods`);
  }
  const ip = parseIp(address);
  if (!ip) throw new TunnelError(`${address} is not an IP address`);
  const portBytes = Buffer.from([port >> 8, port & 0xff]);
  socket.write(Buffer.concat([Buffer.from([5, 1, 0, ip.family === 4 ? 1 : 4]), Buffer.from(ip.bytes), portBytes]));
  const reply = await readUntil(
    socket,
    (buffer) => {
      if (buffer.length < 5) return undefined;
      const type = buffer[3];
      if (type === 1) return 10;
      if (type === 4) return 22;
      if (type === 3) return 7 + (buffer[4] as number);
      return 4;
    },
    options,
  );
  if (reply[1] !== 0) {
    throw new TunnelError(
      `the SOCKS5 proxy ${upstream.display} refused ${address}:${port} (${SOCKS_REPLIES[reply[1] as number] ?? `code ${reply[1]}`})`,
    );
  }
}
