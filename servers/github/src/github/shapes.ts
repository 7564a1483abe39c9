import { cleanMarkup, cleanText } from "./text.js";

/**
 * Compact views of GitHub objects: the fields a model uses, none of the dozens of `*_url`
 * templates. Every user-written string goes through the sanitiser here; bodies also say when
 * hidden content was removed.
 */

type Maybe<T> = T | null | undefined;

interface UserLike {
  login?: Maybe<string>;
  type?: Maybe<string>;
}
interface LabelLike {
  name?: Maybe<string>;
  color?: Maybe<string>;
  description?: Maybe<string>;
}

export const login = (user: Maybe<UserLike>): string | undefined => user?.login ?? undefined;

export function labelNames(labels: Maybe<ReadonlyArray<string | LabelLike>>): string[] {
  return (labels ?? []).map((l) => cleanText(typeof l === "string" ? l : (l.name ?? ""))).filter(Boolean);
}

/** A body clipped to `maxChars`, with where to continue. */
export function body(
  value: Maybe<string>,
  options: { offset?: number; maxChars?: number } = {},
): { body?: string; bodyChars?: number; nextBodyOffset?: number; hiddenContentRemoved?: true } {
  const { text, hiddenRemoved } = cleanMarkup(value);
  if (!text) return hiddenRemoved ? { hiddenContentRemoved: true } : {};
  const offset = options.offset ?? 0;
  const max = options.maxChars ?? Number.POSITIVE_INFINITY;
  const slice = text.slice(offset, offset + max);
  const end = offset + slice.length;
  return {
    body: slice,
    ...(offset > 0 || end < text.length ? { bodyChars: text.length } : {}),
    ...(end < text.length ? { nextBodyOffset: end } : {}),
    ...(hiddenRemoved ? { hiddenContentRemoved: true as const } : {}),
  };
}

export interface IssueLike {
  number: number;
  title: string;
  state?: Maybe<string>;
  state_reason?: Maybe<string>;
  user?: Maybe<UserLike>;
  labels?: Maybe<ReadonlyArray<string | LabelLike>>;
  assignees?: Maybe<ReadonlyArray<UserLike>>;
  comments?: Maybe<number>;
  created_at?: Maybe<string>;
  updated_at?: Maybe<string>;
  closed_at?: Maybe<string>;
  html_url?: Maybe<string>;
  body?: Maybe<string>;
  pull_request?: unknown;
  repository_url?: Maybe<string>;
  milestone?: Maybe<{ title?: Maybe<string>; number?: Maybe<number> }>;
  locked?: Maybe<boolean>;
  draft?: Maybe<boolean>;
}

export function issueSummary(issue: IssueLike) {
  return {
    number: issue.number,
    title: cleanText(issue.title),
    state: issue.state ?? undefined,
    ...(issue.pull_request ? { isPullRequest: true } : {}),
    author: login(issue.user),
    labels: labelNames(issue.labels),
    assignees: (issue.assignees ?? []).map(login).filter(Boolean),
    comments: issue.comments ?? undefined,
    updatedAt: issue.updated_at ?? undefined,
    url: issue.html_url ?? undefined,
  };
}

export function issueDetail(issue: IssueLike, bodyOptions: { offset?: number; maxChars?: number }) {
  return {
    ...issueSummary(issue),
    stateReason: issue.state_reason ?? undefined,
    milestone: issue.milestone?.title ? cleanText(issue.milestone.title) : undefined,
    locked: issue.locked || undefined,
    createdAt: issue.created_at ?? undefined,
    closedAt: issue.closed_at ?? undefined,
    ...body(issue.body, bodyOptions),
  };
}

export interface CommentLike {
  id: number;
  user?: Maybe<UserLike>;
  body?: Maybe<string>;
  created_at?: Maybe<string>;
  updated_at?: Maybe<string>;
  html_url?: Maybe<string>;
  author_association?: Maybe<string>;
}

