import { describe, expect, it } from "vitest";
import { HostPatternError } from "../src/policy/hosts.ts";
import { NetworkPolicy, type UrlVerdict } from "../src/policy/policy.ts";

const strict = new NetworkPolicy();
const rule = (verdict: UrlVerdict | { allowed: boolean; rule?: string }) =>
  verdict.allowed ? "allowed" : (verdict as { rule: string }).rule;

describe("schemes", () => {
  it.each([
    "file:///etc/passwd",
    "chrome://settings",
    "chrome-extension://abc/x.html",
    "javascript:alert(1)",
    "view-source:https://example.com",
    "data:text/html,<h1>x</h1>",
    "blob:https://example.com/uuid",
    "ftp://example.com/file",
    "about:config",
    "filesystem:https://example.com/temporary/x",
    "ws://example.com/",
  ])("navigation to %s is refused", (url) => {
    const verdict = strict.checkUrl(url, "navigation");
    expect(rule(verdict)).toBe("scheme");
    expect(verdict.allowed ? "" : verdict.message).toMatch(/only http: and https:/);
  });

  it("opens about:blank without touching the network", () => {
    expect(strict.checkUrl("about:blank", "navigation")).toMatchObject({ allowed: true, network: false });
  });

  it.each(["https://example.com/", "http://example.com:8080/x?y#z"])("navigation to %s is allowed", (url) => {
    expect(strict.checkUrl(url, "navigation")).toMatchObject({ allowed: true, network: true });
  });

  it.each(["data:image/png;base64,AAAA", "blob:https://example.com/1", "about:blank", "about:srcdoc"])(
    "a page may use %s for its own parts",
    (url) => {
      expect(strict.checkUrl(url, "subresource")).toMatchObject({ allowed: true, network: false });
    },
  );

  it.each(["file:///etc/passwd", "chrome://version", "ftp://x.com/", "gopher://x.com/", "chrome-extension://a/b"])(
    "a page may not load %s",
    (url) => {
      expect(rule(strict.checkUrl(url, "subresource"))).toBe("scheme");
    },
  );

  it("WebSockets are network requests with default ports", () => {
    expect(strict.checkUrl("ws://example.com/socket", "subresource")).toMatchObject({ allowed: true, port: 80 });
    expect(strict.checkUrl("wss://example.com/socket", "subresource")).toMatchObject({ allowed: true, port: 443 });
  });

  it("refuses what is not a URL", () => {
    expect(rule(strict.checkUrl("not a url", "navigation"))).toBe("invalid-url");
    expect(rule(strict.checkUrl("/relative", "subresource"))).toBe("invalid-url");
  });
});

describe("addresses written into URLs", () => {
  it.each([
    ["http://127.0.0.1/", "private-address"],
    ["http://127.1/", "private-address"],
    ["http://0x7f.0.0.1/", "private-address"],
    ["http://2130706433/", "private-address"],
    ["http://017700000001/", "private-address"],
    ["http://[::1]/", "private-address"],
    ["http://[::ffff:127.0.0.1]/", "private-address"],
    ["http://[0:0:0:0:0:ffff:7f00:1]/", "private-address"],
    ["http://10.0.0.1/", "private-address"],
    ["http://192.168.0.1:8080/", "private-address"],
    ["http://172.20.0.1/", "private-address"],
    ["http://[fd00::1]/", "private-address"],
    ["http://[fe80::1]/", "private-address"],
    ["http://169.254.1.1/", "private-address"],
    ["http://100.64.1.1/", "private-address"],
    ["http://169.254.169.254/latest/meta-data/", "metadata-address"],
    ["http://[fd00:ec2::254]/", "metadata-address"],
    ["http://[::ffff:169.254.169.254]/", "metadata-address"],
    ["http://[64:ff9b::a9fe:a9fe]/", "metadata-address"],
    ["http://0.0.0.0:8080/", "special-address"],
    ["http://0/", "special-address"],
    ["http://224.0.0.1/", "special-address"],
    ["http://255.255.255.255/", "special-address"],
    ["http://192.0.2.1/", "special-address"],
    ["http://localhost:3000/", "private-address"],
    ["http://LOCALHOST./", "private-address"],
    ["http://app.localhost/", "private-address"],
    ["http://metadata.google.internal/computeMetadata/v1/", "metadata-address"],
    ["http://metadata/", "metadata-address"],
  ])("%s is refused (%s)", (url, expected) => {
    expect(rule(strict.checkUrl(url, "navigation"))).toBe(expected);
    expect(rule(strict.checkUrl(url.replace(/^http/, "ws"), "subresource"))).toBe(expected);
  });

  it("public literals need no DNS", () => {
    expect(strict.checkUrl("http://93.184.216.34/", "navigation")).toMatchObject({
      allowed: true,
      fixedAddresses: ["93.184.216.34"],
    });
  });

  it("names are left for DNS", () => {
    const verdict = strict.checkUrl("https://Example.COM./path", "navigation");
    expect(verdict).toMatchObject({ allowed: true, host: "example.com", port: 443, exempt: false });
    expect(verdict.allowed && verdict.fixedAddresses).toBeUndefined();
  });
});

