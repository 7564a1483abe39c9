import { spawn, spawnSync } from "node:child_process";
import { once } from "node:events";
import { createServer, request, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { LoggingMessageNotificationSchema } from "@modelcontextprotocol/sdk/types.js";
import { exportJWK, generateKeyPair, SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type HttpServerProcess, serverCli, startHttp, startStdio, structured, textOf } from "../src/harness.js";

describe("stdio", () => {
  it("names the bad argument in an isError result", async () => {
    const server = await startStdio("fixture");
    try {
      const result = await server.client.callTool({ name: "echo", arguments: { text: 42 } });
      expect(result.isError).toBe(true);
      expect(textOf(result)).toMatch(/invalid_argument/);
      expect(textOf(result)).toMatch(/`text`/);
      const missing = await server.client.callTool({ name: "count_slowly", arguments: { steps: 2 } });
      expect(missing.isError).toBe(true);
      expect(textOf(missing)).toMatch(/`stepMs`/);
    } finally {
      await server.close();
    }
  });

  it("reports an unexpected error as internal with an id, the stack only in the log, secrets redacted", async () => {
    const server = await startStdio("fixture");
    try {
      const result = await server.client.callTool({ name: "fail_unexpectedly", arguments: {} });
      expect(result.isError).toBe(true);
      const text = textOf(result);
      expect(text).toMatch(/^Error \[internal\]/);
      const id = /id ([0-9a-f]{12})/.exec(text)?.[1];
      expect(id).toBeDefined();
      expect(text).not.toMatch(/exploded|hunter2|\bat .*:\d+:\d+/);
      await expect.poll(() => server.stderr()).toContain(id as string);
      expect(server.stderr()).toMatch(/at .*:\d+:\d+/);
      expect(server.stderr()).not.toContain("hunter2");
    } finally {
      await server.close();
    }
  });

  it("returns an expected refusal with its code and a fix", async () => {
    const server = await startStdio("fixture");
    try {
      const result = await server.client.callTool({ name: "fail_expectedly", arguments: { what: "x" } });
      expect(result.isError).toBe(true);
      expect(textOf(result)).toContain("Error [not_found]: No such thing: x.");
      expect(textOf(result)).toContain("How to fix: Call list_things");
    } finally {
      await server.close();
    }
  });

  it("writes nothing but JSON-RPC to stdout", async () => {
    const child = spawn(process.execPath, [serverCli("fixture"), "--log-level", "debug"], {
      stdio: ["pipe", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => {
      stdout += c.toString();
    });
    child.stderr.on("data", (c: Buffer) => {
      stderr += c.toString();
    });
    const send = (message: object) => child.stdin.write(`${JSON.stringify(message)}\n`);
    send({
      jsonrpc: "2.0",
      id: 1,
      method: "initialize",
      params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "raw", version: "1" } },
    });
    send({ jsonrpc: "2.0", method: "notifications/initialized" });
    send({ jsonrpc: "2.0", id: 2, method: "tools/list" });
    send({ jsonrpc: "2.0", id: 3, method: "tools/call", params: { name: "fail_unexpectedly", arguments: {} } });
    send({
      jsonrpc: "2.0",
      id: 4,
      method: "tools/call",
      params: { name: "show_untrusted", arguments: { text: "hi" } },
    });
    send({ jsonrpc: "2.0", id: 5, method: "tools/call", params: { name: "nope", arguments: {} } });
    child.stdin.write("this is not json\n");
    send({ jsonrpc: "2.0", id: 6, method: "ping" });
    await expect.poll(() => stdout.split("\n").filter(Boolean).length, { timeout: 10_000 }).toBe(7);
    child.stdin.end();
    await once(child, "exit");
    const lines = stdout.split("\n").filter(Boolean);
    for (const line of lines) {
      const message = JSON.parse(line);
      expect(message.jsonrpc).toBe("2.0");
    }
    const byId = new Map(lines.map((l) => JSON.parse(l)).map((m) => [m.id, m]));
    expect(byId.get(null).error.code).toBe(-32700);
    expect(byId.get(5).error.message).toMatch(/Unknown tool/);
    expect(byId.get(6).result).toEqual({});
    expect(stderr).toContain("showing untrusted text");
  });

  it("marks untrusted content in _meta", async () => {
    const server = await startStdio("fixture");
    try {
      const result = await server.client.callTool({ name: "show_untrusted", arguments: { text: "a\u200Bb\u202Ec" } });
      expect(textOf(result)).toBe("abc");
      expect(result._meta?.["io.portside/untrusted-content"]).toBe(true);
    } finally {
      await server.close();
    }
  });

  it("sends progress during a long call, and cancelling aborts the handler", async () => {
    const server = await startStdio("fixture");
    try {
      const progress: number[] = [];
      const controller = new AbortController();
      const call = server.client.callTool({ name: "count_slowly", arguments: { steps: 100, stepMs: 50 } }, undefined, {
        signal: controller.signal,
        onprogress: (p) => {
          progress.push(p.progress);
          if (progress.length === 3) controller.abort("enough");
        },
      });
      await expect(call).rejects.toThrow();
      expect(progress).toEqual([1, 2, 3]);
      await expect
        .poll(async () => structured(await server.client.callTool({ name: "last_count", arguments: {} })))
        .toMatchObject({ started: true, aborted: true, finished: false });
      const last = structured<{ steps: number }>(await server.client.callTool({ name: "last_count", arguments: {} }));
      expect(last.steps).toBeLessThan(10);
    } finally {
      await server.close();
    }
  });

  it("handles a 50 MiB message, refuses one over the limit, and keeps answering", async () => {
    const server = await startStdio("fixture");
    try {
      const big = "x".repeat(50 * 1024 * 1024);
      const result = await server.client.callTool({ name: "echo", arguments: { text: big } });
      expect(structured(result).length).toBe(big.length);
      expect(textOf(result).length).toBeLessThan(41_000);
      expect(textOf(result)).toContain("[Truncated");
      const huge = "y".repeat(70 * 1024 * 1024);
      await expect(server.client.callTool({ name: "echo", arguments: { text: huge } })).rejects.toThrow(
        /too large.*64\.0 MiB/i,
      );
      await expect(server.client.ping()).resolves.toEqual({});
      const after = await server.client.callTool({ name: "echo", arguments: { text: "still here" } });
      expect(textOf(after)).toBe("still here");
      expect(server.transportErrors).toEqual([]);
    } finally {
      await server.close();
    }
  });

  it("forwards log messages only after the client set a level", async () => {
    const server = await startStdio("fixture");
    try {
      const messages: unknown[] = [];
      server.client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => {
        messages.push(n.params);
      });
      await server.client.callTool({ name: "show_untrusted", arguments: { text: "one" } });
      await server.client.setLoggingLevel("warning");
      await server.client.callTool({ name: "show_untrusted", arguments: { text: "two" } });
      await expect.poll(() => messages.length).toBe(1);
      expect(messages[0]).toMatchObject({ level: "warning", data: { message: "showing untrusted text", length: 3 } });
      await server.client.setLoggingLevel("error");
      await server.client.callTool({ name: "show_untrusted", arguments: { text: "three" } });
      await server.client.ping();
      expect(messages.length).toBe(1);
    } finally {
      await server.close();
    }
  });

  it("ends cleanly on SIGTERM", async () => {
    const child = spawn(process.execPath, [serverCli("fixture")], { stdio: ["pipe", "pipe", "pipe"] });
    await new Promise((r) => setTimeout(r, 300));
    child.kill("SIGTERM");
    const [code, signal] = await once(child, "exit");
    expect(signal).toBeNull();
    expect(code).toBe(0);
  });
});

