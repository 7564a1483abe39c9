/** The role check on its own: what each role could do, and when the server refuses to run. */
import { describe, expect, inject, it } from "vitest";
import { inspectRole, roleProblem } from "../src/db/role.ts";
import { RoleRefused } from "../src/service.ts";
import { TablePolicy } from "../src/sql/allowlist.ts";
import { captureLog, database, service } from "./support/service.ts";

const shop = inject("shop");
const policy = new TablePolicy(shop.allow.split(","), shop.deny.split(","), "public");

async function report(url: string) {
  const db = database(url, captureLog().log);
  try {
    return await db.readOnly(({ client }) => inspectRole(client, policy, ["public"]));
  } finally {
    await db.close();
  }
}

describe("inspectRole", () => {
  it("finds nothing wrong with a read-only role", async () => {
    const r = await report(shop.readerUrl);
    expect(r.superuser).toBe(false);
    expect(r.writable).toEqual([]);
    expect(roleProblem(r)).toBeUndefined();
  });

  it("names the allowed tables a role can write", async () => {
    const r = await report(shop.writerUrl);
    expect(r.writable).toEqual([{ schema: "public", name: "orders" }]);
    expect(roleProblem(r)).toMatch(/can write to allowed tables \(public\.orders\)/);
  });

  it("ignores write access to tables the model cannot see", async () => {
    const db = database(shop.writerUrl, captureLog().log);
    try {
      const narrow = new TablePolicy(["public.customers"], [], "public");
      const r = await db.readOnly(({ client }) => inspectRole(client, narrow, ["public"]));
      expect(r.writable).toEqual([]);
    } finally {
      await db.close();
    }
  });

  it("flags a superuser", async () => {
    const r = await report(shop.adminUrl);
    expect(r.superuser).toBe(true);
    expect(roleProblem(r)).toMatch(/is a superuser/);
  });
});

describe("the server's decision", () => {
  it.each([
    ["writer", shop.writerUrl],
    ["superuser", shop.adminUrl],
  ])("refuses a %s", async (_name, url) => {
    const s = service(url, { allow: shop.allow, deny: shop.deny });
    try {
      await expect(s.ready()).rejects.toBeInstanceOf(RoleRefused);
      // Every later call is refused the same way, without asking the database again.
      await expect(s.query("SELECT 1", [], { maxRows: 1, maxBytes: 1024, maxValueChars: 10 })).rejects.toBeInstanceOf(
        RoleRefused,
      );
    } finally {
      await s.close();
    }
  });

  it("runs a privileged role only when told to, and says so loudly", async () => {
    const { log, lines } = captureLog();
    const s = service(shop.writerUrl, { allow: shop.allow, deny: shop.deny, allowPrivilegedRole: true }, log);
    try {
      await s.ready();
      expect(lines.join("\n")).toMatch(/"level":"warning".*WARNING: the database role .* can write to allowed tables/);
    } finally {
      await s.close();
    }
  });

  it("treats an unreachable database as unavailable, not as a refusal", async () => {
    const url = new URL(shop.readerUrl);
    url.port = "1";
    const s = service(url.href, { allow: shop.allow, connectTimeoutMs: 500 });
    try {
      await expect(s.ready()).rejects.toMatchObject({ kind: "unavailable" });
      await expect(s.ready()).rejects.toMatchObject({ kind: "unavailable" });
    } finally {
      await s.close();
    }
  });
});