describe("resolved addresses", () => {
  const target = { host: "public-looking.example", port: 80, exempt: false };
  it.each([
    [["127.0.0.1"], "private-address"],
    [["10.1.2.3"], "private-address"],
    [["::1"], "private-address"],
    [["::ffff:10.0.0.1"], "private-address"],
    [["169.254.169.254"], "metadata-address"],
    [["0.0.0.0"], "special-address"],
    [["93.184.216.34", "127.0.0.1"], "private-address"],
    [["93.184.216.34", "fd00::1"], "private-address"],
    [[], "unresolvable"],
    [["not-an-ip"], "unresolvable"],
  ])("%j is refused (%s)", (addresses, expected) => {
    const verdict = strict.checkAddresses(target, addresses);
    expect(rule(verdict)).toBe(expected);
    expect(verdict.allowed ? "" : verdict.message).toContain("public-looking.example:80");
  });

  it("accepts names that resolve only to public addresses", () => {
    expect(strict.checkAddresses(target, ["93.184.216.34", "2606:2800:220:1::1"]).allowed).toBe(true);
  });
});

describe("operator settings", () => {
  it("refuses bad patterns at start-up", () => {
    expect(() => new NetworkPolicy({ allowHosts: ["http://x.com"] })).toThrow(HostPatternError);
    expect(() => new NetworkPolicy({ blockHosts: ["*"] })).toThrow(HostPatternError);
  });

  it("block list beats everything, including private exemptions", () => {
    const policy = new NetworkPolicy({
      blockHosts: ["evil.example", "*.tracker.example", "203.0.113.0/24"],
      allowHosts: ["evil.example"],
      allowPrivateHosts: ["evil.example"],
      allowPrivateNetwork: true,
    });
    expect(rule(policy.checkUrl("https://evil.example/", "navigation"))).toBe("blocked-host");
    expect(rule(policy.checkUrl("https://a.tracker.example/p.gif", "subresource"))).toBe("blocked-host");
    expect(rule(policy.checkUrl("https://tracker.example/", "navigation"))).toBe("not-allowed-host");
    expect(rule(policy.checkUrl("http://203.0.113.7/", "navigation"))).toBe("blocked-host");
    // A name that resolves into a blocked range is refused after DNS.
    expect(rule(policy.checkAddresses({ host: "x.example", port: 80, exempt: true }, ["203.0.113.9"]))).toBe(
      "blocked-host",
    );
  });

  it("an allow list admits only its hosts (ports included)", () => {
    const policy = new NetworkPolicy({ allowHosts: ["docs.example.com", ".example.org", "api.example.net:8443"] });
    expect(policy.checkUrl("https://docs.example.com/a", "navigation").allowed).toBe(true);
    expect(policy.checkUrl("https://example.org/", "navigation").allowed).toBe(true);
    expect(policy.checkUrl("https://cdn.example.org/x.js", "subresource").allowed).toBe(true);
    expect(policy.checkUrl("https://api.example.net:8443/", "navigation").allowed).toBe(true);
    expect(rule(policy.checkUrl("https://api.example.net/", "navigation"))).toBe("not-allowed-host");
    expect(rule(policy.checkUrl("https://other.example.com/", "navigation"))).toBe("not-allowed-host");
    expect(rule(policy.checkUrl("https://docs.example.com.evil.net/", "navigation"))).toBe("not-allowed-host");
    // Allowed names are still judged after DNS.
    const target = policy.checkUrl("https://docs.example.com/", "navigation");
    expect(target.allowed && rule(policy.checkAddresses(target, ["10.0.0.5"]))).toBe("private-address");
  });

  it("allow-private-hosts exempts the host as written, not the address it resolves to", () => {
    const policy = new NetworkPolicy({ allowPrivateHosts: ["127.0.0.1:5173", "localhost:3000", "dev.internal"] });
    expect(policy.checkUrl("http://127.0.0.1:5173/", "navigation").allowed).toBe(true);
    expect(rule(policy.checkUrl("http://127.0.0.1:5174/", "navigation"))).toBe("private-address");
    expect(policy.checkUrl("http://localhost:3000/", "navigation")).toMatchObject({
      allowed: true,
      fixedAddresses: ["127.0.0.1", "::1"],
    });
    expect(rule(policy.checkUrl("http://localhost:3001/", "navigation"))).toBe("private-address");
    const dev = policy.checkUrl("http://dev.internal/", "navigation");
    expect(dev.allowed && policy.checkAddresses(dev, ["10.0.0.8"]).allowed).toBe(true);
    // A public-looking name that resolves to the exempt address is still refused.
    const sneaky = policy.checkUrl("http://public-looking.example:5173/", "navigation");
    expect(sneaky.allowed && rule(policy.checkAddresses(sneaky, ["127.0.0.1"]))).toBe("private-address");
  });

  it("exempt hosts also pass an allow list", () => {
    const policy = new NetworkPolicy({ allowHosts: ["example.com"], allowPrivateHosts: ["localhost:3000"] });
    expect(policy.checkUrl("http://localhost:3000/", "navigation").allowed).toBe(true);
    expect(rule(policy.checkUrl("http://localhost:4000/", "navigation"))).toBe("not-allowed-host");
  });

  it("allow-private-network opens private space but never metadata or special addresses", () => {
    const policy = new NetworkPolicy({ allowPrivateNetwork: true });
    for (const url of ["http://127.0.0.1/", "http://localhost/", "http://10.0.0.1/", "http://[fd00::1]/"]) {
      expect(policy.checkUrl(url, "navigation").allowed).toBe(true);
    }
    expect(rule(policy.checkUrl("http://169.254.169.254/", "navigation"))).toBe("metadata-address");
    expect(rule(policy.checkUrl("http://metadata.google.internal/", "navigation"))).toBe("metadata-address");
    expect(rule(policy.checkUrl("http://0.0.0.0/", "navigation"))).toBe("special-address");
    const target = { host: "x.example", port: 80, exempt: false };
    expect(policy.checkAddresses(target, ["192.168.1.1"]).allowed).toBe(true);
    expect(rule(policy.checkAddresses(target, ["169.254.169.254"]))).toBe("metadata-address");
  });

  it("an operator can name a metadata host explicitly", () => {
    const policy = new NetworkPolicy({ allowPrivateHosts: ["169.254.169.254"] });
    expect(policy.checkUrl("http://169.254.169.254/", "navigation").allowed).toBe(true);
  });

  it("describes itself", () => {
    expect(strict.describe()).toContain("no private, loopback or link-local addresses");
    expect(new NetworkPolicy({ allowHosts: ["a.com"], allowPrivateNetwork: true }).describe()).toBe(
      "only a.com; private networks open",
    );
  });

  it("checkHost judges proxy tunnels, which carry no scheme", () => {
    expect(rule(strict.checkHost("[::1]", 443))).toBe("private-address");
    expect(strict.checkHost("example.com", 443)).toMatchObject({ allowed: true, host: "example.com" });
    expect(rule(strict.checkHost("exa mple.com", 443))).toBe("invalid-url");
  });
});
