import { describe, expect, it } from "vitest";
import { AllowlistPatternError, fullNameFromRepositoryUrl, RepoAllowlist } from "../src/github/allowlist.ts";
import { scopeSearchQuery } from "../src/github/search-scope.ts";

describe("RepoAllowlist", () => {
  it("allows everything with *, */* or an empty list", () => {
    for (const patterns of [["*"], ["*/*"], [], ["octo/app", "*"]]) {
      const list = new RepoAllowlist(patterns);
      expect(list.allowsAll).toBe(true);
      expect(list.allows("anyone", "anything")).toBe(true);
    }
  });

  it("matches exact repositories and owner globs, case-insensitively", () => {
    const list = new RepoAllowlist(["octo-org/api", "Acme/*", "team/svc-*"]);
    expect(list.allows("octo-org", "api")).toBe(true);
    expect(list.allows("OCTO-ORG", "API")).toBe(true);
    expect(list.allows("octo-org", "api2")).toBe(false);
    expect(list.allows("octo-org", "ap")).toBe(false);
    expect(list.allows("acme", "anything.js")).toBe(true);
    expect(list.allows("team", "svc-billing")).toBe(true);
    expect(list.allows("team", "web")).toBe(false);
    expect(list.allows("acme-evil", "x")).toBe(false);
    expect(list.allows("evil", "acme")).toBe(false);
  });

  it("never matches malformed names, whatever the pattern", () => {
    const list = new RepoAllowlist(["acme/*"]);
    for (const [owner, repo] of [
      ["acme", ".."],
      ["acme", "."],
      ["acme", "a/b"],
      ["acme/..", "x"],
      ["acme", "x\u200b"],
      ["-acme", "x"],
      ["acme", ""],
    ] as const) {
      expect(list.allows(owner, repo)).toBe(false);
    }
    expect(list.allowsFullName("acme/x/y")).toBe(false);
    expect(list.allowsFullName(undefined)).toBe(false);
  });

  it("rejects malformed patterns at startup", () => {
    for (const bad of ["acme", "acme/", "/x", "a/b/c", "acme/x y", "ac$me/*", "-bad/x"]) {
      expect(() => new RepoAllowlist([bad]), bad).toThrow(AllowlistPatternError);
    }
  });

  it("builds search qualifiers only when they describe the list exactly", () => {
    expect(new RepoAllowlist(["a/x", "b/y"]).searchQualifiers()).toEqual(["repo:a/x", "repo:b/y"]);
    expect(new RepoAllowlist(["a/*", "a/x", "b/y"]).searchQualifiers()).toEqual(["user:a", "repo:b/y"]);
    expect(new RepoAllowlist(["a/svc-*"]).searchQualifiers()).toEqual(["user:a"]);
    expect(new RepoAllowlist(["*/x"]).searchQualifiers()).toBeUndefined();
  });

  it("reads owner/repo from search results' repository URLs", () => {
    expect(fullNameFromRepositoryUrl("https://api.github.com/repos/octo/app")).toBe("octo/app");
    expect(fullNameFromRepositoryUrl("http://127.0.0.1:9/api.github.com/x/repos/o/r")).toBe("o/r");
    expect(fullNameFromRepositoryUrl("https://api.github.com/users/octo")).toBeUndefined();
  });
});

describe("scopeSearchQuery", () => {
  const list = new RepoAllowlist(["octo-org/api", "acme/*"]);

  it("appends qualifiers to an unscoped query", () => {
    expect(scopeSearchQuery("leak is:issue", list)).toEqual({
      ok: true,
      query: "leak is:issue repo:octo-org/api user:acme",
      narrowed: true,
    });
  });

  it("keeps a query already scoped inside the list", () => {
    expect(scopeSearchQuery("bug repo:acme/web", list)).toMatchObject({ ok: true, query: "bug repo:acme/web" });
    expect(scopeSearchQuery("bug org:acme", list)).toMatchObject({ ok: true, query: "bug org:acme" });
  });

  it("refuses a query that names a repository or owner outside the list", () => {
    expect(scopeSearchQuery("secrets repo:victim/private", list)).toMatchObject({
      ok: false,
      refused: "victim/private",
    });
    expect(scopeSearchQuery('x repo:"victim/private"', list)).toMatchObject({ ok: false });
    expect(scopeSearchQuery("x REPO:octo-org/other", list)).toMatchObject({ ok: false });
    expect(scopeSearchQuery("x user:victim", list)).toMatchObject({ ok: false, qualifier: "user:victim" });
    expect(scopeSearchQuery("x org:victim repo:acme/web", list)).toMatchObject({ ok: false });
  });

  it("does not treat exclusions as scope", () => {
    const result = scopeSearchQuery("x -repo:victim/private", list);
    expect(result).toMatchObject({ ok: true, narrowed: true });
  });

  it("falls back to filtering when the qualifiers would make the query too long", () => {
    const many = new RepoAllowlist(Array.from({ length: 30 }, (_, i) => `org${i}/repository-${i}`));
    expect(scopeSearchQuery("bug", many)).toEqual({ ok: true, query: "bug", narrowed: false });
  });

  it("leaves queries alone when everything is allowed", () => {
    expect(scopeSearchQuery("x repo:any/thing", new RepoAllowlist(["*"]))).toEqual({
      ok: true,
      query: "x repo:any/thing",
      narrowed: false,
    });
  });
});
