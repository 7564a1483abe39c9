import { spawnSync } from "node:child_process";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type GitHubApiMock, startGitHubApi } from "../fixtures/github/api-server.js";
import { FIXTURE_TOKEN, type FixturesServer, startFixturesServer } from "../fixtures/github/fixtures.js";
import { serverCli, startHttp, startStdio, textOf } from "../src/harness.js";

/**
 * The built GitHub server driven by a real MCP client over stdio and Streamable HTTP, against
 * (1) recorded real GitHub traffic replayed by @octokit/fixtures-server and (2) a local GitHub
 * answering from the examples in GitHub's OpenAPI description. Only the API URL differs from
 * production.
 */
const TOKEN = "ghp_integrationtokenintegrationtoken00";
let api: GitHubApiMock;

beforeAll(async () => {
  api = await startGitHubApi({ token: TOKEN });
});
afterAll(async () => {
  await api.close();
});

function env(extra: Record<string, string> = {}): Record<string, string> {
  return {
    GITHUB_PERSONAL_ACCESS_TOKEN: TOKEN,
    GITHUB_API_URL: api.url,
    GITHUB_TOOLSETS: "all",
    GITHUB_ALLOWED_REPOS: "octocat/*",
    ...extra,
  };
}

function json(result: unknown): Record<string, unknown> {
  const text = textOf(result);
  if ((result as CallToolResult).isError) throw new Error(text);
  return JSON.parse(text.split("\n---\n", 1)[0] as string) as Record<string, unknown>;
}

const repo = { owner: "octocat", repo: "Hello-World" };

