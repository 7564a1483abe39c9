/**
 * IP address parsing and classification. Pure: no DNS, no sockets. The network policy uses it to
 * decide whether an address a page wants to reach is on the public internet or somewhere the
 * machine running the browser can reach but the page must not (loopback, private networks, cloud
 * metadata endpoints).
 */

export interface IpAddress {
  family: 4 | 6;
  /** 4 bytes for IPv4, 16 for IPv6. */
  bytes: Uint8Array;
}

export type AddressKind =
  | "public"
  | "loopback"
  | "private"
  | "link-local"
  | "shared"
  | "metadata"
  | "unspecified"
  | "multicast"
  | "broadcast"
  | "reserved"
  | "documentation";

export interface AddressClass {
  kind: AddressKind;
  /** Which registry entry matched, for error messages (e.g. "10.0.0.0/8 (private network)"). */
  range: string;
  /** For IPv6 forms that carry an IPv4 address (mapped, NAT64, 6to4), the address inside. */
  embedded?: string;
}

/** Kinds that `--allow-private-network` opens: networks a developer runs things on. */
export const PRIVATE_NETWORK_KINDS: ReadonlySet<AddressKind> = new Set(["loopback", "private", "link-local", "shared"]);

const DECIMAL_OCTET = /^(?:0|[1-9][0-9]{0,2})$/;

/** Strict dotted-quad IPv4 (what URL parsers and resolvers emit); no octal, hex or short forms. */
export function parseIPv4(text: string): IpAddress | undefined {
  const parts = text.split(".");
  if (parts.length !== 4) return undefined;
  const bytes = new Uint8Array(4);
  for (const [i, part] of parts.entries()) {
    if (!DECIMAL_OCTET.test(part)) return undefined;
    const value = Number(part);
    if (value > 255) return undefined;
    bytes[i] = value;
  }
  return { family: 4, bytes };
}

const HEX_GROUP = /^[0-9a-f]{1,4}$/i;

/** IPv6 in any textual form (compressed, with an IPv4 tail), without brackets or a zone. */
export function parseIPv6(text: string): IpAddress | undefined {
  if (text.includes("%")) return undefined;
  const halves = text.split("::");
  if (halves.length > 2) return undefined;
  const parseGroups = (part: string): number[] | undefined => {
    if (part === "") return [];
    const groups: number[] = [];
    const pieces = part.split(":");
    for (const [i, piece] of pieces.entries()) {
      if (i === pieces.length - 1 && piece.includes(".")) {
        const v4 = parseIPv4(piece);
        if (!v4) return undefined;
        groups.push(((v4.bytes[0] as number) << 8) | (v4.bytes[1] as number));
        groups.push(((v4.bytes[2] as number) << 8) | (v4.bytes[3] as number));
        continue;
      }
      if (!HEX_GROUP.test(piece)) return undefined;
      groups.push(Number.parseInt(piece, 16));
    }
    return groups;
  };
  const head = parseGroups(halves[0] as string);
  const tail = halves.length === 2 ? parseGroups(halves[1] as string) : [];
  if (!head || !tail) return undefined;
  let groups: number[];
  if (halves.length === 2) {
    const missing = 8 - head.length - tail.length;
    if (missing < 1) return undefined;
    groups = [...head, ...new Array<number>(missing).fill(0), ...tail];
  } else {
    groups = head;
  }
  if (groups.length !== 8) return undefined;
  const bytes = new Uint8Array(16);
  for (const [i, group] of groups.entries()) {
    bytes[i * 2] = group >> 8;
    bytes[i * 2 + 1] = group & 0xff;
  }
  return { family: 6, bytes };
}

/** Parses an IP literal; accepts `[v6]` brackets as they appear in URLs and CONNECT lines. */
export function parseIp(text: string): IpAddress | undefined {
  if (text.startsWith("[") && text.endsWith("]")) return parseIPv6(text.slice(1, -1));
  return text.includes(":") ? parseIPv6(text) : parseIPv4(text);
}

export function formatIp(address: IpAddress): string {
  if (address.family === 4) return Array.from(address.bytes).join(".");
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((address.bytes[i] as number) << 8) | (address.bytes[i + 1] as number));
  // Compress the longest run of zero groups (RFC 5952).
  let bestStart = -1;
  let bestLength = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength && j - i > 1) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart === -1) return hex.join(":");
  return `${hex.slice(0, bestStart).join(":")}::${hex.slice(bestStart + bestLength).join(":")}`;
}

export interface Cidr {
  network: IpAddress;
  prefix: number;
}

export function parseCidr(text: string): Cidr | undefined {
  const slash = text.lastIndexOf("/");
  if (slash === -1) return undefined;
  const network = parseIp(text.slice(0, slash));
  const prefixText = text.slice(slash + 1);
  if (!network || !/^\d{1,3}$/.test(prefixText)) return undefined;
  const prefix = Number(prefixText);
  if (prefix > network.bytes.length * 8) return undefined;
  return { network, prefix };
}

export function inCidr(address: IpAddress, cidr: Cidr): boolean {
  if (address.family !== cidr.network.family) return false;
  let bits = cidr.prefix;
  for (let i = 0; bits > 0; i++, bits -= 8) {
    const mask = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff;
    if (((address.bytes[i] as number) & mask) !== ((cidr.network.bytes[i] as number) & mask)) return false;
  }
  return true;
}

