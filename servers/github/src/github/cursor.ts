import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";

/** Where the next page of a listing starts: a GitHub URL (from its `Link` header) and items to skip on it. */
export interface PagePosition {
  /** Path and query relative to the API base URL, e.g. `/repositories/1/issues?page=2`. */
  path: string;
  /** Items of that page already shown (when the response budget cut a page short). */
  skip: number;
}

export class CursorError extends Error {}

/**
 * Opaque, tamper-proof page cursors. A cursor carries the URL GitHub gave for the next page, bound
 * with an HMAC to the listing it belongs to (`scope`, e.g. `issues:octo/app`). A cursor edited by
 * the model, or replayed against another repository, is rejected, so paging can never reach a
 * repository the allowlist did not approve for the first page. The key lives only in this process:
 * cursors stop working when the server restarts.
 */
export class CursorCodec {
  private readonly key: Buffer;

  constructor(key: Buffer = randomBytes(32)) {
    this.key = key;
  }

  encode(scope: string, position: PagePosition): string {
    const payload = Buffer.from(JSON.stringify({ s: scope, p: position.path, k: position.skip })).toString("base64url");
    return `${payload}.${this.sign(payload)}`;
  }

  decode(cursor: string, scope: string): PagePosition {
    const dot = cursor.indexOf(".");
    if (dot <= 0) throw new CursorError("the cursor is malformed");
    const payload = cursor.slice(0, dot);
    const signature = Buffer.from(cursor.slice(dot + 1), "base64url");
    const expected = Buffer.from(this.sign(payload), "base64url");
    if (signature.length !== expected.length || !timingSafeEqual(signature, expected)) {
      throw new CursorError("the cursor was not issued by this server (or the server restarted since)");
    }
    let parsed: { s?: unknown; p?: unknown; k?: unknown };
    try {
      parsed = JSON.parse(Buffer.from(payload, "base64url").toString("utf8")) as typeof parsed;
    } catch {
      throw new CursorError("the cursor is malformed");
    }
    if (parsed.s !== scope) throw new CursorError("the cursor belongs to a different listing");
    if (typeof parsed.p !== "string" || !parsed.p.startsWith("/") || typeof parsed.k !== "number") {
      throw new CursorError("the cursor is malformed");
    }
    return { path: parsed.p, skip: Math.max(0, Math.floor(parsed.k)) };
  }

  private sign(payload: string): string {
    return createHmac("sha256", this.key).update(payload).digest().subarray(0, 16).toString("base64url");
  }
}

/** The `rel="next"` URL of a GitHub `Link` header. */
export function nextLink(link: string | undefined): string | undefined {
  if (!link) return undefined;
  for (const part of link.split(",")) {
    const match = /<([^>]+)>\s*;\s*rel="([^"]+)"/.exec(part);
    if (match && match[2]!.split(/\s+/).includes("next")) return match[1];
  }
  return undefined;
}