export function commentView(comment: CommentLike, maxBody = 8000) {
  return {
    id: comment.id,
    author: login(comment.user),
    association: comment.author_association ?? undefined,
    createdAt: comment.created_at ?? undefined,
    ...body(comment.body, { maxChars: maxBody }),
  };
}

export interface RepoLike {
  full_name: string;
  description?: Maybe<string>;
  private?: Maybe<boolean>;
  visibility?: Maybe<string>;
  default_branch?: Maybe<string>;
  stargazers_count?: Maybe<number>;
  forks_count?: Maybe<number>;
  open_issues_count?: Maybe<number>;
  language?: Maybe<string>;
  topics?: Maybe<string[]>;
  archived?: Maybe<boolean>;
  fork?: Maybe<boolean>;
  html_url?: Maybe<string>;
  updated_at?: Maybe<string>;
  pushed_at?: Maybe<string>;
  created_at?: Maybe<string>;
  homepage?: Maybe<string>;
  license?: Maybe<{ spdx_id?: Maybe<string>; name?: Maybe<string> }>;
  parent?: Maybe<{ full_name?: Maybe<string> }>;
  permissions?: Maybe<Record<string, boolean | undefined>>;
  has_issues?: Maybe<boolean>;
}

export function repoSummary(repo: RepoLike) {
  return {
    fullName: repo.full_name,
    description: cleanText(repo.description) || undefined,
    private: repo.private ?? undefined,
    stars: repo.stargazers_count ?? undefined,
    language: repo.language ?? undefined,
    archived: repo.archived || undefined,
    fork: repo.fork || undefined,
    updatedAt: repo.pushed_at ?? repo.updated_at ?? undefined,
    url: repo.html_url ?? undefined,
  };
}

export function repoDetail(repo: RepoLike) {
  const permissions = repo.permissions
    ? Object.entries(repo.permissions)
        .filter(([, v]) => v)
        .map(([k]) => k)
    : undefined;
  return {
    ...repoSummary(repo),
    visibility: repo.visibility ?? undefined,
    defaultBranch: repo.default_branch ?? undefined,
    forks: repo.forks_count ?? undefined,
    openIssues: repo.open_issues_count ?? undefined,
    topics: (repo.topics ?? []).map(cleanText),
    license: repo.license?.spdx_id ?? repo.license?.name ?? undefined,
    homepage: cleanText(repo.homepage) || undefined,
    parent: repo.parent?.full_name ?? undefined,
    hasIssues: repo.has_issues ?? undefined,
    createdAt: repo.created_at ?? undefined,
    yourPermissions: permissions,
  };
}

export interface PullLike extends IssueLike {
  merged?: Maybe<boolean>;
  merged_at?: Maybe<string>;
  mergeable?: Maybe<boolean>;
  mergeable_state?: Maybe<string>;
  head?: Maybe<{ ref?: Maybe<string>; sha?: Maybe<string>; repo?: Maybe<{ full_name?: Maybe<string> }> }>;
  base?: Maybe<{ ref?: Maybe<string>; sha?: Maybe<string>; repo?: Maybe<{ full_name?: Maybe<string> }> }>;
  requested_reviewers?: Maybe<ReadonlyArray<UserLike>>;
  additions?: Maybe<number>;
  deletions?: Maybe<number>;
  changed_files?: Maybe<number>;
  commits?: Maybe<number>;
  review_comments?: Maybe<number>;
  maintainer_can_modify?: Maybe<boolean>;
}

export function pullSummary(pr: PullLike) {
  return {
    number: pr.number,
    title: cleanText(pr.title),
    state: pr.merged_at ? "merged" : (pr.state ?? undefined),
    draft: pr.draft || undefined,
    author: login(pr.user),
    head: pr.head?.ref ? cleanText(pr.head.ref) : undefined,
    base: pr.base?.ref ? cleanText(pr.base.ref) : undefined,
    labels: labelNames(pr.labels),
    updatedAt: pr.updated_at ?? undefined,
    url: pr.html_url ?? undefined,
  };
}

