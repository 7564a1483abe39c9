import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { REPO_ROOT, serverCli } from "../src/harness.js";
import { launchFor, stopLaunchServices } from "../src/launch.js";
import { SERVER_JSON_SCHEMA_URL, serverJsonSchema } from "../src/server-json.js";
import { serverPackages } from "../src/servers.js";

const servers = serverPackages();

afterAll(async () => {
  await stopLaunchServices();
});

describe("package metadata", () => {
  it.each(servers.map((s) => [s.name, s] as const))("%s has complete npm metadata", (name, { dir, pkg }) => {
    expect(pkg.name).toBe(`@portside/server-${name}`);
    expect(pkg.version).toMatch(/^\d+\.\d+\.\d+/);
    expect(pkg.description?.length).toBeGreaterThan(20);
    expect(pkg.keywords).toEqual(expect.arrayContaining(["mcp"]));
    expect(pkg.license).toBe("MIT");
    expect(pkg.repository?.url).toMatch(/^git\+https:\/\//);
    expect(pkg.repository?.directory).toBe(`servers/${name}`);
    expect(pkg.engines?.node).toBe(">=22.19");
    expect(pkg.files).toEqual(["dist"]);
    expect(pkg.mcpName).toMatch(/^io\.github\.[\w-]+\/[\w.-]+$/);
    expect(Object.values(pkg.bin ?? {})).toEqual(["dist/cli.js"]);
    expect(pkg.dependencies?.["@portside/shared"]).toMatch(/^workspace:\^/);
    expect(readFileSync(join(dir, "dist", "cli.js"), "utf8").startsWith("#!/usr/bin/env node\n")).toBe(true);
  });
});

describe("MCP Registry manifests", () => {
  it.each(servers.map((s) => [s.name, s] as const))("%s has a valid server.json", (name, { dir, pkg }) => {
    const manifest = JSON.parse(readFileSync(join(dir, "server.json"), "utf8"));
    const parsed = serverJsonSchema.safeParse(manifest);
    expect(parsed.error?.issues ?? []).toEqual([]);
    const doc = parsed.data!;
    expect(doc.$schema).toBe(SERVER_JSON_SCHEMA_URL);
    expect(doc.name).toBe(pkg.mcpName);
    expect(doc.version).toBe(pkg.version);
    const npm = doc.packages.find((p) => p.registryType === "npm");
    expect(npm).toMatchObject({ identifier: pkg.name, version: pkg.version, transport: { type: "stdio" } });
    // Every variable and flag the manifest promises must be one the server really reads.
    const help = spawnSync(process.execPath, [serverCli(name), "--help"], { encoding: "utf8" }).stdout;
    for (const variable of npm?.environmentVariables ?? []) expect(help, variable.name).toContain(variable.name);
    for (const arg of npm?.packageArguments ?? []) {
      if (arg.type === "named") expect(help, arg.name).toContain(arg.name);
    }
  });
});

describe("containers", () => {
  it.each(servers.map((s) => [s.name, s] as const))("%s has an honest Dockerfile", (_name, { dir, pkg }) => {
    const lines = readFileSync(join(dir, "Dockerfile"), "utf8")
      .replace(/\\\n/g, " ")
      .split("\n")
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith("#"));
    const instructions = lines.map((l) => {
      const [op, ...rest] = l.split(/\s+/);
      return { op: (op ?? "").toUpperCase(), args: rest.join(" ") };
    });
    const of = (op: string) => instructions.filter((i) => i.op === op);
    expect(of("FROM")[0]?.args).toMatch(/^node:22/);
    expect(of("RUN").some((i) => i.args.includes(`${pkg.name}@${pkg.version}`))).toBe(true);
    const user = of("USER").at(-1)?.args;
    expect(user).toBeDefined();
    expect(user).not.toMatch(/^(root|0)(:|$)/);
    const health = of("HEALTHCHECK")[0]?.args ?? "";
    expect(health).toContain("/healthz");
    const command = [...of("ENTRYPOINT"), ...of("CMD")].map((i) => i.args).join(" ");
    expect(command).toContain(Object.keys(pkg.bin ?? {})[0] as string);
    expect(command).toContain("--http");
    const port = /MCP_PORT[= ](\d+)/.exec(
      of("ENV")
        .map((i) => i.args)
        .join(" "),
    )?.[1];
    expect(port).toBeDefined();
    expect(of("EXPOSE")[0]?.args).toBe(port);
    expect(health).toContain(`:${port}/healthz`);
  });

  it("docker-compose.yml offers the services the tests can use", () => {
    const compose = parseYaml(readFileSync(join(REPO_ROOT, "docker-compose.yml"), "utf8")) as {
      services: Record<string, { image: string; ports?: string[]; healthcheck?: unknown; environment?: unknown }>;
    };
    expect(compose.services.postgres?.image).toMatch(/^postgres:\d+/);
    expect(compose.services.pgvector?.image).toMatch(/^pgvector\/pgvector:/);
    for (const service of Object.values(compose.services)) {
      expect(service.healthcheck).toBeDefined();
      for (const port of service.ports ?? []) expect(port).toMatch(/^127\.0\.0\.1:/);
    }
  });
});

