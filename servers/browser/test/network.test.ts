import { readFileSync } from "node:fs";
import http from "node:http";
import https from "node:https";
import net from "node:net";
import tls from "node:tls";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startDnsServer } from "../../../test/fixtures/browser/dns-server.ts";
import { startRecordingProxy, startRecordingSocksProxy } from "../../../test/fixtures/browser/recording-proxy.ts";
import { NetworkGate } from "../src/network/gate.ts";
import { PolicyProxy, type ProxyEvent, RefusingProxy } from "../src/network/proxy.ts";
import { HostResolver, ResolveError } from "../src/network/resolver.ts";
import {
  chooseUpstream,
  type ProxyPlan,
  ProxySettingError,
  parseProxyUrl,
  planProxies,
} from "../src/network/upstream.ts";
import { NetworkPolicy } from "../src/policy/policy.ts";

/** An origin on loopback that counts what reaches it. */
async function startOrigin() {
  const hits: string[] = [];
  const server = http.createServer((req, res) => {
    hits.push(`${req.method} ${req.url} host=${req.headers.host}`);
    res.setHeader("content-type", "text/plain");
    res.setHeader("x-origin", "yes");
    res.end(`hello ${req.url}`);
  });
  server.on("connect", (_req, socket: net.Socket) => socket.destroy());
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  return { server, hits, port: (server.address() as net.AddressInfo).port };
}

/** Sends one plain request through a proxy (absolute-form), as a browser does. */
function viaProxy(
  proxyPort: number,
  url: string,
): Promise<{ status: number; body: string; headers: http.IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: "127.0.0.1", port: proxyPort, path: url, method: "GET", agent: false }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk) => {
        body += chunk;
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
    });
    req.on("error", reject);
    req.end();
  });
}

/** Opens a CONNECT tunnel through a proxy and speaks plain HTTP inside it. */
function tunnelThrough(proxyPort: number, authority: string): Promise<{ status: number; inner?: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: "127.0.0.1", port: proxyPort, method: "CONNECT", path: authority, agent: false });
    req.on("connect", (res, socket) => {
      if (res.statusCode !== 200) {
        socket.destroy();
        resolve({ status: res.statusCode ?? 0 });
        return;
      }
      let inner = "";
      socket.on("data", (chunk: Buffer) => {
        inner += chunk.toString();
      });
      socket.on("end", () => resolve({ status: 200, inner }));
      socket.write(`GET /tunnelled HTTP/1.1\r\nHost: ${authority}\r\nConnection: close\r\n\r\n`);
    });
    req.on("error", reject);
    req.end();
  });
}

describe("HostResolver", () => {
  it("asks a configured DNS server and caches the answer", async () => {
    const dns = await startDnsServer({
      "public-looking.example": ["127.0.0.1"],
      "dual.example": ["93.184.216.34", "::1"],
    });
    try {
      const resolver = new HostResolver({ servers: [dns.address], ttlMs: 60_000 });
      expect(await resolver.resolve("public-looking.example")).toEqual(["127.0.0.1"]);
      expect(await resolver.resolve("public-looking.example")).toEqual(["127.0.0.1"]);
      expect(dns.queries.filter((q) => q === "public-looking.example")).toHaveLength(2); // A and AAAA, once
      expect((await resolver.resolve("dual.example")).sort()).toEqual(["93.184.216.34", "::1"].sort());
      await expect(resolver.resolve("nowhere.example")).rejects.toBeInstanceOf(ResolveError);
    } finally {
      await dns.close();
    }
  });

  it("shares one lookup between concurrent callers", async () => {
    let calls = 0;
    const resolver = new HostResolver({}, async () => {
      calls++;
      await new Promise((r) => setTimeout(r, 20));
      return ["93.184.216.34"];
    });
    await Promise.all([resolver.resolve("a.example"), resolver.resolve("a.example"), resolver.resolve("a.example")]);
    expect(calls).toBe(1);
  });
});

