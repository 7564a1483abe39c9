/**
 * A bounded LRU of GET responses keyed by URL and media type, remembered with their ETag. A repeated
 * read sends `If-None-Match`; GitHub answers 304 without a body (and without spending the primary
 * rate limit), and the cached response is reused. Entries are shared: callers never mutate them.
 */

export interface CachedResponse {
  status: number;
  url: string;
  headers: Record<string, string | number | undefined>;
  data: unknown;
}

interface Entry {
  etag: string;
  response: CachedResponse;
  bytes: number;
}

export interface EtagCacheStats {
  entries: number;
  bytes: number;
  hits: number;
  misses: number;
}

export class EtagCache {
  private readonly entries = new Map<string, Entry>();
  private readonly maxBytes: number;
  private readonly maxEntryBytes: number;
  private bytes = 0;
  private hits = 0;
  private misses = 0;

  constructor(maxBytes: number) {
    this.maxBytes = maxBytes;
    // One huge response must not evict everything else.
    this.maxEntryBytes = Math.max(0, Math.floor(maxBytes / 4));
  }

  /** The ETag to send for `key`, if a response is cached. */
  etagFor(key: string): string | undefined {
    return this.entries.get(key)?.etag;
  }

  /** The cached response after a 304, refreshed to most recently used. */
  revalidated(key: string): CachedResponse | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    this.hits++;
    this.entries.delete(key);
    this.entries.set(key, entry);
    return entry.response;
  }

  store(key: string, response: CachedResponse): void {
    this.misses++;
    const etag = headerString(response.headers.etag);
    this.remove(key);
    if (!etag || this.maxBytes === 0) return;
    const bytes = sizeOf(response);
    if (bytes > this.maxEntryBytes) return;
    this.entries.set(key, { etag, response, bytes });
    this.bytes += bytes;
    for (const [oldest, entry] of this.entries) {
      if (this.bytes <= this.maxBytes) break;
      this.entries.delete(oldest);
      this.bytes -= entry.bytes;
    }
  }

  stats(): EtagCacheStats {
    return { entries: this.entries.size, bytes: this.bytes, hits: this.hits, misses: this.misses };
  }

  private remove(key: string): void {
    const old = this.entries.get(key);
    if (!old) return;
    this.entries.delete(key);
    this.bytes -= old.bytes;
  }
}

function headerString(value: string | number | undefined): string | undefined {
  return value === undefined ? undefined : String(value);
}

function sizeOf(response: CachedResponse): number {
  const length = Number(response.headers["content-length"]);
  if (Number.isFinite(length) && length > 0) return length + 512;
  const { data } = response;
  if (typeof data === "string") return data.length * 2 + 512;
  if (data instanceof ArrayBuffer) return data.byteLength + 512;
  return (JSON.stringify(data)?.length ?? 0) * 2 + 512;
}