/** One call of every tool and every method, against GitHub's OpenAPI examples. */
const EVERY_TOOL: Array<[string, Record<string, unknown>, (data: Record<string, unknown>) => void]> = [
  ["get_me", {}, (d) => expect(d.login).toBe("octocat")],
  ["search_repositories", { query: "tetris language:assembly" }, (d) => expect(d.query).toContain("user:octocat")],
  ["repo_read", { method: "get", ...repo }, (d) => expect(d.defaultBranch).toBe("master")],
  ["repo_read", { method: "branches", ...repo }, (d) => expect(d.branches).toHaveLength(1)],
  [
    "repo_read",
    { method: "tags", ...repo },
    (d) => expect(d.tags).toEqual([expect.objectContaining({ name: "v0.1" })]),
  ],
  ["repo_read", { method: "releases", ...repo }, (d) => expect(d.releases).toHaveLength(1)],
  ["repo_read", { method: "release", ...repo, tag: "latest" }, (d) => expect(d.tag).toBe("v1.0.0")],
  [
    "repo_read",
    { method: "labels", ...repo },
    (d) => expect(d.labels).toEqual(expect.arrayContaining([expect.objectContaining({ name: "bug" })])),
  ],
  ["get_file_contents", { ...repo, path: "README.md" }, (d) => expect(d.sha).toMatch(/^[0-9a-f]{40}$/)],
  ["commit_read", { method: "list", ...repo }, (d) => expect(d.commits).toHaveLength(1)],
  ["commit_read", { method: "get", ...repo, ref: "master" }, (d) => expect(d.totalFiles).toBe(1)],
  ["create_branch", { ...repo, branch: "docs/typo", from: "master" }, (d) => expect(d.branch).toBe("docs/typo")],
  [
    "create_or_update_file",
    { ...repo, path: "notes/todo.md", content: "- ship it\n", message: "Add notes" },
    (d) => expect(d.commit).toMatch(/^[0-9a-f]{40}$/),
  ],
  [
    "push_files",
    {
      ...repo,
      branch: "master",
      message: "Two files",
      files: [
        { path: "a.txt", content: "a" },
        { path: "b.txt", content: "b" },
      ],
    },
    (d) => expect(d.changed).toBe(2),
  ],
  ["fork_repository", repo, (d) => expect(d.fullName).toBe("octocat/Hello-World")],
  [
    "create_repository",
    { name: "Hello-World", description: "x" },
    (d) => expect(d.fullName).toBe("octocat/Hello-World"),
  ],
  ["issue_read", { method: "list", ...repo, state: "all" }, (d) => expect(d.pullRequestsSkipped).toBe(1)],
  ["issue_read", { method: "get", ...repo, issueNumber: 1347 }, (d) => expect(d.issue).toMatchObject({ number: 1347 })],
  ["issue_read", { method: "comments", ...repo, issueNumber: 1347 }, (d) => expect(d.comments).toHaveLength(1)],
  ["search_issues", { query: "windows label:bug" }, (d) => expect(d.query).toBe("windows label:bug user:octocat")],
  [
    "issue_write",
    { method: "create", ...repo, title: "Found a bug", body: "Steps" },
    (d) => expect(d.number).toBe(1347),
  ],
  [
    "issue_write",
    { method: "update", ...repo, issueNumber: 1347, state: "closed" },
    (d) => expect(d.number).toBe(1347),
  ],
  [
    "issue_write",
    { method: "comment", ...repo, issueNumber: 1347, body: "Fixed" },
    (d) => expect(d.id).toBeTypeOf("number"),
  ],
  [
    "issue_write",
    { method: "add_labels", ...repo, issueNumber: 1347, labels: ["bug"] },
    (d) => expect(d.labels).toContain("bug"),
  ],
  [
    "issue_write",
    { method: "remove_label", ...repo, issueNumber: 1347, label: "bug" },
    (d) => expect(d.number).toBe(1347),
  ],
  ["pull_request_read", { method: "list", ...repo }, (d) => expect(d.pullRequests).toHaveLength(1)],
  ["pull_request_read", { method: "get", ...repo, pullNumber: 1347 }, (d) => expect(d.mergeable).toBe(true)],
  ["pull_request_read", { method: "diff", ...repo, pullNumber: 1347 }, (d) => expect(d.totalFiles).toBe(1)],
  ["pull_request_read", { method: "files", ...repo, pullNumber: 1347 }, (d) => expect(d.files).toHaveLength(1)],
  [
    "pull_request_read",
    { method: "checks", ...repo, pullNumber: 1347 },
    (d) => expect(d.combinedState).toBe("success"),
  ],
  ["pull_request_read", { method: "reviews", ...repo, pullNumber: 1347 }, (d) => expect(d.reviews).toHaveLength(1)],
  [
    "pull_request_read",
    { method: "review_comments", ...repo, pullNumber: 1347 },
    (d) => expect(d.reviewComments).toHaveLength(1),
  ],
  [
    "pull_request_write",
    { method: "create", ...repo, title: "Amazing new feature", head: "octocat:new-topic", base: "master" },
    (d) => expect(d.number).toBe(1347),
  ],
  [
    "pull_request_write",
    { method: "update", ...repo, pullNumber: 1347, title: "Better title" },
    (d) => expect(d.number).toBe(1347),
  ],
  [
    "pull_request_write",
    {
      method: "review",
      ...repo,
      pullNumber: 1347,
      event: "COMMENT",
      body: "Looks good",
      comments: [{ path: "file.md", line: 2, body: "nit" }],
    },
    (d) => expect(d.id).toBe(80),
  ],
  ["merge_pull_request", { ...repo, pullNumber: 1347, mergeMethod: "squash" }, (d) => expect(d.merged).toBe(true)],
  ["search_code", { query: "addClass in:file language:js" }, (d) => expect(d.query).toContain("user:octocat")],
  ["search_users", { query: "tom repos:>42" }, (d) => expect(d.items).toHaveLength(1)],
  [
    "actions_read",
    { method: "list_runs", ...repo, workflow: "ci.yml", branch: "main" },
    (d) => expect(d.runs).toHaveLength(1),
  ],
  ["actions_read", { method: "get_run", ...repo, runId: 30433642 }, (d) => expect(d.jobs).toHaveLength(1)],
];

async function everyTool(client: Client): Promise<void> {
  const { tools } = await client.listTools();
  const covered = new Set(EVERY_TOOL.map(([name]) => name));
  expect(tools.map((t) => t.name).filter((name) => !covered.has(name))).toEqual([]);
  for (const [name, args, check] of EVERY_TOOL) {
    const result = await client.callTool({ name, arguments: args });
    expect(result.isError, `${name} ${JSON.stringify(args)}: ${textOf(result)}`).toBeFalsy();
    check(json(result));
  }
}

