import { describe, expect, it } from "vitest";
import { CursorCodec, CursorError, nextLink } from "../src/github/cursor.ts";

describe("CursorCodec", () => {
  const codec = new CursorCodec();

  it("round-trips a position for the same listing", () => {
    const cursor = codec.encode("issues:octo/app", { path: "/repositories/1/issues?page=2", skip: 3 });
    expect(codec.decode(cursor, "issues:octo/app")).toEqual({ path: "/repositories/1/issues?page=2", skip: 3 });
  });

  it("rejects a cursor replayed against another listing", () => {
    const cursor = codec.encode("issues:octo/app", { path: "/repositories/1/issues?page=2", skip: 0 });
    expect(() => codec.decode(cursor, "issues:victim/private")).toThrow(CursorError);
  });

  it("rejects an edited cursor", () => {
    const cursor = codec.encode("issues:octo/app", { path: "/repositories/1/issues?page=2", skip: 0 });
    const [payload, signature] = cursor.split(".") as [string, string];
    const forged = Buffer.from(
      JSON.stringify({ s: "issues:octo/app", p: "/repos/victim/private/issues", k: 0 }),
    ).toString("base64url");
    expect(() => codec.decode(`${forged}.${signature}`, "issues:octo/app")).toThrow(/not issued/);
    expect(() => codec.decode(`${payload}.AAAA`, "issues:octo/app")).toThrow(CursorError);
    expect(() => codec.decode("garbage", "issues:octo/app")).toThrow(CursorError);
    expect(() => codec.decode("", "issues:octo/app")).toThrow(CursorError);
  });

  it("rejects cursors from another process (another key)", () => {
    const cursor = new CursorCodec().encode("s", { path: "/x", skip: 0 });
    expect(() => codec.decode(cursor, "s")).toThrow(/restarted/);
  });
});

describe("nextLink", () => {
  it("finds rel=next in a GitHub Link header", () => {
    const link =
      '<https://api.github.com/repositories/1000/issues?per_page=3&page=2>; rel="next", <https://api.github.com/repositories/1000/issues?per_page=3&page=5>; rel="last"';
    expect(nextLink(link)).toBe("https://api.github.com/repositories/1000/issues?per_page=3&page=2");
    expect(nextLink('<https://x/?page=1>; rel="prev"')).toBeUndefined();
    expect(nextLink(undefined)).toBeUndefined();
  });
});
