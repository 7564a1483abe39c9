import { option } from "@portside/shared";
import { z } from "zod";

const DEFAULT_TOOLSETS = ["context", "repos", "issues", "pull_requests"];

export const options = {
  token: option({
    type: "string",
    flag: "token",
    env: ["GITHUB_PERSONAL_ACCESS_TOKEN", "GITHUB_TOKEN"],
    help: "GitHub token (a fine-grained or classic personal access token). Prefer the environment variable.",
    secret: true,
    schema: z
      .string({ error: "a GitHub token is required: set GITHUB_PERSONAL_ACCESS_TOKEN" })
      .trim()
      .min(1, "a GitHub token is required: set GITHUB_PERSONAL_ACCESS_TOKEN"),
  }),
  apiUrl: option({
    type: "string",
    flag: "api-url",
    env: "GITHUB_API_URL",
    help: "GitHub REST API URL; for GitHub Enterprise Server https://HOST/api/v3, for ghe.com https://api.SUBDOMAIN.ghe.com",
    schema: z
      .url()
      .refine((value) => {
        const url = new URL(value);
        if (url.username || url.password || url.search || url.hash) return false;
        if (url.protocol === "https:") return true;
        // The token must not cross the network in clear text; plain HTTP only to this machine.
        return url.protocol === "http:" && ["127.0.0.1", "localhost", "[::1]"].includes(url.hostname);
      }, "must be an https:// URL without credentials or query (http:// only for localhost)")
      .default("https://api.github.com"),
  }),
  toolsets: option({
    type: "list",
    flag: "toolsets",
    env: "GITHUB_TOOLSETS",
    help: "Toolsets to offer: context, repos, issues, pull_requests, search, actions; `default` or `all`",
    schema: z.array(z.string().min(1)).min(1).default(DEFAULT_TOOLSETS),
  }),
  tools: option({
    type: "list",
    flag: "tools",
    env: "GITHUB_TOOLS",
    help: "Extra individual tools to offer beyond the toolsets (e.g. search_code)",
    schema: z.array(z.string().min(1)).default([]),
  }),
  excludeTools: option({
    type: "list",
    flag: "exclude-tools",
    env: "GITHUB_EXCLUDE_TOOLS",
    help: "Tools never to offer (e.g. merge_pull_request,create_repository)",
    schema: z.array(z.string().min(1)).default([]),
  }),
  readOnly: option({
    type: "boolean",
    flag: "read-only",
    env: "GITHUB_READ_ONLY",
    help: "Offer no write tool at all",
    schema: z.boolean().default(false),
  }),
  allowedRepos: option({
    type: "list",
    flag: "allowed-repos",
    env: "GITHUB_ALLOWED_REPOS",
    help: "Repositories the server may read or change: owner/repo, owner/* or owner/prefix-*; `*` for all the token can reach",
    placeholder: "owner/repo,…",
    schema: z.array(z.string().min(1)).min(1).default(["*"]),
  }),
  cacheMb: option({
    type: "number",
    flag: "cache-mb",
    env: "GITHUB_CACHE_MB",
    help: "Memory for cached responses (ETag revalidation); 0 turns caching off",
    schema: z.number().int().min(0).max(1024).default(32),
  }),
};