describe("pack, install and run like npx", () => {
  const work = mkdtempSync(join(tmpdir(), "portside-pack-"));
  const app = join(work, "app");

  beforeAll(() => {
    const tarballs = join(work, "tarballs");
    mkdirSync(tarballs);
    const packed = [join(REPO_ROOT, "shared"), ...servers.map((s) => s.dir)].map((dir) => {
      const out = execFileSync("pnpm", ["pack", "--pack-destination", tarballs], { cwd: dir, encoding: "utf8" });
      return out.trim().split("\n").at(-1) as string;
    });
    mkdirSync(app);
    writeFileSync(join(app, "package.json"), JSON.stringify({ name: "empty-folder", private: true }));
    execFileSync("npm", ["install", "--no-audit", "--no-fund", "--omit=dev", "--loglevel=error", ...packed], {
      cwd: app,
      env: { ...process.env, PUPPETEER_SKIP_DOWNLOAD: "1", npm_config_workspaces: "false" },
      stdio: "pipe",
      timeout: 600_000,
    });
  }, 900_000);

  it("publishes only what runs, with the workspace protocol replaced", () => {
    for (const { pkg } of servers) {
      const installed = JSON.parse(readFileSync(join(app, "node_modules", pkg.name, "package.json"), "utf8"));
      expect(installed.dependencies["@portside/shared"]).toMatch(/^\^\d+\.\d+\.\d+$/);
      expect(existsSync(join(app, "node_modules", pkg.name, "src"))).toBe(false);
      expect(existsSync(join(app, "node_modules", pkg.name, "test"))).toBe(false);
    }
  });

  it.each(servers.map((s) => [s.name, s] as const))(
    "%s starts from its installed bin and lists its tools",
    async (name, { pkg }) => {
      const bin = join(app, "node_modules", ".bin", Object.keys(pkg.bin ?? {})[0] as string);
      const launch = await launchFor(name);
      const client = new Client({ name: "packaging-smoke", version: "1.0.0" });
      await client.connect(
        new StdioClientTransport({
          command: bin,
          args: launch.args,
          env: { ...(process.env as Record<string, string>), ...launch.env },
          stderr: "ignore",
          cwd: app,
        }),
      );
      try {
        expect(client.getServerVersion()?.name).toBe(pkg.name);
        const { tools } = await client.listTools();
        expect(tools.length).toBeGreaterThan(0);
      } finally {
        await client.close();
      }
    },
    120_000,
  );
});

describe("MCP Inspector CLI", () => {
  it.each(["fixture", ...servers.map((s) => s.name)])("lists the tools of %s", async (name) => {
    const launch = await launchFor(name);
    const inspector = join(REPO_ROOT, "test", "node_modules", ".bin", "inspector");
    const envArgs = Object.entries(launch.env).flatMap(([key, value]) => ["-e", `${key}=${value}`]);
    const result = spawnSync(
      inspector,
      ["--cli", "--method", "tools/list", ...envArgs, "--", process.execPath, serverCli(name), ...launch.args],
      {
        encoding: "utf8",
        env: { ...process.env, MCP_CATALOG_PATH: join(mkdtempSync(join(tmpdir(), "inspector-")), "mcp.json") },
        timeout: 120_000,
      },
    );
    expect(result.status, result.stderr).toBe(0);
    const listed = JSON.parse(result.stdout) as { tools: Array<{ name: string }> };
    expect(listed.tools.length).toBeGreaterThan(0);
  });
});
