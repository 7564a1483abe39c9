import http from "node:http";
import net from "node:net";
import type { Duplex } from "node:stream";
import type { Refusal } from "../policy/policy.js";
import type { NetworkGate } from "./gate.js";
import { chooseUpstream, openTunnel, type ProxyPlan } from "./upstream.js";

export interface ProxyEvent {
  /** CONNECT for tunnels, the request method for plain http. */
  method: string;
  /** `host:port` for tunnels, the URL for plain http. */
  target: string;
  outcome: "blocked" | "failed";
  rule?: Refusal["rule"];
  message: string;
}

export interface PolicyProxyOptions {
  gate: NetworkGate;
  plan: ProxyPlan;
  connectTimeoutMs?: number;
  onEvent?(event: ProxyEvent): void;
}

/** Marks answers the proxy wrote itself (refusals, unreachable hosts), so tools can tell them from the site's. */
export const PROXY_HEADER = "x-portside-proxy";

/** Headers that belong to one hop and are not forwarded (RFC 9110 §7.6.1). */
const HOP_BY_HOP = new Set([
  "connection",
  "proxy-connection",
  "keep-alive",
  "proxy-authorization",
  "proxy-authenticate",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
]);

/**
 * The enforcement point every byte the browser sends must pass. The browser is started with this
 * proxy as its only route out and with its own DNS switched off, so everything — documents,
 * frames, subresources, fetch, workers, service workers, WebSocket handshakes, redirects — arrives
 * here as a CONNECT tunnel or a plain http request. Each is judged by the gate, which resolves the
 * name itself; the connection goes to the address that was judged (directly or through the
 * operator's upstream proxy), so a refused target never receives a packet.
 */
export class PolicyProxy {
  private readonly server: http.Server;
  private readonly sockets = new Set<Duplex>();
  private readonly timeoutMs: number;

  constructor(private readonly options: PolicyProxyOptions) {
    this.timeoutMs = options.connectTimeoutMs ?? 15_000;
    this.server = http.createServer({ keepAlive: true }, (req, res) => void this.forward(req, res));
    this.server.on("connect", (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
      void this.tunnel(req, socket, head);
    });
    this.server.on("upgrade", (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
      void this.upgrade(req, socket, head);
    });
    this.server.on("connection", (socket: net.Socket) => this.track(socket));
    this.server.on("clientError", (_error, socket) => socket.destroy());
  }

