import { isToolError, ToolError } from "@portside/shared";
import { cleanText } from "./text.js";

/** Thrown when GitHub answers with a redirect: this server never follows one blindly (see client.ts). */
export class MovedError extends Error {
  readonly status: number;
  readonly location: string | undefined;
  constructor(status: number, location: string | undefined) {
    super(`GitHub answered ${status} (moved)`);
    this.name = "MovedError";
    this.status = status;
    this.location = location;
  }
}

/** A response larger than this server is willing to hold in memory. */
export class ResponseTooLargeError extends Error {
  readonly limit: number;
  constructor(limit: number) {
    super(`response larger than ${limit} bytes`);
    this.name = "ResponseTooLargeError";
    this.limit = limit;
  }
}

interface HttpErrorLike {
  status: number;
  message: string;
  response?: { headers?: Record<string, string | number | undefined>; data?: unknown };
  cause?: unknown;
}

export function isHttpError(error: unknown): error is HttpErrorLike {
  return (
    error instanceof Error &&
    typeof (error as { status?: unknown }).status === "number" &&
    (error.name === "HttpError" || "response" in error || "request" in error)
  );
}

export function httpStatus(error: unknown): number | undefined {
  return isHttpError(error) ? error.status : undefined;
}

/** When a rate limit resets, in words a model can act on. */
export function describeReset(resetEpochSeconds: number, now = Date.now()): string {
  const at = new Date(resetEpochSeconds * 1000);
  const minutes = Math.max(0, Math.ceil((at.getTime() - now) / 60_000));
  return `${at.toISOString()} (in about ${minutes} minute${minutes === 1 ? "" : "s"})`;
}

/**
 * Turns anything thrown while talking to GitHub into a ToolError a model can act on. `what`
 * describes the operation ("reading issue #4 of octo/app").
 */
export function toToolError(error: unknown, what: string, signal?: AbortSignal): ToolError {
  if (isToolError(error)) return error;
  if (signal?.aborted || (error instanceof Error && error.name === "AbortError")) {
    return new ToolError("cancelled", `Cancelled while ${what}.`);
  }
  if (error instanceof MovedError) {
    return new ToolError("not_found", `GitHub says the resource moved while ${what}.`, {
      hint: "The repository was probably renamed or transferred: find its current name and call again with it.",
    });
  }
  if (!isHttpError(error)) throw error;
  const headers = error.response?.headers ?? {};
  const data = error.response?.data as { message?: unknown; errors?: unknown } | undefined;
  const githubMessage = cleanText(typeof data?.message === "string" ? data.message : error.message).slice(0, 500);
  const status = error.status;

  if (error.cause instanceof ResponseTooLargeError || status === 413) {
    return new ToolError("too_large", `GitHub's answer was too large to handle while ${what}.`, {
      hint: "Ask for less: a narrower path, a smaller page, or a single file.",
    });
  }
  if ((status === 403 || status === 429) && String(headers["x-ratelimit-remaining"]) === "0") {
    const reset = Number(headers["x-ratelimit-reset"]);
    const when = Number.isFinite(reset) && reset > 0 ? describeReset(reset) : "soon";
    return new ToolError("rate_limited", `GitHub's rate limit is exhausted while ${what}; it resets at ${when}.`, {
      hint: "Wait until the reset time, or use a token with a higher limit.",
      details: { resetAt: Number.isFinite(reset) ? new Date(reset * 1000).toISOString() : undefined },
    });
  }
  if ((status === 403 || status === 429) && /secondary rate|abuse/i.test(githubMessage)) {
    const retryAfter = Number(headers["retry-after"]) || 60;
    return new ToolError(
      "rate_limited",
      `GitHub's secondary rate limit stopped ${what}, even after waiting and retrying; try again in ${retryAfter} seconds.`,
      { hint: "Slow down: make fewer calls in parallel, especially writes and searches.", details: { retryAfter } },
    );
  }
  switch (status) {
    case 401:
      return new ToolError("permission_denied", `GitHub rejected the token while ${what}: ${githubMessage}.`, {
        hint: "Check GITHUB_PERSONAL_ACCESS_TOKEN: it may be mistyped, expired or revoked.",
      });
    case 403: {
      const accepted = String(headers["x-accepted-oauth-scopes"] ?? "").trim();
      return new ToolError("permission_denied", `GitHub refused ${what}: ${githubMessage}.`, {
        hint: accepted
          ? `The token needs one of these scopes: ${accepted}.`
          : "The token lacks the permission for this (or a rule such as branch protection forbids it).",
      });
    }
    case 404:
      return new ToolError("not_found", `Not found while ${what}.`, {
        hint: "Check the owner, repository, number or path. GitHub also answers 404 when the token cannot see a private repository.",
      });
    case 405:
      return new ToolError("conflict", `GitHub did not allow ${what}: ${githubMessage}.`, {
        hint: "Check the current state first (for a merge: mergeability, required reviews and checks).",
      });
    case 406:
      return new ToolError("too_large", `GitHub would not render this while ${what}: ${githubMessage}.`, {
        hint: "Page through the changed files instead.",
      });
    case 409:
      return new ToolError("conflict", `Conflict while ${what}: ${githubMessage}.`, {
        hint: "Re-read the current state (branch head, file sha, mergeability) and try again.",
      });
    case 410:
      return new ToolError("not_found", `Gone while ${what}: ${githubMessage}.`, {
        hint: "The feature may be disabled for this repository (e.g. issues turned off).",
      });
    case 422:
      return new ToolError("invalid_argument", `GitHub rejected the request while ${what}: ${describe422(data)}.`, {
        hint: "Fix the values GitHub names and call again.",
      });
    default:
      break;
  }
  if (status >= 500 || status === 0) {
    const cause = error.cause instanceof Error ? error.cause.message : "";
    const network = /fetch failed|ECONNREFUSED|ENOTFOUND|ETIMEDOUT|EAI_AGAIN|socket|network/i.test(
      `${error.message} ${cause}`,
    );
    return network
      ? new ToolError("unavailable", `Could not reach GitHub while ${what}.`, {
          hint: "Check the network and the API URL setting, then try again.",
        })
      : new ToolError("upstream_error", `GitHub failed (${status}) while ${what}: ${githubMessage}.`, {
          hint: "GitHub had a problem; try again in a moment.",
        });
  }
  return new ToolError("upstream_error", `GitHub answered ${status} while ${what}: ${githubMessage}.`);
}

function describe422(data: { message?: unknown; errors?: unknown } | undefined): string {
  const message = typeof data?.message === "string" ? data.message : "Validation failed";
  const errors = Array.isArray(data?.errors) ? data.errors : [];
  const parts = errors.slice(0, 5).map((e: unknown) => {
    if (typeof e === "string") return e;
    const item = e as { field?: unknown; code?: unknown; message?: unknown; resource?: unknown };
    if (typeof item.message === "string") return item.message;
    return [item.resource, item.field, item.code].filter((x) => typeof x === "string").join(" ");
  });
  return cleanText(parts.length ? `${message} (${parts.join("; ")})` : message).slice(0, 800);
}
