import { describe, expect, it } from "vitest";
import { compilePattern, quoteIdent, TablePolicy } from "../src/sql/allowlist.ts";

describe("TablePolicy", () => {
  it("matches schema.table patterns with globs", () => {
    const policy = new TablePolicy(["public.orders", "sales.*", "public.order_?tems"], [], "public");
    expect(policy.isAllowed("public", "orders")).toBe(true);
    expect(policy.isAllowed("public", "order_items")).toBe(true);
    expect(policy.isAllowed("sales", "anything")).toBe(true);
    expect(policy.isAllowed("public", "customers")).toBe(false);
    expect(policy.isAllowed("salesx", "a")).toBe(false);
  });

  it("qualifies bare patterns with the default schema", () => {
    const policy = new TablePolicy(["orders"], [], "shop");
    expect(policy.isAllowed("shop", "orders")).toBe(true);
    expect(policy.isAllowed("public", "orders")).toBe(false);
  });

  it("lets the denylist win", () => {
    const policy = new TablePolicy(["*.*"], ["*.secret*", "hr.*"], "public");
    expect(policy.isAllowed("public", "orders")).toBe(true);
    expect(policy.isAllowed("public", "secrets")).toBe(false);
    expect(policy.isAllowed("hr", "people")).toBe(false);
  });

  it("never lets a wildcard schema reach the system catalogs", () => {
    const policy = new TablePolicy(["*.*", "pg_*.*"], [], "public");
    for (const schema of ["pg_catalog", "information_schema", "pg_toast", "pg_temp_3"]) {
      expect(policy.isAllowed(schema, "pg_class")).toBe(false);
    }
    expect(
      new TablePolicy(["pg_catalog.pg_stat_activity"], [], "public").isAllowed("pg_catalog", "pg_stat_activity"),
    ).toBe(true);
  });

  it("is exact about case and quoting", () => {
    const policy = new TablePolicy(['"Sales"."Q1 Report"', "public.orders"], [], "public");
    expect(policy.isAllowed("Sales", "Q1 Report")).toBe(true);
    expect(policy.isAllowed("sales", "q1 report")).toBe(false);
    expect(policy.isAllowed("public", "Orders")).toBe(false);
  });

  it("treats regex characters in names literally", () => {
    const policy = new TablePolicy(["public.a+b"], [], "public");
    expect(policy.isAllowed("public", "a+b")).toBe(true);
    expect(policy.isAllowed("public", "aab")).toBe(false);
  });

  it("rejects malformed patterns", () => {
    for (const bad of ["a.b.c", "", ".x", "x.", '"open.x']) {
      expect(() => compilePattern(bad, "public"), bad).toThrow(/invalid table pattern/);
    }
  });

  it("quotes identifiers only when needed", () => {
    expect(quoteIdent("orders")).toBe("orders");
    expect(quoteIdent("Orders")).toBe('"Orders"');
    expect(quoteIdent("order")).toBe('"order"');
    expect(quoteIdent('a"b')).toBe('"a""b"');
  });
});