describe("NetworkGate", () => {
  const records: Record<string, string[]> = {
    "public-looking.example": ["127.0.0.1"],
    "public.example": ["93.184.216.34"],
    "mixed.example": ["93.184.216.34", "10.0.0.1"],
    "metadata.example": ["169.254.169.254"],
    "dev.example": ["127.0.0.1"],
  };
  const lookup = async (host: string) => {
    const found = records[host];
    if (!found) throw new ResolveError(host, "ENOTFOUND");
    return found;
  };
  const gate = new NetworkGate(
    new NetworkPolicy({ allowPrivateHosts: ["dev.example:8080", "127.0.0.1:5555"] }),
    new HostResolver({}, lookup),
  );

  it.each([
    ["public-looking.example", 80, "private-address"],
    ["mixed.example", 443, "private-address"],
    ["metadata.example", 80, "metadata-address"],
    ["dev.example", 8081, "private-address"],
    ["nowhere.example", 80, "unresolvable"],
    ["127.0.0.1", 5556, "private-address"],
  ])("refuses %s:%i after resolving (%s)", async (host, port, rule) => {
    const admission = await gate.admit(host, port);
    expect(admission.allowed ? "allowed" : admission.rule).toBe(rule);
  });

  it("pins the checked address", async () => {
    expect(await gate.admit("public.example", 443)).toMatchObject({ allowed: true, address: "93.184.216.34" });
    expect(await gate.admit("dev.example", 8080)).toMatchObject({ allowed: true, address: "127.0.0.1" });
    expect(await gate.admit("127.0.0.1", 5555)).toMatchObject({ allowed: true, address: "127.0.0.1" });
  });

  it("checks URLs with their scheme, then DNS", async () => {
    expect(await gate.checkUrl("file:///etc/passwd", "subresource")).toMatchObject({ allowed: false, rule: "scheme" });
    expect(await gate.checkUrl("data:text/plain,hi", "subresource")).toEqual({ allowed: true, network: false });
    expect(await gate.checkUrl("wss://public-looking.example/socket", "subresource")).toMatchObject({
      allowed: false,
      rule: "private-address",
    });
  });

  it("never admits the server's own proxy ports, even when the policy would", async () => {
    const open = new NetworkGate(new NetworkPolicy({ allowPrivateNetwork: true }), new HostResolver({}, lookup));
    open.reserve(5999);
    expect(await open.admit("127.0.0.1", 5999)).toMatchObject({ allowed: false, rule: "self" });
    expect(await open.admit("localhost", 5999)).toMatchObject({ allowed: false, rule: "self" });
    expect(await open.admit("127.0.0.1", 6000)).toMatchObject({ allowed: true });
  });
});

describe("upstream proxy settings", () => {
  it("parses proxy URLs and keeps credentials out of the display form", () => {
    expect(parseProxyUrl("http://user:p%40ss@proxy.corp:3128", "x")).toMatchObject({
      protocol: "http",
      host: "proxy.corp",
      port: 3128,
      username: "user",
      password: "p@ss",
      display: "http://proxy.corp:3128",
    });
    expect(parseProxyUrl("proxy.corp:8080", "x")).toMatchObject({ protocol: "http", port: 8080 });
    expect(parseProxyUrl("socks5h://[::1]:1080", "x")).toMatchObject({ protocol: "socks5", host: "::1" });
    expect(parseProxyUrl("https://proxy.corp", "x")).toMatchObject({ protocol: "https", port: 443 });
    expect(() => parseProxyUrl("ftp://proxy", "HTTPS_PROXY")).toThrow(ProxySettingError);
    expect(() => parseProxyUrl("ftp://proxy", "HTTPS_PROXY")).toThrow(/HTTPS_PROXY/);
  });

  it("reads the environment in either case, and the flag wins", () => {
    const env = {
      https_proxy: "http://secure.corp:1",
      HTTP_PROXY: "http://plain.corp:2",
      no_proxy: "internal.corp,.svc,10.0.0.0/8,<local>",
    };
    const plan = planProxies({}, env);
    expect(plan.secure?.host).toBe("secure.corp");
    expect(plan.plain?.host).toBe("plain.corp");
    expect(chooseUpstream(plan, "example.com", 443, "93.184.216.34", true)?.host).toBe("secure.corp");
    expect(chooseUpstream(plan, "example.com", 80, "93.184.216.34", false)?.host).toBe("plain.corp");
    expect(chooseUpstream(plan, "internal.corp", 443, "93.184.216.34", true)).toBeUndefined();
    expect(chooseUpstream(plan, "api.internal.corp", 443, "93.184.216.34", true)).toBeUndefined();
    expect(chooseUpstream(plan, "x.svc", 443, "93.184.216.34", true)).toBeUndefined();
    expect(chooseUpstream(plan, "named.example", 443, "10.2.3.4", true)).toBeUndefined();
    expect(chooseUpstream(plan, "intranet", 80, "93.184.216.34", false)).toBeUndefined();
    const flagged = planProxies({ server: "socks5://s.corp:1080", bypass: ["*"] }, env);
    expect(flagged.secure?.protocol).toBe("socks5");
    expect(chooseUpstream(flagged, "example.com", 443, "93.184.216.34", true)).toBeUndefined();
    expect(planProxies({}, { ALL_PROXY: "socks5://all.corp" }).plain?.host).toBe("all.corp");
    expect(planProxies({}, {}).secure).toBeUndefined();
  });
});