describe("stdio", () => {
  it("starts with the short default tool list", async () => {
    const server = await startStdio("github", [], { env: env({ GITHUB_TOOLSETS: "" }) });
    try {
      const { tools } = await server.client.listTools();
      expect(tools).toHaveLength(16);
      expect(server.client.getInstructions()).toContain("octocat/*");
      expect(server.transportErrors).toEqual([]);
    } finally {
      await server.close();
    }
  });

  it("runs every tool against the local GitHub", async () => {
    const server = await startStdio("github", [], { env: env() });
    try {
      await everyTool(server.client);
      expect(server.stderr()).not.toContain(TOKEN);
    } finally {
      await server.close();
    }
  });

  it("enforces the allowlist and read-only mode across the process boundary", async () => {
    const server = await startStdio("github", ["--read-only"], { env: env() });
    api.requests.length = 0;
    try {
      const { tools } = await server.client.listTools();
      expect(tools.every((t) => t.annotations?.readOnlyHint)).toBe(true);
      const read = await server.client.callTool({
        name: "get_file_contents",
        arguments: { owner: "victim", repo: "private", path: ".env" },
      });
      expect(textOf(read)).toContain("permission_denied");
      await expect(
        server.client.callTool({
          name: "push_files",
          arguments: { owner: "octocat", repo: "x", message: "m", files: [] },
        }),
      ).rejects.toThrow(/Unknown tool/);
      expect(api.requests).toHaveLength(0);
    } finally {
      await server.close();
    }
  });

  it("refuses bad settings with one line and exit code 2", () => {
    const cases: Array<[Record<string, string>, RegExp]> = [
      [{ GITHUB_ALLOWED_REPOS: "victim" }, /allowed-repos.*owner\/repo/],
      [{ GITHUB_API_URL: "http://api.example.com" }, /api-url/],
      [{ GITHUB_TOOLSETS: "everything" }, /unknown toolset "everything"/],
      [{ GITHUB_PERSONAL_ACCESS_TOKEN: "", GITHUB_TOKEN: "" }, /token is required/],
    ];
    for (const [overrides, message] of cases) {
      const run = spawnSync(process.execPath, [serverCli("github")], {
        env: { ...process.env, ...env(), ...overrides },
        input: "",
        encoding: "utf8",
        timeout: 20_000,
      });
      expect(run.status, JSON.stringify(overrides)).toBe(2);
      expect(run.stderr.trim().split("\n")).toHaveLength(1);
      expect(run.stderr).toMatch(message);
      expect(run.stdout).toBe("");
    }
  });
});

describe("Streamable HTTP", () => {
  it("runs every tool against the local GitHub, with bearer auth", async () => {
    const server = await startHttp("github", [], { env: { ...env(), MCP_AUTH_TOKEN: "mcp-secret-token-123" } });
    try {
      const client = await server.connect({ token: "mcp-secret-token-123" });
      await everyTool(client);
      // Cached reads are shared by every session of the process.
      api.requests.length = 0;
      const other = await server.connect({ token: "mcp-secret-token-123" });
      const again = await other.callTool({ name: "repo_read", arguments: { method: "get", ...repo } });
      expect(again.isError).toBeFalsy();
      expect(api.requests.map((r) => r.status)).toEqual([304]);
    } finally {
      expect(await server.stop()).toBe(0);
    }
  });
});

