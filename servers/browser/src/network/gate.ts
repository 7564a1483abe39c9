import { classifyAddress, formatIp, parseIp } from "../policy/address.js";
import type { NetworkPolicy, NetworkTarget, Refusal, RequestUse } from "../policy/policy.js";
import { type HostResolver, ResolveError } from "./resolver.js";

export type Admission = { allowed: true; host: string; port: number; address: string } | Refusal;
export type UrlAdmission = { allowed: true; network: boolean; address?: string } | Refusal;

/**
 * The network policy applied to live requests: judges the host, resolves it (cached, shared by the
 * in-browser check and the proxy) and judges every address, returning the one to connect to.
 */
export class NetworkGate {
  private readonly reservedPorts = new Set<number>();

  constructor(
    readonly policy: NetworkPolicy,
    private readonly resolver: HostResolver,
  ) {}

  /** Loopback ports of the server itself (its proxies) that no page may reach, whatever the policy. */
  reserve(port: number): void {
    this.reservedPorts.add(port);
  }

  release(port: number): void {
    this.reservedPorts.delete(port);
  }

  async checkUrl(url: string, use: RequestUse): Promise<UrlAdmission> {
    const verdict = this.policy.checkUrl(url, use);
    if (!verdict.allowed) return verdict;
    if (!verdict.network) return { allowed: true, network: false };
    const admission = await this.admitTarget(verdict);
    return admission.allowed ? { allowed: true, network: true, address: admission.address } : admission;
  }

  /** For proxy tunnels: `host` as it came in a CONNECT line or absolute URL. */
  async admit(host: string, port: number): Promise<Admission> {
    const verdict = this.policy.checkHost(host, port);
    if (!verdict.allowed) return verdict;
    return this.admitTarget(verdict);
  }

  private async admitTarget(target: NetworkTarget): Promise<Admission> {
    let addresses: readonly string[];
    if (target.fixedAddresses) {
      addresses = target.fixedAddresses;
    } else {
      try {
        addresses = await this.resolver.resolve(target.host);
      } catch (error) {
        const code = error instanceof ResolveError ? error.code : "error";
        return {
          allowed: false,
          rule: "unresolvable",
          message: `Could not resolve ${target.host} (${code}); check the address.`,
        };
      }
    }
    const verdict = this.policy.checkAddresses(target, addresses);
    if (!verdict.allowed) return verdict;
    const parsed = addresses.map((a) => parseIp(a)).filter((ip) => ip !== undefined);
    if (this.reservedPorts.has(target.port)) {
      const local = parsed.some((ip) => ["loopback", "unspecified"].includes(classifyAddress(ip).kind));
      if (local) {
        return {
          allowed: false,
          rule: "self",
          message: `Blocked by the network policy: ${target.host}:${target.port} is the browser server's own proxy.`,
        };
      }
    }
    const first = parsed[0];
    if (!first) return { allowed: false, rule: "unresolvable", message: `${target.host} has no usable address.` };
    return { allowed: true, host: target.host, port: target.port, address: formatIp(first) };
  }
}
