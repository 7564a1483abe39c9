import { defineTool, type Tool, ToolError } from "@portside/shared";
import { z } from "zod";
import { MovedError } from "../github/errors.js";
import { fetchLogTail, lastLines } from "../github/log-tail.js";
import { cleanText } from "../github/text.js";
import {
  compact,
  cursorArg,
  fail,
  GITHUB_TIMEOUT_MS,
  type GitHubDeps,
  github,
  given,
  inRepo,
  jsonText,
  matching,
  numberArg,
  ownerArg,
  pagedAnswer,
  pager,
  perPageArg,
  READS,
  renderWithBody,
  repoArg,
  requireArg,
  text,
} from "./common.js";

interface RunLike {
  id: number;
  name?: string | null;
  display_title?: string;
  status?: string | null;
  conclusion?: string | null;
  event?: string;
  head_branch?: string | null;
  head_sha?: string;
  run_number?: number;
  run_attempt?: number;
  created_at?: string;
  updated_at?: string;
  html_url?: string;
  actor?: { login?: string } | null;
}

function runView(run: RunLike) {
  return compact({
    id: run.id,
    workflow: cleanText(run.name) || undefined,
    title: cleanText(run.display_title) || undefined,
    status: run.status,
    conclusion: run.conclusion,
    event: run.event,
    branch: run.head_branch ? cleanText(run.head_branch) : undefined,
    sha: run.head_sha,
    number: run.run_number,
    attempt: run.run_attempt,
    actor: run.actor?.login,
    createdAt: run.created_at,
    url: run.html_url,
  });
}

export function actionsRead(deps: GitHubDeps): Tool {
  return defineTool({
    name: "actions_read",
    timeoutMs: GITHUB_TIMEOUT_MS,
    title: "Read GitHub Actions",
    description:
      "method: list_runs (workflow runs, filter by workflow file/id, branch, status, event) | get_run (a run and its jobs, " +
      "failed steps named) | job_log (the last lines of one job's log).",
    input: z.object({
      method: z.enum(["list_runs", "get_run", "job_log"]),
      owner: ownerArg,
      repo: repoArg,
      workflow: matching(/^[A-Za-z0-9._-]{1,255}$/, "must be a workflow file name or id")
        .optional()
        .describe("list_runs: e.g. ci.yml"),
      branch: text(255).optional(),
      status: z
        .enum([
          "completed",
          "in_progress",
          "queued",
          "requested",
          "waiting",
          "pending",
          "success",
          "failure",
          "cancelled",
        ])
        .optional(),
      event: matching(/^[a-z_]{1,64}$/, "must be an event name such as push").optional(),
      runId: numberArg("get_run: run id").optional(),
      jobId: numberArg("job_log: job id (from get_run)").optional(),
      tailLines: z.number().int().min(1).max(5000).optional().describe("job_log: lines from the end (default 200)"),
      perPage: perPageArg,
      cursor: cursorArg,
    }),
    annotations: READS,
    async handler(args, ctx) {
      const { method } = args;
      const { owner, repo, name, request } = inRepo(deps, args, ctx.signal);
      const actions = deps.client.octokit.rest.actions;

      if (method === "list_runs") {
        const filters = given({
          branch: args.branch,
          status: args.status,
          event: args.event,
          per_page: args.perPage,
        });
        const workflow = args.workflow;
        const list = pager(deps, ctx, args.cursor);
        const page = await list({
          scope: `runs:${name}:${workflow ?? ""}`,
          what: `listing workflow runs of ${name}`,
          first: () =>
            workflow
              ? actions.listWorkflowRuns({
                  owner,
                  repo,
                  workflow_id: /^\d+$/.test(workflow) ? Number(workflow) : workflow,
                  ...filters,
                  request,
                })
              : actions.listWorkflowRunsForRepo({ owner, repo, ...filters, request }),
          items: (data) => (data as { workflow_runs: RunLike[] }).workflow_runs,
          shape: runView,
        });
        return pagedAnswer("runs", page);
      }

      if (method === "get_run") {
        const runId = requireArg(args.runId, "runId", method);
        const [run, jobs] = await Promise.all([
          github(`reading run ${runId} of ${name}`, ctx.signal, () =>
            actions.getWorkflowRun({ owner, repo, run_id: runId, request }),
          ),
          github(`listing the jobs of run ${runId} of ${name}`, ctx.signal, () =>
            actions.listJobsForWorkflowRun({ owner, repo, run_id: runId, per_page: 100, request }),
          ),
        ]);
        const jobViews = jobs.data.jobs.map((job) =>
          compact({
            id: job.id,
            name: cleanText(job.name),
            status: job.status,
            conclusion: job.conclusion,
            failedSteps: (job.steps ?? [])
              .filter((s) => s.conclusion === "failure" || s.conclusion === "timed_out")
              .map((s) => cleanText(s.name)),
            startedAt: job.started_at,
            completedAt: job.completed_at,
          }),
        );
        const fitted = ctx.budget.fitItems(jobViews, { reserve: 1500 });
        return {
          text: jsonText(
            compact({
              run: runView(run.data as RunLike),
              totalJobs: jobs.data.total_count,
              jobs: fitted.items,
              note: fitted.truncated ? `${fitted.omitted} jobs omitted to fit the response budget.` : undefined,
            }),
          ),
          untrusted: true,
        };
      }

      const jobId = requireArg(args.jobId, "jobId", method);
      const what = `reading the log of job ${jobId} of ${name}`;
      let location: string | undefined;
      try {
        await actions.downloadJobLogsForWorkflowRun({ owner, repo, job_id: jobId, request });
      } catch (error) {
        if (!(error instanceof MovedError)) fail(error, what, ctx.signal);
        location = error.location;
      }
      if (!location || !logUrlAllowed(location, deps.client.apiBase)) {
        throw new ToolError("upstream_error", `GitHub did not point to a downloadable log while ${what}.`, {
          hint: "The log may have expired (GitHub keeps logs for a limited time).",
        });
      }
      const logUrl = location;
      const tail = await github(what, ctx.signal, () =>
        fetchLogTail(logUrl, ctx.signal).catch((error: unknown) => {
          if (ctx.signal.aborted) throw error;
          throw new ToolError("unavailable", `Could not download the log while ${what}.`, {
            hint: "Try again; the log storage link is short-lived.",
            cause: error,
          });
        }),
      );
      const lines = lastLines(cleanText(tail.text), args.tailLines ?? 200);
      const clipped = ctx.budget.clipText(lines.text, "Ask for fewer tailLines.", ctx.budget.maxChars - 500);
      const header = compact({
        jobId,
        shownLines: lines.shownLines,
        logBytes: tail.totalBytes,
        note: tail.partial ? "Only the end of the log was read." : undefined,
      });
      return { text: renderWithBody(header, clipped.text), untrusted: true };
    },
  });
}

/**
 * GitHub redirects log downloads to signed storage URLs on other hosts. Those carry no token of
 * ours; still, only HTTPS is fetched, except plain HTTP on loopback when the API itself is a local
 * (test or proxy) server.
 */
function logUrlAllowed(location: string, apiBase: string): boolean {
  let url: URL;
  try {
    url = new URL(location);
  } catch {
    return false;
  }
  if (url.protocol === "https:") return true;
  const api = new URL(apiBase);
  const loopback = (host: string) => host === "127.0.0.1" || host === "localhost" || host === "[::1]";
  return url.protocol === "http:" && api.protocol === "http:" && loopback(api.hostname) && loopback(url.hostname);
}