export function pullDetail(pr: PullLike, bodyOptions: { offset?: number; maxChars?: number }) {
  return {
    ...pullSummary(pr),
    headSha: pr.head?.sha ?? undefined,
    headRepo: pr.head?.repo?.full_name ?? undefined,
    baseSha: pr.base?.sha ?? undefined,
    mergeable: pr.mergeable ?? undefined,
    mergeableState: pr.mergeable_state ?? undefined,
    assignees: (pr.assignees ?? []).map(login).filter(Boolean),
    requestedReviewers: (pr.requested_reviewers ?? []).map(login).filter(Boolean),
    commits: pr.commits ?? undefined,
    changedFiles: pr.changed_files ?? undefined,
    additions: pr.additions ?? undefined,
    deletions: pr.deletions ?? undefined,
    comments: pr.comments ?? undefined,
    reviewComments: pr.review_comments ?? undefined,
    milestone: pr.milestone?.title ? cleanText(pr.milestone.title) : undefined,
    createdAt: pr.created_at ?? undefined,
    mergedAt: pr.merged_at ?? undefined,
    closedAt: pr.closed_at ?? undefined,
    ...body(pr.body, bodyOptions),
  };
}

export interface ReleaseLike {
  id: number;
  tag_name: string;
  name?: Maybe<string>;
  draft?: Maybe<boolean>;
  prerelease?: Maybe<boolean>;
  published_at?: Maybe<string>;
  created_at?: Maybe<string>;
  author?: Maybe<UserLike>;
  body?: Maybe<string>;
  html_url?: Maybe<string>;
  target_commitish?: Maybe<string>;
  assets?: Maybe<
    ReadonlyArray<{ name: string; size?: Maybe<number>; download_count?: Maybe<number>; content_type?: Maybe<string> }>
  >;
}

export function releaseView(release: ReleaseLike, maxBody: number) {
  return {
    tag: cleanText(release.tag_name),
    name: cleanText(release.name) || undefined,
    draft: release.draft || undefined,
    prerelease: release.prerelease || undefined,
    publishedAt: release.published_at ?? release.created_at ?? undefined,
    author: login(release.author),
    target: release.target_commitish ? cleanText(release.target_commitish) : undefined,
    url: release.html_url ?? undefined,
    assets: (release.assets ?? []).map((a) => ({
      name: cleanText(a.name),
      size: a.size ?? undefined,
      downloads: a.download_count ?? undefined,
    })),
    ...body(release.body, { maxChars: maxBody }),
  };
}

export interface CommitLike {
  sha: string;
  commit: {
    message: string;
    author?: Maybe<{ name?: Maybe<string>; email?: Maybe<string>; date?: Maybe<string> }>;
    committer?: Maybe<{ name?: Maybe<string>; date?: Maybe<string> }>;
  };
  author?: Maybe<UserLike>;
  html_url?: Maybe<string>;
  parents?: Maybe<ReadonlyArray<{ sha: string }>>;
  stats?: Maybe<{ additions?: Maybe<number>; deletions?: Maybe<number>; total?: Maybe<number> }>;
}

export function commitSummary(commit: CommitLike) {
  const message = cleanText(commit.commit.message);
  const firstLine = message.split("\n", 1)[0] ?? "";
  return {
    sha: commit.sha,
    title: firstLine.length > 200 ? `${firstLine.slice(0, 200)}…` : firstLine,
    author: login(commit.author) ?? (cleanText(commit.commit.author?.name) || undefined),
    date: commit.commit.author?.date ?? commit.commit.committer?.date ?? undefined,
  };
}

export function commitDetail(commit: CommitLike) {
  return {
    sha: commit.sha,
    message: cleanText(commit.commit.message).slice(0, 10_000),
    author: login(commit.author) ?? undefined,
    authorName: cleanText(commit.commit.author?.name) || undefined,
    date: commit.commit.author?.date ?? undefined,
    committer: cleanText(commit.commit.committer?.name) || undefined,
    parents: (commit.parents ?? []).map((p) => p.sha),
    additions: commit.stats?.additions ?? undefined,
    deletions: commit.stats?.deletions ?? undefined,
    url: commit.html_url ?? undefined,
  };
}