describe("PolicyProxy", () => {
  let origin: Awaited<ReturnType<typeof startOrigin>>;
  let dns: Awaited<ReturnType<typeof startDnsServer>>;
  beforeAll(async () => {
    origin = await startOrigin();
    dns = await startDnsServer({ "public-looking.example": ["127.0.0.1"], "allowed.example": ["127.0.0.1"] });
  });
  afterAll(async () => {
    origin.server.close();
    await dns.close();
  });

  async function startProxy(plan: ProxyPlan = { bypass: [] }) {
    const events: ProxyEvent[] = [];
    const gate = new NetworkGate(
      new NetworkPolicy({ allowPrivateHosts: [`127.0.0.1:${origin.port}`, `allowed.example:${origin.port}`] }),
      new HostResolver({ servers: [dns.address] }),
    );
    const proxy = new PolicyProxy({ gate, plan, onEvent: (e) => events.push(e) });
    const port = await proxy.listen();
    return { proxy, port, events };
  }

  it("forwards allowed plain requests to the checked address, without hop-by-hop headers", async () => {
    const { proxy, port } = await startProxy();
    try {
      const response = await viaProxy(port, `http://allowed.example:${origin.port}/page?q=1`);
      expect(response.status).toBe(200);
      expect(response.body).toBe("hello /page?q=1");
      expect(response.headers["x-origin"]).toBe("yes");
      expect(origin.hits.at(-1)).toBe(`GET /page?q=1 host=allowed.example:${origin.port}`);
    } finally {
      await proxy.close();
    }
  });

  it("opens allowed tunnels", async () => {
    const { proxy, port } = await startProxy();
    try {
      const result = await tunnelThrough(port, `127.0.0.1:${origin.port}`);
      expect(result.status).toBe(200);
      expect(result.inner).toContain("hello /tunnelled");
    } finally {
      await proxy.close();
    }
  });

  it("refuses denied targets before connecting anywhere", async () => {
    const { proxy, port, events } = await startProxy();
    const before = origin.hits.length;
    try {
      for (const url of [
        `http://public-looking.example:${origin.port}/`,
        `http://127.0.0.1:${origin.port + 1}/`,
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]:80/",
        "http://localhost/",
      ]) {
        const response = await viaProxy(port, url);
        expect(response.status, url).toBe(403);
        expect(response.body).toMatch(/^Blocked by the network policy/);
      }
      for (const authority of [`public-looking.example:${origin.port}`, "10.0.0.1:443", `localhost:${origin.port}`]) {
        expect((await tunnelThrough(port, authority)).status, authority).toBe(403);
      }
      expect(await tunnelThrough(port, `127.0.0.1:${port}`)).toEqual({ status: 403 });
      expect(origin.hits.length).toBe(before);
      expect(events.map((e) => e.rule)).toEqual([
        "private-address",
        "private-address",
        "metadata-address",
        "private-address",
        "private-address",
        "private-address",
        "private-address",
        "private-address",
        "private-address",
      ]);
    } finally {
      await proxy.close();
    }
  });

  it("rejects malformed proxy requests", async () => {
    const { proxy, port } = await startProxy();
    try {
      expect((await viaProxy(port, "/relative")).status).toBe(400);
      expect((await tunnelThrough(port, "no-port")).status).toBe(400);
    } finally {
      await proxy.close();
    }
  });

  it("sends allowed traffic through an upstream HTTP proxy by checked address, and nothing refused", async () => {
    const upstream = await startRecordingProxy();
    const { proxy, port } = await startProxy(planProxies({ server: upstream.url }, {}));
    try {
      expect((await viaProxy(port, `http://allowed.example:${origin.port}/up`)).body).toBe("hello /up");
      expect((await tunnelThrough(port, `allowed.example:${origin.port}`)).status).toBe(200);
      expect((await viaProxy(port, `http://public-looking.example:${origin.port}/`)).status).toBe(403);
      expect((await tunnelThrough(port, "169.254.169.254:80")).status).toBe(403);
      expect(upstream.requests).toEqual([`127.0.0.1:${origin.port}`, `127.0.0.1:${origin.port}`]);
    } finally {
      await proxy.close();
      await upstream.close();
    }
  });

  it("speaks SOCKS5 (with credentials) to an upstream proxy", async () => {
    const upstream = await startRecordingSocksProxy({ user: "u", pass: "secret" });
    const { proxy, port } = await startProxy(planProxies({ server: upstream.url }, {}));
    try {
      expect((await viaProxy(port, `http://allowed.example:${origin.port}/socks`)).body).toBe("hello /socks");
      expect((await tunnelThrough(port, `127.0.0.1:${origin.port}`)).status).toBe(200);
      expect((await tunnelThrough(port, "10.0.0.1:443")).status).toBe(403);
      expect(upstream.requests).toEqual([`127.0.0.1:${origin.port}`, `127.0.0.1:${origin.port}`]);
    } finally {
      await proxy.close();
      await upstream.close();
    }
  });

  it("speaks TLS to an https upstream proxy, with credentials", async () => {
    const fixtures = new URL("../../../test/fixtures/browser/tls/", import.meta.url);
    const cert = readFileSync(new URL("proxy-cert.pem", fixtures), "utf8");
    // Trust the test proxy's self-signed certificate, as NODE_EXTRA_CA_CERTS would for a real one.
    tls.setDefaultCACertificates([...tls.getCACertificates("default"), cert]);
    const seen: string[] = [];
    const upstream = https.createServer({ key: readFileSync(new URL("proxy-key.pem", fixtures)), cert });
    upstream.on("connect", (req: http.IncomingMessage, client: net.Socket) => {
      seen.push(`${req.url} ${req.headers["proxy-authorization"]}`);
      const [host, port] = (req.url ?? "").split(":") as [string, string];
      const remote = net.connect(Number(port), host, () => {
        client.write("HTTP/1.1 200 Connection Established\r\n\r\n");
        remote.pipe(client);
        client.pipe(remote);
      });
      remote.on("error", () => client.destroy());
      client.on("error", () => remote.destroy());
    });
    await new Promise<void>((resolve) => upstream.listen(0, "127.0.0.1", () => resolve()));
    const url = `https://ann:s3cret@localhost:${(upstream.address() as net.AddressInfo).port}`;
    const { proxy, port } = await startProxy(planProxies({ server: url }, {}));
    try {
      expect((await viaProxy(port, `http://allowed.example:${origin.port}/tls`)).body).toBe("hello /tls");
      expect((await viaProxy(port, "http://10.0.0.1/")).status).toBe(403);
      expect(seen).toEqual([`127.0.0.1:${origin.port} Basic ${Buffer.from("ann:s3cret").toString("base64")}`]);
    } finally {
      await proxy.close();
      upstream.closeAllConnections();
      upstream.close();
    }
  });

  it("reports an upstream proxy that refuses as a failure, not a block", async () => {
    const upstream = await startRecordingSocksProxy({ user: "u", pass: "right" });
    const wrong = upstream.url.replace("u:right", "u:wrong");
    const { proxy, port, events } = await startProxy(planProxies({ server: wrong }, {}));
    try {
      const response = await viaProxy(port, `http://allowed.example:${origin.port}/`);
      expect(response.status).toBe(502);
      expect(response.body).toMatch(/rejected the credentials/);
      expect(response.body).not.toContain("wrong");
      expect(events.at(-1)).toMatchObject({ outcome: "failed" });
    } finally {
      await proxy.close();
      await upstream.close();
    }
  });

  it("survives clients that reset the connection while a target is being checked", async () => {
    const slow = new NetworkGate(
      new NetworkPolicy({ allowPrivateHosts: [`slow.example:${origin.port}`] }),
      new HostResolver({}, async () => {
        await new Promise((resolve) => setTimeout(resolve, 100));
        return ["127.0.0.1"];
      }),
    );
    const proxy = new PolicyProxy({ gate: slow, plan: { bypass: [] } });
    const port = await proxy.listen();
    try {
      for (const request of [
        `CONNECT slow.example:${origin.port} HTTP/1.1\r\nHost: slow.example\r\n\r\n`,
        `GET http://slow.example:${origin.port}/ HTTP/1.1\r\nHost: slow.example\r\n\r\n`,
      ]) {
        const socket = net.connect(port, "127.0.0.1");
        await new Promise((resolve) => socket.once("connect", resolve));
        socket.write(request);
        await new Promise((resolve) => setTimeout(resolve, 20));
        socket.resetAndDestroy();
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect((await tunnelThrough(port, `slow.example:${origin.port}`)).status).toBe(200);
    } finally {
      await proxy.close();
    }
  });

  it("a refusing proxy answers 403 to everything", async () => {
    const refusing = new RefusingProxy();
    const port = await refusing.listen();
    try {
      expect((await tunnelThrough(port, "www.google.com:443")).status).toBe(403);
    } finally {
      await refusing.close();
    }
  });
});
