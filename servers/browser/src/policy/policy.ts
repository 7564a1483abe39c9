import { type AddressClass, classifyAddress, type IpAddress, PRIVATE_NETWORK_KINDS, parseIp } from "./address.js";
import { type HostPattern, matchesAddress, matchesHost, normalizeHost, parseHostPatterns } from "./hosts.js";

/**
 * The browser's network policy, as pure decisions. Every request the browser makes is judged in
 * two steps: the URL (scheme, host lists, names and IP literals) before any DNS lookup, then every
 * address the host name resolved to. The caller resolves names itself and connects only to an
 * address this policy accepted, so a DNS answer that changes between check and use cannot slip
 * through.
 */

export interface PolicySettings {
  /** When non-empty, only these hosts (and `allowPrivateHosts`) may be reached. */
  allowHosts?: readonly string[];
  /** Never reached. IP and CIDR entries also match the addresses a name resolves to. */
  blockHosts?: readonly string[];
  /** Hosts (as written in the URL) that may resolve to private, loopback or link-local addresses. */
  allowPrivateHosts?: readonly string[];
  /** Opens loopback, private, link-local and shared address space. Metadata endpoints stay closed. */
  allowPrivateNetwork?: boolean;
}

export type Rule =
  | "invalid-url"
  | "scheme"
  | "blocked-host"
  | "not-allowed-host"
  | "private-address"
  | "metadata-address"
  | "special-address"
  | "unresolvable"
  | "self";

export interface Refusal {
  allowed: false;
  rule: Rule;
  /** One sentence for the model: what was refused and why. */
  message: string;
}

/** What a request needs after the URL check. */
export interface NetworkTarget {
  allowed: true;
  /** The request leaves the browser (http, https, ws, wss); false for data:, blob:, about:. */
  network: boolean;
  host: string;
  port: number;
  /** Set when the host is an IP literal or a name with a fixed address (localhost): no DNS needed. */
  fixedAddresses?: readonly string[];
  /** The operator named this host in `allowPrivateHosts`: any address it resolves to is accepted. */
  exempt: boolean;
}

export type UrlVerdict = NetworkTarget | Refusal;
export type AddressVerdict = { allowed: true } | Refusal;

/** Top-level navigations: what the model may open. */
export const NAVIGATION_SCHEMES: ReadonlySet<string> = new Set(["http:", "https:"]);
const NETWORK_SCHEMES: ReadonlySet<string> = new Set(["http:", "https:", "ws:", "wss:"]);
/** Schemes a page may use for its own parts without touching the network. */
const LOCAL_SCHEMES: ReadonlySet<string> = new Set(["data:", "blob:", "about:"]);
const DEFAULT_PORTS: Readonly<Record<string, number>> = { "http:": 80, "https:": 443, "ws:": 80, "wss:": 443 };

/** Names that always mean this machine (RFC 6761), answered without DNS as browsers do. */
const LOOPBACK_ADDRESSES = ["127.0.0.1", "::1"] as const;
/** Well-known names of cloud metadata services, refused before any lookup. */
const METADATA_NAMES: ReadonlySet<string> = new Set([
  "metadata",
  "metadata.google.internal",
  "metadata.goog",
  "instance-data",
  "instance-data.ec2.internal",
]);

export type RequestUse = "navigation" | "subresource";

export class NetworkPolicy {
  private readonly allowHosts: HostPattern[];
  private readonly blockHosts: HostPattern[];
  private readonly allowPrivateHosts: HostPattern[];
  readonly allowPrivateNetwork: boolean;

  /** Throws HostPatternError naming the bad pattern. */
  constructor(settings: PolicySettings = {}) {
    this.allowHosts = parseHostPatterns(settings.allowHosts ?? []);
    this.blockHosts = parseHostPatterns(settings.blockHosts ?? []);
    this.allowPrivateHosts = parseHostPatterns(settings.allowPrivateHosts ?? []);
    this.allowPrivateNetwork = settings.allowPrivateNetwork ?? false;
  }

  /** A one-line description of the policy, for logs and the server instructions. */
  describe(): string {
    const parts = [
      this.allowHosts.length ? `only ${this.allowHosts.map((p) => p.text).join(", ")}` : "any public host",
      this.blockHosts.length ? `never ${this.blockHosts.map((p) => p.text).join(", ")}` : undefined,
      this.allowPrivateNetwork
        ? "private networks open"
        : this.allowPrivateHosts.length
          ? `private addresses only for ${this.allowPrivateHosts.map((p) => p.text).join(", ")}`
          : "no private, loopback or link-local addresses",
    ];
    return parts.filter(Boolean).join("; ");
  }