describe("configuration", () => {
  const run = (...args: string[]) =>
    spawnSync(process.execPath, [serverCli("fixture"), ...args], { encoding: "utf8", input: "" });

  it("rejects bad settings with one line on stderr and exit code 2", () => {
    for (const args of [
      ["--port", "nope", "--http"],
      ["--bogus"],
      ["--max-sessions", "-1"],
      ["--http", "--host", "0.0.0.0"],
    ]) {
      const result = run(...args);
      expect(result.status).toBe(2);
      expect(result.stdout).toBe("");
      expect(result.stderr.trim().split("\n")).toHaveLength(1);
      expect(result.stderr).toMatch(/^portside-fixture: /);
    }
    expect(run("--port", "nope").stderr).toContain("--port");
  });

  it("prints help and version", () => {
    const help = run("--help");
    expect(help.status).toBe(0);
    expect(help.stdout).toContain("--greeting");
    expect(help.stdout).toContain("MCP_AUTH_TOKEN");
    expect(run("--version").stdout.trim()).toBe("0.0.0");
  });
});

describe("Streamable HTTP", () => {
  const TOKEN = "correct-horse-battery-staple";
  let server: HttpServerProcess;

  beforeAll(async () => {
    server = await startHttp("fixture", ["--session-idle-seconds", "2", "--max-sessions", "3"], {
      env: { MCP_AUTH_TOKEN: TOKEN },
    });
  });
  afterAll(async () => {
    await server?.stop();
  });

  const post = (body: unknown, headers: Record<string, string> = {}) =>
    fetch(server.url, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        accept: "application/json, text/event-stream",
        authorization: `Bearer ${TOKEN}`,
        ...headers,
      },
      body: JSON.stringify(body),
    });
  const initialize = {
    jsonrpc: "2.0",
    id: 1,
    method: "initialize",
    params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "raw", version: "1" } },
  };

  it("serves a real client with a token, including progress", async () => {
    const client = await server.connect({ token: TOKEN });
    const result = await client.callTool({ name: "echo", arguments: { text: "over http" } });
    expect(structured(result)).toEqual({ text: "over http", length: 9 });
    const progress: number[] = [];
    await client.callTool({ name: "count_slowly", arguments: { steps: 3, stepMs: 10 } }, undefined, {
      onprogress: (p) => {
        progress.push(p.progress);
      },
    });
    expect(progress).toEqual([1, 2, 3]);
    await client.close();
  });

  it("answers 401 without a token, pointing at the resource metadata", async () => {
    const response = await post(initialize, { authorization: "" });
    expect(response.status).toBe(401);
    const challenge = response.headers.get("www-authenticate") ?? "";
    expect(challenge).toMatch(/^Bearer /);
    const metadataUrl = /resource_metadata="([^"]+)"/.exec(challenge)?.[1];
    expect(metadataUrl).toBe(new URL("/.well-known/oauth-protected-resource/mcp", server.url).href);
    const metadata = (await (await fetch(metadataUrl as string)).json()) as { resource: string };
    expect(metadata.resource).toBe(server.url.href);
    const wrong = await post(initialize, { authorization: "Bearer wrong-token-wrong-token" });
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get("www-authenticate")).toMatch(/error="invalid_token"/);
  });

  it("refuses a bad Origin and a bad Host with 403", async () => {
    expect((await post(initialize, { origin: "https://evil.example" })).status).toBe(403);
    const port = server.url.port;
    expect((await post(initialize, { origin: `http://localhost:${port}` })).status).toBe(200);
    const badHost = await new Promise<number>((resolve, reject) => {
      const req = request(
        {
          host: "127.0.0.1",
          port,
          path: "/mcp",
          method: "POST",
          headers: { host: "evil.example", "content-type": "application/json" },
        },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on("error", reject);
      req.end(JSON.stringify(initialize));
    });
    expect(badHost).toBe(403);
  });

  it("answers 404 for an unknown session and for one that expired when idle", async () => {
    const unknown = await post({ jsonrpc: "2.0", id: 2, method: "ping" }, { "mcp-session-id": "no-such-session" });
    expect(unknown.status).toBe(404);
    const opened = await post(initialize);
    const session = opened.headers.get("mcp-session-id") as string;
    await opened.text();
    expect(session).toBeTruthy();
    const ok = await post(
      { jsonrpc: "2.0", id: 2, method: "ping" },
      { "mcp-session-id": session, "mcp-protocol-version": "2025-06-18" },
    );
    expect(ok.status).toBe(200);
    await ok.text();
    // Idle limit is 2 s and the sweep runs every 0.5 s: untouched for 3.5 s, the session is gone.
    await new Promise((resolve) => setTimeout(resolve, 3500));
    const expired = await post(
      { jsonrpc: "2.0", id: 3, method: "ping" },
      { "mcp-session-id": session, "mcp-protocol-version": "2025-06-18" },
    );
    expect(expired.status).toBe(404);
    const deleted = await post(initialize);
    const id = deleted.headers.get("mcp-session-id") as string;
    await deleted.text();
    const del = await fetch(server.url, {
      method: "DELETE",
      headers: { authorization: `Bearer ${TOKEN}`, "mcp-session-id": id, "mcp-protocol-version": "2025-06-18" },
    });
    expect(del.status).toBe(200);
    const afterDelete = await post(
      { jsonrpc: "2.0", id: 2, method: "ping" },
      { "mcp-session-id": id, "mcp-protocol-version": "2025-06-18" },
    );
    expect(afterDelete.status).toBe(404);
  });

  it("aborts a running call when its session ends", async () => {
    const observer = await server.connect({ token: TOKEN });
    const client = await server.connect({ token: TOKEN });
    const call = client
      .callTool({ name: "count_slowly", arguments: { steps: 200, stepMs: 50 } })
      .catch((error: unknown) => error);
    const lastCount = async () => structured(await observer.callTool({ name: "last_count", arguments: {} }));
    await expect.poll(lastCount).toMatchObject({ started: true, finished: false, aborted: false });
    // DELETE ends the session on the server while the call is still counting.
    await (client.transport as unknown as { terminateSession(): Promise<void> }).terminateSession();
    await expect.poll(lastCount, { timeout: 5000 }).toMatchObject({ aborted: true, finished: false });
    await client.close();
    await call;
    await observer.close();
  });

  it("limits body size and session count, and answers /healthz", async () => {
    const health = await fetch(new URL("/healthz", server.url));
    expect(health.status).toBe(200);
    expect(((await health.json()) as { status: string }).status).toBe("ok");
    const tooBig = await post({ ...initialize, params: { ...initialize.params, pad: "x".repeat(17 * 1024 * 1024) } });
    expect(tooBig.status).toBe(413);
    const opened: string[] = [];
    let refused: Response | undefined;
    for (let i = 0; i < 5 && !refused; i++) {
      const r = await post(initialize);
      await r.text();
      if (r.status === 503) refused = r;
      else opened.push(r.headers.get("mcp-session-id") as string);
    }
    expect(refused?.status).toBe(503);
    expect(opened.length).toBeLessThanOrEqual(3);
    for (const id of opened) {
      await fetch(server.url, {
        method: "DELETE",
        headers: { authorization: `Bearer ${TOKEN}`, "mcp-session-id": id, "mcp-protocol-version": "2025-06-18" },
      });
    }
  });

  it("ends cleanly on SIGTERM", async () => {
    const other = await startHttp("fixture");
    const client = await other.connect();
    await client.ping();
    other.process.kill("SIGTERM");
    const [code] = await once(other.process, "exit");
    expect(code).toBe(0);
  });
});