interface Range {
  cidr: Cidr;
  kind: AddressKind;
  label: string;
}

const range = (text: string, kind: AddressKind, label: string): Range => {
  const cidr = parseCidr(text);
  if (!cidr) throw new Error(`bad built-in range ${text}`);
  return { cidr, kind, label: `${text} (${label})` };
};

/**
 * Cloud metadata endpoints come first: they sit inside link-local or shared space, and must stay
 * blocked even when private networks are opened for local development.
 */
const IPV4_RANGES: readonly Range[] = [
  range("169.254.169.254/32", "metadata", "cloud instance metadata"),
  range("169.254.170.2/32", "metadata", "container credentials endpoint"),
  range("169.254.169.253/32", "metadata", "cloud DNS/metadata resolver"),
  range("169.254.169.123/32", "metadata", "cloud time service"),
  range("100.100.100.200/32", "metadata", "cloud instance metadata"),
  range("0.0.0.0/8", "unspecified", "this network"),
  range("10.0.0.0/8", "private", "private network"),
  range("100.64.0.0/10", "shared", "carrier-grade NAT"),
  range("127.0.0.0/8", "loopback", "loopback"),
  range("169.254.0.0/16", "link-local", "link-local"),
  range("172.16.0.0/12", "private", "private network"),
  range("192.0.0.0/24", "reserved", "IETF protocol assignments"),
  range("192.0.2.0/24", "documentation", "documentation"),
  range("192.88.99.0/24", "reserved", "6to4 relay anycast"),
  range("192.168.0.0/16", "private", "private network"),
  range("198.18.0.0/15", "reserved", "network benchmarking"),
  range("198.51.100.0/24", "documentation", "documentation"),
  range("203.0.113.0/24", "documentation", "documentation"),
  range("224.0.0.0/4", "multicast", "multicast"),
  range("255.255.255.255/32", "broadcast", "broadcast"),
  range("240.0.0.0/4", "reserved", "reserved"),
];

const IPV6_RANGES: readonly Range[] = [
  range("fd00:ec2::254/128", "metadata", "cloud instance metadata"),
  range("fd00:ec2::23/128", "metadata", "cloud DNS resolver"),
  range("::/128", "unspecified", "unspecified"),
  range("::1/128", "loopback", "loopback"),
  range("64:ff9b:1::/48", "private", "local-use NAT64"),
  range("100::/64", "reserved", "discard-only"),
  range("2001::/32", "reserved", "Teredo"),
  range("2001:db8::/32", "documentation", "documentation"),
  range("2001::/23", "reserved", "IETF protocol assignments"),
  range("fc00::/7", "private", "unique local"),
  range("fe80::/10", "link-local", "link-local"),
  range("fec0::/10", "private", "site-local"),
  range("ff00::/8", "multicast", "multicast"),
];

const MAPPED = range("::ffff:0:0/96", "reserved", "IPv4-mapped");
const NAT64 = range("64:ff9b::/96", "reserved", "NAT64");
const SIX_TO_FOUR = range("2002::/16", "reserved", "6to4");
const COMPATIBLE = range("::/96", "reserved", "IPv4-compatible");
const GLOBAL_UNICAST = range("2000::/3", "public", "global unicast");

export function classifyAddress(address: IpAddress): AddressClass {
  if (address.family === 4) {
    for (const r of IPV4_RANGES) if (inCidr(address, r.cidr)) return { kind: r.kind, range: r.label };
    return { kind: "public", range: "public internet" };
  }
  // Forms that carry an IPv4 address are judged by the address they carry: ::ffff:127.0.0.1 is
  // loopback, 64:ff9b::a9fe:a9fe is the metadata endpoint through NAT64.
  for (const [wrapper, offset] of [
    [MAPPED, 12],
    [NAT64, 12],
    [COMPATIBLE, 12],
    [SIX_TO_FOUR, 2],
  ] as const) {
    if (inCidr(address, wrapper.cidr)) {
      if (wrapper === COMPATIBLE && isZeroOrOne(address)) break;
      const inner: IpAddress = { family: 4, bytes: address.bytes.slice(offset, offset + 4) };
      const innerClass = classifyAddress(inner);
      return {
        kind: wrapper === COMPATIBLE && innerClass.kind === "public" ? "reserved" : innerClass.kind,
        range: `${wrapper.label} carrying ${innerClass.range}`,
        embedded: formatIp(inner),
      };
    }
  }
  for (const r of IPV6_RANGES) if (inCidr(address, r.cidr)) return { kind: r.kind, range: r.label };
  if (inCidr(address, GLOBAL_UNICAST.cidr)) return { kind: "public", range: "public internet" };
  return { kind: "reserved", range: "outside IPv6 global unicast (2000::/3)" };
}

function isZeroOrOne(address: IpAddress): boolean {
  for (let i = 0; i < 15; i++) if (address.bytes[i] !== 0) return false;
  return (address.bytes[15] as number) <= 1;
}

/** Classifies an address given as text; undefined when it is not an IP literal. */
export function classifyIp(text: string): AddressClass | undefined {
  const parsed = parseIp(text);
  return parsed ? classifyAddress(parsed) : undefined;
}