  /**
   * Judges a URL the browser wants to load. `navigation` is a top-level page load, where only
   * http and https are accepted; `subresource` covers frames, images, scripts, fetch and
   * WebSockets, which may also use data:, blob: and about:.
   */
  checkUrl(raw: string, use: RequestUse): UrlVerdict {
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      return refuse("invalid-url", `${shorten(raw)} is not a valid absolute URL.`);
    }
    const scheme = url.protocol;
    if (use === "navigation") {
      if (scheme === "about:" && url.href === "about:blank") {
        return { allowed: true, network: false, host: "", port: 0, exempt: false };
      }
      if (!NAVIGATION_SCHEMES.has(scheme)) {
        return refuse(
          "scheme",
          `${scheme} URLs cannot be opened; only http: and https: pages are allowed (file:, chrome:, javascript:, view-source: and data: are refused).`,
        );
      }
    } else if (LOCAL_SCHEMES.has(scheme)) {
      return { allowed: true, network: false, host: "", port: 0, exempt: false };
    } else if (!NETWORK_SCHEMES.has(scheme)) {
      return refuse("scheme", `${scheme} requests are not allowed; pages may only load http, https, ws and wss.`);
    }
    const port = url.port ? Number(url.port) : (DEFAULT_PORTS[scheme] as number);
    return this.checkHost(url.hostname, port);
  }

  /**
   * Judges a host and port before DNS: the host lists, loopback and metadata names, and IP
   * literals. Used directly for proxy tunnels, which carry no scheme.
   */
  checkHost(rawHost: string, port: number): NetworkTarget | Refusal {
    const host = normalizeHost(rawHost);
    if (!host) return refuse("invalid-url", `${shorten(rawHost)} is not a valid host name.`);
    const where = `${displayHost(host)}:${port}`;
    if (this.blockHosts.some((p) => matchesHost(p, host, port))) {
      return refuse("blocked-host", `${where} is on the operator's block list.`);
    }
    const exempt = this.allowPrivateHosts.some((p) => matchesHost(p, host, port));
    if (this.allowHosts.length > 0 && !exempt && !this.allowHosts.some((p) => matchesHost(p, host, port))) {
      return refuse("not-allowed-host", `${where} is not on the operator's list of allowed hosts.`);
    }
    const ip = parseIp(host);
    if (ip) {
      const verdict = this.judgeAddress(where, ip, port, exempt);
      return verdict.allowed ? { allowed: true, network: true, host, port, fixedAddresses: [host], exempt } : verdict;
    }
    if (!exempt && METADATA_NAMES.has(host)) {
      return refuse("metadata-address", `${where} is a cloud metadata service name; it is always refused.`);
    }
    if (host === "localhost" || host.endsWith(".localhost")) {
      if (!exempt && !this.allowPrivateNetwork) {
        return refuse(
          "private-address",
          `${where} is this machine (loopback); allow it with --allow-private-hosts ${host}:${port} or --allow-private-network.`,
        );
      }
      return { allowed: true, network: true, host, port, fixedAddresses: LOOPBACK_ADDRESSES, exempt };
    }
    return { allowed: true, network: true, host, port, exempt };
  }

  /**
   * Judges every address a host resolved to; one bad address refuses the host, so an answer mixing
   * public and private addresses cannot be used to reach the private one.
   */
  checkAddresses(
    target: Pick<NetworkTarget, "host" | "port" | "exempt">,
    addresses: readonly string[],
  ): AddressVerdict {
    const where = `${displayHost(target.host)}:${target.port}`;
    if (addresses.length === 0) return refuse("unresolvable", `${where} did not resolve to any address.`);
    for (const text of addresses) {
      const ip = parseIp(text);
      if (!ip) return refuse("unresolvable", `${where} resolved to ${shorten(text)}, which is not an IP address.`);
      const verdict = this.judgeAddress(`${where} (resolved to ${text})`, ip, target.port, target.exempt);
      if (!verdict.allowed) return verdict;
    }
    return { allowed: true };
  }

  private judgeAddress(where: string, ip: IpAddress, port: number, exempt: boolean): AddressVerdict {
    if (this.blockHosts.some((p) => matchesAddress(p, ip, port))) {
      return refuse("blocked-host", `${where} is in a range on the operator's block list.`);
    }
    if (exempt) return { allowed: true };
    const cls = classifyAddress(ip);
    if (cls.kind === "public") return { allowed: true };
    if (cls.kind === "metadata") {
      return refuse(
        "metadata-address",
        `${where} is ${describeClass(cls)}; cloud metadata endpoints are always refused.`,
      );
    }
    if (PRIVATE_NETWORK_KINDS.has(cls.kind)) {
      if (this.allowPrivateNetwork) return { allowed: true };
      return refuse(
        "private-address",
        `${where} is ${describeClass(cls)}; private, loopback and link-local addresses are refused (an operator can allow a host with --allow-private-hosts).`,
      );
    }
    return refuse("special-address", `${where} is ${describeClass(cls)}, which is not a public internet address.`);
  }
}

function describeClass(cls: AddressClass): string {
  return `in ${cls.range}`;
}

function refuse(rule: Rule, message: string): Refusal {
  return { allowed: false, rule, message: `Blocked by the network policy: ${message}` };
}

function displayHost(host: string): string {
  return host.includes(":") ? `[${host}]` : host;
}

function shorten(text: string): string {
  const clean = text.replace(/[\u0000-\u001f\u007f]/g, "?");
  return JSON.stringify(clean.length > 120 ? `${clean.slice(0, 120)}…` : clean);
}