describe("JWT bearer auth against a JWKS", () => {
  let jwks: Server;
  let server: HttpServerProcess;
  let sign: (claims: { aud?: string; exp?: number; iss?: string }) => Promise<string>;
  const ISSUER = "https://auth.example.test";
  const AUDIENCE = "https://mcp.example.test/mcp";

  beforeAll(async () => {
    const { publicKey, privateKey } = await generateKeyPair("ES256");
    const jwk = { ...(await exportJWK(publicKey)), kid: "k1", alg: "ES256", use: "sig" };
    jwks = createServer((_req, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ keys: [jwk] }));
    });
    jwks.listen(0, "127.0.0.1");
    await once(jwks, "listening");
    const port = (jwks.address() as AddressInfo).port;
    sign = async ({ aud = AUDIENCE, exp = Math.floor(Date.now() / 1000) + 600, iss = ISSUER }) =>
      new SignJWT({ scope: "mcp" })
        .setProtectedHeader({ alg: "ES256", kid: "k1" })
        .setIssuer(iss)
        .setAudience(aud)
        .setSubject("user-1")
        .setIssuedAt(exp - 1200)
        .setExpirationTime(exp)
        .sign(privateKey);
    server = await startHttp("fixture", [
      "--jwks-url",
      `http://127.0.0.1:${port}/jwks.json`,
      "--jwt-issuer",
      ISSUER,
      "--jwt-audience",
      AUDIENCE,
      "--resource-url",
      AUDIENCE,
    ]);
  });
  afterAll(async () => {
    await server?.stop();
    jwks?.close();
  });

  it("accepts a valid token and refuses expired or wrong-audience ones with 401", async () => {
    const client = await server.connect({ token: await sign({}) });
    expect(textOf(await client.callTool({ name: "echo", arguments: { text: "jwt" } }))).toBe("jwt");
    const expired = await sign({ exp: Math.floor(Date.now() / 1000) - 60 });
    await expect(server.connect({ token: expired })).rejects.toThrow();
    for (const token of [
      expired,
      await sign({ aud: "https://other.example/mcp" }),
      await sign({ iss: "https://evil" }),
    ]) {
      const response = await fetch(server.url, {
        method: "POST",
        headers: {
          authorization: `Bearer ${token}`,
          "content-type": "application/json",
          accept: "application/json, text/event-stream",
        },
        body: "{}",
      });
      expect(response.status).toBe(401);
      expect(response.headers.get("www-authenticate")).toMatch(/invalid_token.*resource_metadata=/);
    }
    const metadata = (await (
      await fetch(new URL("/.well-known/oauth-protected-resource/mcp", server.url))
    ).json()) as object;
    expect(metadata).toMatchObject({ resource: AUDIENCE, authorization_servers: [ISSUER] });
  });
});
