import { createLogger } from "@portside/shared";
import { describe, expect, it } from "vitest";
import { RepoAllowlist } from "../src/github/allowlist.ts";
import { GitHubClient } from "../src/github/client.ts";
import { CursorCodec } from "../src/github/cursor.ts";
import type { GitHubDeps } from "../src/tools/common.ts";
import { selectTools, TOOLSETS, ToolSelectionError } from "../src/toolsets.ts";

const deps: GitHubDeps = {
  client: new GitHubClient({
    token: "t",
    apiUrl: "https://api.github.com",
    userAgent: "test",
    log: createLogger({ level: "error" }),
    cacheBytes: 0,
  }),
  allowlist: new RepoAllowlist(["*"]),
  cursors: new CursorCodec(),
  readOnly: false,
};
const names = (selection: Partial<Parameters<typeof selectTools>[1]>) =>
  selectTools(deps, { toolsets: ["default"], include: [], exclude: [], readOnly: false, ...selection }).map(
    (t) => t.name,
  );

describe("toolsets", () => {
  it("offers a short default list", () => {
    expect(names({})).toEqual([
      "get_me",
      "search_repositories",
      "repo_read",
      "get_file_contents",
      "commit_read",
      "create_branch",
      "create_or_update_file",
      "push_files",
      "fork_repository",
      "create_repository",
      "issue_read",
      "search_issues",
      "issue_write",
      "pull_request_read",
      "pull_request_write",
      "merge_pull_request",
    ]);
  });

  it("registers no write tool in read-only mode, even one asked for by name", () => {
    const all = selectTools(deps, { toolsets: ["all"], include: ["create_branch"], exclude: [], readOnly: true });
    expect(all.every((t) => t.annotations.readOnlyHint)).toBe(true);
    expect(all.map((t) => t.name)).not.toContain("create_branch");
    expect(all.map((t) => t.name)).toContain("actions_read");
  });

  it("adds single tools and removes excluded ones", () => {
    const chosen = names({ toolsets: ["issues"], include: ["search_code"], exclude: ["issue_write"] });
    expect(chosen).toEqual(["issue_read", "search_issues", "search_code"]);
    expect(names({ toolsets: ["default", "actions"] })).toContain("actions_read");
    expect(names({ toolsets: ["all"] })).toHaveLength(TOOLSETS.reduce((n, set) => n + set.tools.length, 0));
  });

  it("refuses unknown names and an empty selection", () => {
    expect(() => names({ toolsets: ["repo"] })).toThrow(ToolSelectionError);
    expect(() => names({ include: ["get_everything"] })).toThrow(/unknown tool/);
    expect(() => names({ exclude: ["nope"] })).toThrow(/unknown tool/);
    expect(() => names({ toolsets: ["context"], exclude: ["get_me"] })).toThrow(/no tools/);
  });

  it("states every annotation on every tool, and write tools say so", () => {
    for (const tool of selectTools(deps, { toolsets: ["all"], include: [], exclude: [], readOnly: false })) {
      const listing = tool.listing();
      expect(Object.keys(listing.annotations ?? {}).sort()).toEqual(
        ["destructiveHint", "idempotentHint", "openWorldHint", "readOnlyHint", "title"].sort(),
      );
      expect(listing.description?.length).toBeLessThan(400);
    }
  });
});