  async listen(): Promise<number> {
    await new Promise<void>((resolve, reject) => {
      this.server.once("error", reject);
      this.server.listen(0, "127.0.0.1", () => resolve());
    });
    const port = (this.server.address() as net.AddressInfo).port;
    this.options.gate.reserve(port);
    return port;
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** Every socket the proxy holds: closed with it, and never allowed to crash it with a reset. */
  private track(socket: Duplex): void {
    this.sockets.add(socket);
    socket.on("error", () => socket.destroy());
    socket.once("close", () => this.sockets.delete(socket));
  }

  private report(event: ProxyEvent): void {
    try {
      this.options.onEvent?.(event);
    } catch {
      // A listener's failure must not break the proxy.
    }
  }

  /**
   * Judges the target, then connects to the address that was judged (directly or through the
   * upstream proxy). A refusal or a failure is reported, answered through `refuse`, and yields
   * no socket.
   */
  private async connectJudged(
    target: JudgedTarget,
    refuse: (status: 403 | 502, message: string) => void,
  ): Promise<net.Socket | undefined> {
    const admission = await this.options.gate.admit(target.host, target.port);
    if (!admission.allowed) {
      this.report({
        method: target.method,
        target: target.label,
        outcome: "blocked",
        rule: admission.rule,
        message: admission.message,
      });
      refuse(403, admission.message);
      return undefined;
    }
    const upstream = chooseUpstream(this.options.plan, target.host, target.port, admission.address, target.secure);
    let remote: net.Socket;
    try {
      remote = await openTunnel(upstream, admission.address, target.port, { timeoutMs: this.timeoutMs });
    } catch (error) {
      const message = (error as Error).message;
      this.report({ method: target.method, target: target.label, outcome: "failed", message });
      refuse(502, message);
      return undefined;
    }
    this.track(remote);
    return remote;
  }

  private async tunnel(req: http.IncomingMessage, client: Duplex, head: Buffer): Promise<void> {
    const target = parseAuthority(req.url ?? "");
    if (!target) {
      refuseSocket(client, 400, "The CONNECT target must be host:port.");
      return;
    }
    const remote = await this.connectJudged(
      { method: "CONNECT", label: `${target.host}:${target.port}`, ...target, secure: true },
      (status, message) => refuseSocket(client, status, message),
    );
    if (!remote) return;
    if (client.destroyed) {
      remote.destroy();
      return;
    }
    client.write("HTTP/1.1 200 Connection Established\r\n\r\n");
    if (head.length) remote.write(head);
    splice(client, remote);
  }

  private async forward(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    let url: URL;
    try {
      url = new URL(req.url ?? "");
    } catch {
      res.writeHead(400, { "content-type": "text/plain" }).end("This is a proxy: requests need an absolute URL.");
      return;
    }
    if (url.protocol !== "http:") {
      res.writeHead(400, { "content-type": "text/plain" }).end("Only http: is proxied in the clear; use CONNECT.");
      return;
    }
    const remote = await this.connectJudged(plainTarget(req, url), (status, message) =>
      res
        .writeHead(status, {
          "content-type": "text/plain; charset=utf-8",
          [PROXY_HEADER]: status === 403 ? "blocked" : "unreachable",
        })
        .end(message),
    );
    if (!remote) return;
    const outgoing = http.request({
      createConnection: () => remote,
      method: req.method,
      path: `${url.pathname}${url.search}`,
      headers: forwardHeaders(req.rawHeaders, url.host),
      setHost: false,
    });
    // A tunnel through an upstream proxy comes back paused after its handshake; the HTTP client
    // has attached its reader by the time it announces the socket.
    outgoing.once("socket", (socket) => socket.resume());
    outgoing.on("response", (response) => {
      res.writeHead(response.statusCode ?? 502, response.statusMessage, filterRaw(response.rawHeaders));
      response.pipe(res);
      response.on("error", () => res.destroy());
    });
    outgoing.on("error", (error) => {
      if (!res.headersSent) {
        res.writeHead(502, { "content-type": "text/plain", [PROXY_HEADER]: "unreachable" }).end(error.message);
      } else {
        res.destroy();
      }
    });
    res.on("close", () => {
      if (!res.writableFinished) outgoing.destroy();
    });
    req.pipe(outgoing);
  }

  /** An absolute-form Upgrade request (a WebSocket handshake sent without CONNECT). */
  private async upgrade(req: http.IncomingMessage, client: Duplex, head: Buffer): Promise<void> {
    let url: URL;
    try {
      url = new URL(req.url ?? "");
    } catch {
      refuseSocket(client, 400, "This is a proxy: requests need an absolute URL.");
      return;
    }
    if (url.protocol !== "http:" && url.protocol !== "ws:") {
      refuseSocket(client, 400, "Only http: and ws: upgrades are proxied in the clear; use CONNECT.");
      return;
    }
    const remote = await this.connectJudged(plainTarget(req, url), (status, message) =>
      refuseSocket(client, status, message),
    );
    if (!remote) return;
    const headers = [];
    for (let i = 0; i < req.rawHeaders.length; i += 2) {
      const name = req.rawHeaders[i] as string;
      if (/^proxy-/i.test(name)) continue;
      headers.push(`${name}: ${req.rawHeaders[i + 1]}`);
    }
    remote.write(`${req.method} ${url.pathname}${url.search} HTTP/1.1\r\n${headers.join("\r\n")}\r\n\r\n`);
    if (head.length) remote.write(head);
    splice(client, remote);
  }
}

/**
 * The browser's route for its own background traffic (sign-in, sync, time and update checks):
 * it is sent nowhere. Pages never use it; they go through their context's PolicyProxy.
 */
export class RefusingProxy {
  private readonly sockets = new Set<net.Socket>();
  private readonly server = net.createServer((socket) => {
    this.sockets.add(socket);
    socket.on("close", () => this.sockets.delete(socket));
    socket.on("error", () => undefined);
    // Read (and drop) what arrives so the client's close is noticed.
    socket.resume();
    socket.end("HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
  });

  async listen(gate?: NetworkGate): Promise<number> {
    await new Promise<void>((resolve, reject) => {
      this.server.once("error", reject);
      this.server.listen(0, "127.0.0.1", () => resolve());
    });
    const port = (this.server.address() as net.AddressInfo).port;
    gate?.reserve(port);
    return port;
  }

  close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

interface JudgedTarget {
  /** What the event reports: CONNECT, or the plain request's method. */
  method: string;
  /** What the event names: `host:port` for tunnels, the URL for plain http. */
  label: string;
  host: string;
  port: number;
  /** True for CONNECT tunnels, which go to the upstream proxy for https. */
  secure: boolean;
}

/** A plain-http request or upgrade in absolute form, as the gate judges it. */
const plainTarget = (req: http.IncomingMessage, url: URL): JudgedTarget => ({
  method: req.method ?? "GET",
  label: url.href,
  host: url.hostname,
  port: url.port ? Number(url.port) : 80,
  secure: false,
});

function parseAuthority(authority: string): { host: string; port: number } | undefined {
  const match = /^(\[[0-9a-fA-F:.]+\]|[^:[\]\s/]+):(\d{1,5})$/.exec(authority);
  if (!match) return undefined;
  const port = Number(match[2]);
  if (port < 1 || port > 65535) return undefined;
  return { host: match[1] as string, port };
}

function refuseSocket(socket: Duplex, status: number, message: string): void {
  if (socket.destroyed) return;
  const reason = status === 403 ? "Forbidden" : status === 400 ? "Bad Request" : "Bad Gateway";
  const body = Buffer.from(message, "utf8");
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body.toString("utf8")}`,
  );
}

function splice(a: Duplex, b: Duplex): void {
  const destroyBoth = () => {
    a.destroy();
    b.destroy();
  };
  a.on("error", destroyBoth);
  b.on("error", destroyBoth);
  a.on("close", () => b.destroy());
  b.on("close", () => a.destroy());
  a.pipe(b);
  b.pipe(a);
}

function forwardHeaders(raw: readonly string[], host: string): string[] {
  const named = new Set<string>();
  for (let i = 0; i < raw.length; i += 2) {
    if ((raw[i] as string).toLowerCase() === "connection") {
      for (const token of (raw[i + 1] as string).split(",")) named.add(token.trim().toLowerCase());
    }
  }
  const out: string[] = ["Host", host];
  for (let i = 0; i < raw.length; i += 2) {
    const name = (raw[i] as string).toLowerCase();
    if (name === "host" || HOP_BY_HOP.has(name) || named.has(name)) continue;
    out.push(raw[i] as string, raw[i + 1] as string);
  }
  out.push("Connection", "close");
  return out;
}

function filterRaw(raw: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < raw.length; i += 2) {
    const name = (raw[i] as string).toLowerCase();
    if (HOP_BY_HOP.has(name)) continue;
    out.push(raw[i] as string, raw[i + 1] as string);
  }
  return out;
}
