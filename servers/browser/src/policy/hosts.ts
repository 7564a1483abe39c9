import { domainToASCII } from "node:url";
import { type Cidr, formatIp, type IpAddress, inCidr, parseCidr, parseIp } from "./address.js";

/**
 * Host patterns as operators write them in `--allow-hosts`, `--block-hosts` and
 * `--allow-private-hosts`:
 *
 * - `example.com`      that host only
 * - `*.example.com`    any subdomain, not example.com itself
 * - `.example.com`     example.com and any subdomain
 * - `203.0.113.7`, `[2001:db8::1]`, `2001:db8::1`   an IP literal
 * - `10.0.0.0/8`, `fd00::/8`                         a CIDR range
 * - any of the above with `:port` (IPv6 in brackets) to match one port only
 */
export type HostPattern =
  | { kind: "exact"; host: string; port?: number; text: string }
  | { kind: "subdomains"; suffix: string; includeApex: boolean; port?: number; text: string }
  | { kind: "ip"; address: IpAddress; port?: number; text: string }
  | { kind: "cidr"; cidr: Cidr; port?: number; text: string };

export class HostPatternError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "HostPatternError";
  }
}

/**
 * Canonical form of a host name for comparison: lower case, IDNA (punycode) ASCII, no trailing dot,
 * IPv6 without brackets and compressed. Undefined when it is not a valid host.
 */
export function normalizeHost(host: string): string | undefined {
  let h = host.trim();
  if (h.startsWith("[") && h.endsWith("]")) h = h.slice(1, -1);
  const ip = parseIp(h);
  if (ip) return formatIp(ip);
  if (h.endsWith(".")) h = h.slice(0, -1);
  if (h === "" || h.includes("..") || /[\s/\\?#@%[\]]/.test(h)) return undefined;
  const ascii = domainToASCII(h);
  if (!ascii) return undefined;
  return ascii.toLowerCase();
}

const PORT = /^\d{1,5}$/;

function splitPort(text: string): { host: string; port?: number } {
  if (text.startsWith("[")) {
    const close = text.indexOf("]");
    if (close === -1) throw new HostPatternError(`${JSON.stringify(text)}: missing "]" after an IPv6 address`);
    const rest = text.slice(close + 1);
    if (rest === "") return { host: text.slice(0, close + 1) };
    if (!rest.startsWith(":") || !PORT.test(rest.slice(1))) {
      throw new HostPatternError(`${JSON.stringify(text)}: expected ":port" after "]"`);
    }
    return { host: text.slice(0, close + 1), port: checkPort(rest.slice(1), text) };
  }
  const colons = text.split(":").length - 1;
  // Two or more colons without brackets: a bare IPv6 address (or CIDR), which has no port.
  if (colons !== 1) return { host: text };
  const [host, port] = text.split(":") as [string, string];
  if (!PORT.test(port)) throw new HostPatternError(`${JSON.stringify(text)}: the port must be a number`);
  return { host, port: checkPort(port, text) };
}

function checkPort(port: string, text: string): number {
  const value = Number(port);
  if (value < 1 || value > 65535) throw new HostPatternError(`${JSON.stringify(text)}: port out of range 1-65535`);
  return value;
}

export function parseHostPattern(raw: string): HostPattern {
  const text = raw.trim();
  if (text === "") throw new HostPatternError("empty host pattern");
  if (text.includes("://")) {
    throw new HostPatternError(`${JSON.stringify(text)}: give a host (example.com or example.com:8080), not a URL`);
  }
  if (text === "*") throw new HostPatternError(`"*" is not a host pattern; leave the list empty to allow every host`);
  const cidr = text.includes("/") ? parseCidr(text) : undefined;
  if (text.includes("/")) {
    if (!cidr) throw new HostPatternError(`${JSON.stringify(text)}: not a valid CIDR range`);
    return { kind: "cidr", cidr, text };
  }
  const { host, port } = splitPort(text);
  const withPort = port !== undefined ? { port } : {};
  const ip = parseIp(host);
  if (ip) return { kind: "ip", address: ip, ...withPort, text };
  if (host.startsWith("*.") || host.startsWith(".")) {
    const suffix = normalizeHost(host.slice(host.startsWith("*.") ? 2 : 1));
    if (!suffix || suffix.includes("*")) throw new HostPatternError(`${JSON.stringify(text)}: not a valid domain`);
    return { kind: "subdomains", suffix, includeApex: host.startsWith("."), ...withPort, text };
  }
  const normalized = normalizeHost(host);
  if (!normalized || normalized.includes("*")) {
    throw new HostPatternError(`${JSON.stringify(text)}: not a valid host (wildcards go first, as in *.example.com)`);
  }
  return { kind: "exact", host: normalized, ...withPort, text };
}

/** Parses a list of patterns; each may itself be a comma- or whitespace-separated list. */
export function parseHostPatterns(values: readonly string[]): HostPattern[] {
  return values
    .flatMap((value) => value.split(/[\s,;]+/))
    .filter((value) => value !== "")
    .map(parseHostPattern);
}

/**
 * Whether `pattern` matches a host as written in a URL (already normalised with `normalizeHost`)
 * and port.
 */
export function matchesHost(pattern: HostPattern, host: string, port: number): boolean {
  if (pattern.port !== undefined && pattern.port !== port) return false;
  switch (pattern.kind) {
    case "exact":
      return host === pattern.host;
    case "subdomains":
      return host.endsWith(`.${pattern.suffix}`) || (pattern.includeApex && host === pattern.suffix);
    case "ip": {
      const ip = parseIp(host);
      return ip !== undefined && sameAddress(ip, pattern.address);
    }
    case "cidr": {
      const ip = parseIp(host);
      return ip !== undefined && inCidr(ip, pattern.cidr);
    }
  }
}

/** Whether an IP or CIDR pattern matches a resolved address (name patterns never do). */
export function matchesAddress(pattern: HostPattern, address: IpAddress, port: number): boolean {
  if (pattern.port !== undefined && pattern.port !== port) return false;
  if (pattern.kind === "ip") return sameAddress(address, pattern.address);
  if (pattern.kind === "cidr") return inCidr(address, pattern.cidr);
  return false;
}

function sameAddress(a: IpAddress, b: IpAddress): boolean {
  return a.family === b.family && a.bytes.every((byte, i) => byte === b.bytes[i]);
}
