import { describe, expect, it } from "vitest";
import { parseIp } from "../src/policy/address.ts";
import {
  HostPatternError,
  matchesAddress,
  matchesHost,
  normalizeHost,
  parseHostPattern,
  parseHostPatterns,
} from "../src/policy/hosts.ts";

describe("normalizeHost", () => {
  it.each([
    ["Example.COM", "example.com"],
    ["example.com.", "example.com"],
    ["[::1]", "::1"],
    ["[0:0::1]", "::1"],
    ["bücher.de", "xn--bcher-kva.de"],
    ["127.0.0.1", "127.0.0.1"],
  ])("%s → %s", (input, expected) => {
    expect(normalizeHost(input)).toBe(expected);
  });
  it.each(["", "a..b", "exa mple.com", "a/b", "user@host", "a%2fb", "[::1"])("refuses %j", (input) => {
    expect(normalizeHost(input)).toBeUndefined();
  });
});

describe("parseHostPattern", () => {
  it("reads every form", () => {
    expect(parseHostPattern("Example.com")).toMatchObject({ kind: "exact", host: "example.com" });
    expect(parseHostPattern("example.com:8080")).toMatchObject({ kind: "exact", host: "example.com", port: 8080 });
    expect(parseHostPattern("*.example.com")).toMatchObject({ kind: "subdomains", includeApex: false });
    expect(parseHostPattern(".example.com")).toMatchObject({ kind: "subdomains", includeApex: true });
    expect(parseHostPattern("10.0.0.1")).toMatchObject({ kind: "ip" });
    expect(parseHostPattern("127.0.0.1:3000")).toMatchObject({ kind: "ip", port: 3000 });
    expect(parseHostPattern("[::1]:3000")).toMatchObject({ kind: "ip", port: 3000 });
    expect(parseHostPattern("[::1]")).toMatchObject({ kind: "ip" });
    expect(parseHostPattern("fd00::1")).toMatchObject({ kind: "ip" });
    expect(parseHostPattern("10.0.0.0/8")).toMatchObject({ kind: "cidr" });
    expect(parseHostPattern("fd00::/8")).toMatchObject({ kind: "cidr" });
  });
  it.each([
    ["", /empty/],
    ["*", /leave the list empty/],
    ["http://example.com", /not a URL/],
    ["example.com:http", /port must be a number/],
    ["example.com:0", /out of range/],
    ["example.com:70000", /out of range/],
    ["ex*ample.com", /wildcards go first/],
    ["*.", /not a valid domain/],
    ["10.0.0.0/40", /CIDR/],
    ["[::1]x", /expected ":port"/],
    ["[::1", /missing "]"/],
  ])("refuses %j", (text, message) => {
    expect(() => parseHostPattern(text)).toThrow(HostPatternError);
    expect(() => parseHostPattern(text)).toThrow(message);
  });
  it("splits lists on commas, spaces and semicolons", () => {
    expect(parseHostPatterns(["a.com, b.com;c.com", " d.com "]).map((p) => p.text)).toEqual([
      "a.com",
      "b.com",
      "c.com",
      "d.com",
    ]);
  });
});

describe("matchesHost", () => {
  it("matches exact hosts, with and without a port", () => {
    expect(matchesHost(parseHostPattern("example.com"), "example.com", 443)).toBe(true);
    expect(matchesHost(parseHostPattern("example.com"), "www.example.com", 443)).toBe(false);
    expect(matchesHost(parseHostPattern("example.com:8080"), "example.com", 8080)).toBe(true);
    expect(matchesHost(parseHostPattern("example.com:8080"), "example.com", 80)).toBe(false);
  });
  it("matches subdomains, and the apex only with a leading dot", () => {
    const star = parseHostPattern("*.example.com");
    expect(matchesHost(star, "a.example.com", 80)).toBe(true);
    expect(matchesHost(star, "a.b.example.com", 80)).toBe(true);
    expect(matchesHost(star, "example.com", 80)).toBe(false);
    expect(matchesHost(star, "badexample.com", 80)).toBe(false);
    const dot = parseHostPattern(".example.com");
    expect(matchesHost(dot, "example.com", 80)).toBe(true);
    expect(matchesHost(dot, "x.example.com", 80)).toBe(true);
    expect(matchesHost(dot, "xexample.com", 80)).toBe(false);
  });
  it("matches IP literals whatever their spelling, and CIDR ranges", () => {
    expect(matchesHost(parseHostPattern("[::1]"), normalizeHost("[0:0:0:0:0:0:0:1]")!, 80)).toBe(true);
    expect(matchesHost(parseHostPattern("127.0.0.1:3000"), "127.0.0.1", 3000)).toBe(true);
    expect(matchesHost(parseHostPattern("127.0.0.1:3000"), "127.0.0.1", 3001)).toBe(false);
    expect(matchesHost(parseHostPattern("10.0.0.0/8"), "10.9.8.7", 80)).toBe(true);
    expect(matchesHost(parseHostPattern("10.0.0.0/8"), "example.com", 80)).toBe(false);
    expect(matchesHost(parseHostPattern("127.0.0.1"), "localhost", 80)).toBe(false);
  });
  it("matches resolved addresses only with IP and CIDR patterns", () => {
    const address = parseIp("203.0.113.5")!;
    expect(matchesAddress(parseHostPattern("203.0.113.0/24"), address, 80)).toBe(true);
    expect(matchesAddress(parseHostPattern("203.0.113.5:443"), address, 80)).toBe(false);
    expect(matchesAddress(parseHostPattern("example.com"), address, 80)).toBe(false);
  });
});