describe("recorded GitHub traffic (@octokit/fixtures)", () => {
  let fixtures: FixturesServer;
  beforeAll(async () => {
    fixtures = await startFixturesServer();
  });
  afterAll(async () => {
    await fixtures?.close();
  });

  /** A server process for one scenario: each loaded scenario has its own base URL. */
  async function scenario(name: string, allowed = "octokit-fixture-org/*", http = false) {
    const base = await fixtures.load(name);
    const settings = {
      GITHUB_PERSONAL_ACCESS_TOKEN: FIXTURE_TOKEN,
      GITHUB_API_URL: base,
      GITHUB_ALLOWED_REPOS: allowed,
    };
    if (http) {
      const server = await startHttp("github", [], { env: settings });
      return { client: await server.connect(), close: () => server.stop().then(() => undefined) };
    }
    const server = await startStdio("github", [], { env: settings });
    return { client: server.client, close: () => server.close() };
  }

  it("get-repository", async () => {
    const { client, close } = await scenario("get-repository");
    try {
      const data = json(
        await client.callTool({
          name: "repo_read",
          arguments: { method: "get", owner: "octokit-fixture-org", repo: "hello-world" },
        }),
      );
      expect(data).toMatchObject({ fullName: "octokit-fixture-org/hello-world", defaultBranch: "master" });
    } finally {
      await close();
    }
  });

  it("paginate-issues: five pages through GitHub's own Link headers", async () => {
    const { client, close } = await scenario("paginate-issues", "octokit-fixture-org/*", true);
    try {
      const numbers: number[] = [];
      let cursor: string | undefined;
      let pages = 0;
      do {
        const data = json(
          await client.callTool({
            name: "issue_read",
            arguments: {
              method: "list",
              owner: "octokit-fixture-org",
              repo: "paginate-issues",
              ...(cursor ? { cursor } : { perPage: 3 }),
            },
          }),
        ) as { issues: Array<{ number: number }>; nextCursor?: string };
        numbers.push(...data.issues.map((i) => i.number));
        cursor = data.nextCursor;
        pages++;
      } while (cursor && pages < 10);
      expect(pages).toBe(5);
      expect(numbers).toEqual([13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1]);
    } finally {
      await close();
    }
  });

  it("search-issues: the query is scoped to the allowed repository", async () => {
    const { client, close } = await scenario("search-issues", "octokit-fixture-org/search-issues");
    try {
      const data = json(await client.callTool({ name: "search_issues", arguments: { query: "sesame" } })) as {
        query: string;
        items: Array<{ repo: string; title: string }>;
      };
      expect(data.query).toBe("sesame repo:octokit-fixture-org/search-issues");
      expect(data.items.length).toBe(2);
      expect(data.items.every((i) => i.repo === "octokit-fixture-org/search-issues")).toBe(true);
    } finally {
      await close();
    }
  });

  it("add-labels-to-issue: create an issue, then label it", async () => {
    const { client, close } = await scenario("add-labels-to-issue");
    try {
      const target = { owner: "octokit-fixture-org", repo: "add-labels-to-issue" };
      const created = json(
        await client.callTool({
          name: "issue_write",
          arguments: { method: "create", ...target, title: "Issue without a label" },
        }),
      );
      expect(created).toMatchObject({ number: 1, title: "Issue without a label" });
      const labelled = json(
        await client.callTool({
          name: "issue_write",
          arguments: { method: "add_labels", ...target, issueNumber: 1, labels: ["Foo", "bAr", "baZ"] },
        }),
      );
      expect(labelled.labels).toEqual(["Foo", "bAr", "baZ"]);
    } finally {
      await close();
    }
  });

  it("create-file", async () => {
    const { client, close } = await scenario("create-file");
    try {
      const result = await client.callTool({
        name: "create_or_update_file",
        arguments: {
          owner: "octokit-fixture-org",
          repo: "create-file",
          path: "test.txt",
          content: "Test content",
          message: "create test.txt",
        },
      });
      expect(result.structuredContent).toMatchObject({
        path: "test.txt",
        sha: "3f3f005b29247e51a4f4d6b8ce07b67646cd6074",
      });
    } finally {
      await close();
    }
  });

  it("labels and release-assets: repository labels and a release by tag", async () => {
    const labels = await scenario("labels");
    try {
      const data = json(
        await labels.client.callTool({
          name: "repo_read",
          arguments: { method: "labels", owner: "octokit-fixture-org", repo: "labels" },
        }),
      ) as { labels: Array<{ name: string }> };
      expect(data.labels.map((l) => l.name)).toContain("bug");
    } finally {
      await labels.close();
    }
    const release = await scenario("release-assets");
    try {
      const data = json(
        await release.client.callTool({
          name: "repo_read",
          arguments: { method: "release", owner: "octokit-fixture-org", repo: "release-assets", tag: "v1.0.0" },
        }),
      );
      expect(data).toMatchObject({ tag: "v1.0.0" });
    } finally {
      await release.close();
    }
  });
});
