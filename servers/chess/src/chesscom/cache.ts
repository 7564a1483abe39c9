/**
 * A private HTTP cache for Chess.com answers: it keeps the validators (ETag, Last-Modified) so stale
 * entries can be revalidated with a conditional request, and it honours the freshness Chess.com
 * sends (`Cache-Control: max-age`, less `Age`). Bounded by the bytes of the bodies it holds, least
 * recently used first out.
 */

export interface CacheEntry {
  /** The parsed body (JSON value or text). Shared between callers: never mutate it. */
  value: unknown;
  etag: string | undefined;
  /** Sent back verbatim: Chess.com's dates are not in HTTP-date format, so they are never parsed. */
  lastModified: string | undefined;
  /** Epoch ms until which the entry may be served without asking Chess.com. */
  freshUntil: number;
  bytes: number;
}

export interface Freshness {
  /** Never store the answer. */
  noStore: boolean;
  /** Seconds the answer stays fresh from now; 0 means "revalidate before every use". */
  lifetimeSeconds: number;
}

/** Reads the freshness a response grants, following RFC 9111 for a private cache. */
export function freshness(headers: Record<string, string | string[] | undefined>, now = Date.now()): Freshness {
  const directives = parseCacheControl(header(headers, "cache-control"));
  if (directives.has("no-store")) return { noStore: true, lifetimeSeconds: 0 };
  if (directives.has("no-cache")) return { noStore: false, lifetimeSeconds: 0 };
  const age = nonNegative(header(headers, "age")) ?? 0;
  const maxAge = nonNegative(directives.get("max-age"));
  if (maxAge !== undefined) return { noStore: false, lifetimeSeconds: Math.max(0, maxAge - age) };
  const expires = Date.parse(header(headers, "expires") ?? "");
  const date = Date.parse(header(headers, "date") ?? "");
  if (Number.isFinite(expires)) {
    const base = Number.isFinite(date) ? date : now;
    return { noStore: false, lifetimeSeconds: Math.max(0, Math.floor((expires - base) / 1000) - age) };
  }
  return { noStore: false, lifetimeSeconds: 0 };
}

export class ResponseCache {
  private readonly entries = new Map<string, CacheEntry>();
  private bytes = 0;

  constructor(private readonly maxBytes: number) {}

  get size(): number {
    return this.entries.size;
  }

  get totalBytes(): number {
    return this.bytes;
  }

  /** The entry for a URL, marked as recently used. */
  get(key: string): CacheEntry | undefined {
    const entry = this.entries.get(key);
    if (entry) {
      this.entries.delete(key);
      this.entries.set(key, entry);
    }
    return entry;
  }

  set(key: string, entry: CacheEntry): void {
    this.delete(key);
    // One answer may not push everything else out.
    if (entry.bytes > this.maxBytes / 2) return;
    this.entries.set(key, entry);
    this.bytes += entry.bytes;
    for (const [oldest, old] of this.entries) {
      if (this.bytes <= this.maxBytes) break;
      this.entries.delete(oldest);
      this.bytes -= old.bytes;
    }
  }

  delete(key: string): void {
    const entry = this.entries.get(key);
    if (!entry) return;
    this.entries.delete(key);
    this.bytes -= entry.bytes;
  }

  clear(): void {
    this.entries.clear();
    this.bytes = 0;
  }
}

function parseCacheControl(value: string | undefined): Map<string, string | undefined> {
  const directives = new Map<string, string | undefined>();
  for (const part of (value ?? "").split(",")) {
    const [name, raw] = part.split("=", 2);
    const key = name?.trim().toLowerCase();
    if (!key) continue;
    directives.set(key, raw?.trim().replace(/^"(.*)"$/, "$1"));
  }
  return directives;
}

export function header(headers: Record<string, string | string[] | undefined>, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function nonNegative(value: string | undefined): number | undefined {
  if (value === undefined || !/^\d+$/.test(value.trim())) return undefined;
  return Number(value.trim());
}
