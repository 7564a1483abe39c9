import type { Tool } from "@portside/shared";
import { actionsRead } from "./tools/actions.js";
import { commitRead } from "./tools/commit-read.js";
import type { GitHubDeps } from "./tools/common.js";
import { getMe } from "./tools/context.js";
import { getFileContents } from "./tools/file-contents.js";
import { issueRead, issueWrite } from "./tools/issues.js";
import { mergePullRequest, pullRequestRead, pullRequestWrite } from "./tools/pull-requests.js";
import { repoRead } from "./tools/repo-read.js";
import { createBranch, createOrUpdateFile, createRepository, forkRepository, pushFiles } from "./tools/repo-write.js";
import { searchCode, searchIssues, searchRepositories, searchUsers } from "./tools/search.js";

/**
 * Toolsets are data: each lists its tools. Which tools a server offers is decided here, from the
 * settings, and nowhere else (no `if (readOnly)` inside handlers): a write tool in read-only mode
 * simply does not exist.
 */
export interface Toolset {
  name: string;
  description: string;
  /** Token scopes (classic PAT) or fine-grained permissions the toolset needs. */
  needs: string;
  enabledByDefault: boolean;
  tools: ReadonlyArray<(deps: GitHubDeps) => Tool>;
}

export const TOOLSETS: readonly Toolset[] = [
  {
    name: "context",
    description: "Who you are, the token's scopes, the rate limit and this server's limits",
    needs: "no scope (read:user for private profile fields)",
    enabledByDefault: true,
    tools: [getMe],
  },
  {
    name: "repos",
    description:
      "Repositories, files, branches, tags, releases and commits; write files, branches, forks, repositories",
    needs:
      "public_repo or repo; fine-grained: Contents read (write to push), Metadata read, Administration write to create repos",
    enabledByDefault: true,
    tools: [
      searchRepositories,
      repoRead,
      getFileContents,
      commitRead,
      createBranch,
      createOrUpdateFile,
      pushFiles,
      forkRepository,
      createRepository,
    ],
  },
  {
    name: "issues",
    description: "Issues and their comments and labels",
    needs: "public_repo or repo; fine-grained: Issues read (write to change)",
    enabledByDefault: true,
    tools: [issueRead, searchIssues, issueWrite],
  },
  {
    name: "pull_requests",
    description: "Pull requests: diffs, files, checks, reviews; create, update, review, merge",
    needs:
      "public_repo or repo; fine-grained: Pull requests read (write to change), Commit statuses and Checks read, Contents write to merge",
    enabledByDefault: true,
    tools: [pullRequestRead, pullRequestWrite, mergePullRequest],
  },
  {
    name: "search",
    description: "Code search and user search",
    needs: "public_repo or repo (code in private repositories)",
    enabledByDefault: false,
    tools: [searchCode, searchUsers],
  },
  {
    name: "actions",
    description: "GitHub Actions workflow runs and job logs (read only)",
    needs: "repo (private) or public_repo; fine-grained: Actions read",
    enabledByDefault: false,
    tools: [actionsRead],
  },
];

export class ToolSelectionError extends Error {}

export interface ToolSelection {
  toolsets: readonly string[];
  include: readonly string[];
  exclude: readonly string[];
  readOnly: boolean;
}

/** The tools to register, in toolset order, from the settings. Unknown names are errors, not silence. */
export function selectTools(deps: GitHubDeps, selection: ToolSelection, toolsets = TOOLSETS): Tool[] {
  const byToolset = new Map(toolsets.map((set) => [set.name, set.tools.map((make) => make(deps))]));
  const allTools = [...byToolset.values()].flat();
  const known = new Set(allTools.map((t) => t.name));

  const wanted = new Set<string>();
  for (const raw of selection.toolsets) {
    const name = raw.trim().toLowerCase();
    if (name === "all") {
      for (const set of toolsets) wanted.add(set.name);
    } else if (name === "default") {
      for (const set of toolsets) if (set.enabledByDefault) wanted.add(set.name);
    } else if (byToolset.has(name)) {
      wanted.add(name);
    } else {
      throw new ToolSelectionError(
        `unknown toolset ${JSON.stringify(raw)}; known: ${toolsets.map((s) => s.name).join(", ")}, default, all`,
      );
    }
  }
  for (const name of [...selection.include, ...selection.exclude]) {
    if (!known.has(name)) {
      throw new ToolSelectionError(`unknown tool ${JSON.stringify(name)}; known: ${[...known].join(", ")}`);
    }
  }
  const exclude = new Set(selection.exclude);
  const include = new Set(selection.include);
  const chosen = allTools.filter((tool) => {
    const set = toolsets.find((s) => byToolset.get(s.name)?.includes(tool));
    if (exclude.has(tool.name)) return false;
    if (selection.readOnly && !tool.annotations.readOnlyHint) return false;
    return include.has(tool.name) || (set !== undefined && wanted.has(set.name));
  });
  if (chosen.length === 0) throw new ToolSelectionError("these settings leave no tools to offer");
  return chosen;
}
