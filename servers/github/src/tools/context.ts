import { defineTool, type Tool } from "@portside/shared";
import { z } from "zod";
import { cleanText } from "../github/text.js";
import { compact, GITHUB_TIMEOUT_MS, type GitHubDeps, github, READS } from "./common.js";

export function getMe(deps: GitHubDeps): Tool {
  return defineTool({
    name: "get_me",
    timeoutMs: GITHUB_TIMEOUT_MS,
    title: "Who am I",
    description:
      "The authenticated GitHub user, the token's scopes, the rate limit left, and this server's limits " +
      "(allowed repositories, read-only). Call it first when you need your login or what you may touch.",
    input: z.object({}),
    output: z.object({
      login: z.string(),
      name: z.string().optional(),
      type: z.string().optional(),
      url: z.string().optional(),
      tokenScopes: z.array(z.string()).optional(),
      rateLimit: z.object({ limit: z.number(), remaining: z.number(), resetAt: z.string() }).optional(),
      allowedRepos: z.array(z.string()),
      readOnly: z.boolean(),
    }),
    annotations: READS,
    async handler(_args, ctx) {
      const response = await github("reading the authenticated user", ctx.signal, () =>
        deps.client.octokit.rest.users.getAuthenticated({ request: { signal: ctx.signal } }),
      );
      const user = response.data;
      const scopes = response.headers["x-oauth-scopes"];
      const rate = deps.client.rateLimit("core");
      return {
        data: compact({
          login: user.login,
          name: cleanText(user.name) || undefined,
          type: user.type,
          url: user.html_url,
          tokenScopes:
            scopes === undefined
              ? undefined
              : scopes
                  .split(",")
                  .map((s) => s.trim())
                  .filter(Boolean),
          rateLimit: rate ? { limit: rate.limit, remaining: rate.remaining, resetAt: rate.resetAt } : undefined,
          allowedRepos: [...deps.allowlist.patterns],
          readOnly: deps.readOnly,
        }),
      };
    },
  });
}
