import { promises as dns } from "node:dns";

export class ResolveError extends Error {
  constructor(
    readonly host: string,
    readonly code: string,
  ) {
    super(`could not resolve ${host} (${code})`);
    this.name = "ResolveError";
  }
}

export interface ResolverOptions {
  /** DNS servers (`host` or `host:port`, IPv6 in brackets) to ask instead of the system resolver. */
  servers?: readonly string[];
  /** How long an answer is reused. The browser connects only to addresses the policy checked. */
  ttlMs?: number;
  timeoutMs?: number;
  maxEntries?: number;
}

export type Lookup = (host: string) => Promise<string[]>;

/**
 * Resolves host names for the network policy: one answer per name is cached briefly and shared by
 * the in-browser check and the proxy, so both judge (and the proxy connects to) the same addresses.
 */
export class HostResolver {
  private readonly cache = new Map<string, { addresses: string[]; expires: number }>();
  private readonly pending = new Map<string, Promise<string[]>>();
  private readonly ttlMs: number;
  private readonly maxEntries: number;
  private readonly lookup: Lookup;

  constructor(options: ResolverOptions = {}, lookup?: Lookup) {
    this.ttlMs = options.ttlMs ?? 30_000;
    this.maxEntries = options.maxEntries ?? 1000;
    this.lookup = lookup ?? createLookup(options);
  }

  async resolve(host: string): Promise<string[]> {
    const cached = this.cache.get(host);
    if (cached && cached.expires > Date.now()) return cached.addresses;
    let pending = this.pending.get(host);
    if (!pending) {
      pending = this.lookup(host).finally(() => this.pending.delete(host));
      this.pending.set(host, pending);
    }
    const addresses = await pending;
    if (this.cache.size >= this.maxEntries) {
      const oldest = this.cache.keys().next().value;
      if (oldest !== undefined) this.cache.delete(oldest);
    }
    this.cache.set(host, { addresses, expires: Date.now() + this.ttlMs });
    return addresses;
  }
}

function createLookup(options: ResolverOptions): Lookup {
  const timeoutMs = options.timeoutMs ?? 5000;
  if (!options.servers?.length) {
    return async (host) => {
      try {
        const answers = await withTimeout(dns.lookup(host, { all: true, verbatim: true }), timeoutMs, host);
        return answers.map((a) => a.address);
      } catch (error) {
        throw asResolveError(host, error);
      }
    };
  }
  const resolver = new dns.Resolver({ timeout: timeoutMs, tries: 2 });
  resolver.setServers([...options.servers]);
  return async (host) => {
    const [v4, v6] = await Promise.allSettled([resolver.resolve4(host), resolver.resolve6(host)]);
    const addresses = [...(v4.status === "fulfilled" ? v4.value : []), ...(v6.status === "fulfilled" ? v6.value : [])];
    if (addresses.length > 0) return addresses;
    const failure = v4.status === "rejected" ? v4.reason : v6.status === "rejected" ? v6.reason : undefined;
    throw asResolveError(host, failure ?? new Error("no addresses"));
  };
}

function asResolveError(host: string, error: unknown): ResolveError {
  const code = (error as NodeJS.ErrnoException)?.code ?? "ENOTFOUND";
  return new ResolveError(host, code);
}

async function withTimeout<T>(promise: Promise<T>, ms: number, host: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new ResolveError(host, "ETIMEOUT")), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
