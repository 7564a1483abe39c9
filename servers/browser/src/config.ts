import { type ConfigOf, option } from "@portside/shared";
import { z } from "zod";

const hostList = z.array(z.string().min(1)).default([]);

/**
 * Operator settings. Launch options and the network policy come only from here (flags and
 * environment), never from a tool call.
 */
export const browserOptions = {
  executablePath: option({
    type: "string",
    flag: "executable-path",
    env: "BROWSER_EXECUTABLE_PATH",
    help: "Chrome, Chromium or Edge to run. Default: the first one found in the usual install locations.",
    schema: z.string().min(1).optional(),
    placeholder: "path",
  }),
  headless: option({
    type: "boolean",
    flag: "headless",
    env: "BROWSER_HEADLESS",
    help: "Run the browser without a window (--no-headless shows it).",
    schema: z.boolean().default(true),
  }),
  sandbox: option({
    type: "boolean",
    flag: "sandbox",
    env: "BROWSER_SANDBOX",
    help: "Chrome's process sandbox. Default: on, except when running as root, where Chrome cannot use it.",
    schema: z.boolean().optional(),
  }),
  viewport: option({
    type: "string",
    flag: "viewport",
    env: "BROWSER_VIEWPORT",
    help: "Page size in CSS pixels, WIDTHxHEIGHT.",
    schema: z
      .string()
      .regex(/^\d{2,5}x\d{2,5}$/, "must look like 1280x720")
      .default("1280x720"),
    placeholder: "WxH",
  }),
  maxTabs: option({
    type: "number",
    flag: "max-tabs",
    env: "BROWSER_MAX_TABS",
    help: "Most tabs open at once per session (pop-ups beyond it are closed).",
    schema: z.number().int().min(1).max(50).default(8),
  }),
  navigationTimeoutMs: option({
    type: "number",
    flag: "navigation-timeout-ms",
    env: "BROWSER_NAVIGATION_TIMEOUT_MS",
    help: "Longest a page load may take.",
    schema: z.number().int().min(1000).max(300_000).default(30_000),
  }),
  actionTimeoutMs: option({
    type: "number",
    flag: "action-timeout-ms",
    env: "BROWSER_ACTION_TIMEOUT_MS",
    help: "Longest a click, typing, wait or screenshot may take.",
    schema: z.number().int().min(500).max(120_000).default(10_000),
  }),
  allowEvaluate: option({
    type: "boolean",
    flag: "allow-evaluate",
    env: "BROWSER_ALLOW_EVALUATE",
    help: "Offer the evaluate tool, which runs JavaScript the model writes inside the page.",
    schema: z.boolean().default(false),
  }),
  allowHosts: option({
    type: "list",
    flag: "allow-hosts",
    env: "BROWSER_ALLOW_HOSTS",
    help: "Only these hosts may be reached (example.com, *.example.com, .example.com, 203.0.113.7, 10.0.0.0/8, host:port). Default: any public host.",
    schema: hostList,
    placeholder: "hosts",
  }),
  blockHosts: option({
    type: "list",
    flag: "block-hosts",
    env: "BROWSER_BLOCK_HOSTS",
    help: "Hosts never reached; IP and CIDR entries also match what names resolve to.",
    schema: hostList,
    placeholder: "hosts",
  }),
  allowPrivateHosts: option({
    type: "list",
    flag: "allow-private-hosts",
    env: "BROWSER_ALLOW_PRIVATE_HOSTS",
    help: "Hosts, as written in URLs, that may be on loopback or private networks (e.g. localhost:3000 for local development).",
    schema: hostList,
    placeholder: "hosts",
  }),
  allowPrivateNetwork: option({
    type: "boolean",
    flag: "allow-private-network",
    env: "BROWSER_ALLOW_PRIVATE_NETWORK",
    help: "Open every loopback, private and link-local address. Cloud metadata endpoints stay blocked.",
    schema: z.boolean().default(false),
  }),
  dnsServers: option({
    type: "list",
    flag: "dns-server",
    env: "BROWSER_DNS_SERVER",
    help: "Resolve host names with these DNS servers (ip or ip:port) instead of the system resolver.",
    schema: z.array(z.string().min(1)).default([]),
    placeholder: "servers",
  }),
  proxyServer: option({
    type: "string",
    flag: "proxy-server",
    env: "BROWSER_PROXY_SERVER",
    help: "Send allowed traffic through this proxy (http://, https:// or socks5://, credentials in the URL). Default: HTTPS_PROXY / HTTP_PROXY / ALL_PROXY.",
    schema: z.string().min(1).optional(),
    secret: true,
    placeholder: "url",
  }),
  proxyBypass: option({
    type: "list",
    flag: "proxy-bypass",
    env: "BROWSER_PROXY_BYPASS",
    help: "Hosts reached without the proxy (NO_PROXY syntax). Default: NO_PROXY.",
    schema: z.array(z.string().min(1)).default([]),
    placeholder: "hosts",
  }),
};

export type BrowserConfig = ConfigOf<typeof browserOptions>;

export function parseViewport(text: string): { width: number; height: number } {
  const [width, height] = text.split("x").map(Number) as [number, number];
  return { width, height };
}
