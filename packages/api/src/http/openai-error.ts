import { type ErrorCode, toCodexImgError } from "@codex-img/core";
import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { AppEnv } from "../app-env.js";

/** How one of our codes looks to an OpenAI SDK: status (which picks the SDK's error class) and `type`. */
export interface OpenAiErrorMapping {
  status: number;
  type: string;
  /**
   * `false` sends `x-should-retry: false`: the SDK retries 408/409/429/5xx by default, which only burns
   * time (or creates duplicate jobs) when the cause will not go away within seconds.
   */
  shouldRetry?: boolean;
}

/**
 * The one table from our codes to OpenAI's error shape. A `Record` over `ErrorCode`, so a new code fails to
 * compile until it is mapped here.
 */
export const OPENAI_ERRORS: Record<ErrorCode, OpenAiErrorMapping> = {
  invalid_request: { status: 400, type: "invalid_request_error" },
  unsupported_tool: { status: 400, type: "invalid_request_error" },
  previous_response_not_found: { status: 400, type: "invalid_request_error" },
  unauthorized: { status: 401, type: "authentication_error" },
  forbidden: { status: 403, type: "permission_error" },
  not_found: { status: 404, type: "not_found_error" },
  // The service's own logins need an operator; a client retry in seconds cannot fix them.
  login_required: { status: 503, type: "server_error", shouldRetry: false },
  plan_not_supported: { status: 503, type: "server_error", shouldRetry: false },
  // Exhausted subscription (or key) quota resets in hours: retrying now is in vain.
  quota_exhausted: { status: 429, type: "insufficient_quota", shouldRetry: false },
  no_account_available: { status: 429, type: "rate_limit_error", shouldRetry: false },
  // The caller's own per-minute limit: the SDK's backoff with our retry-after is the right thing.
  rate_limited: { status: 429, type: "rate_limit_error" },
  upstream_failed: { status: 502, type: "server_error" },
  upstream_timeout: { status: 504, type: "server_error" },
  // OpenAI answers refused content with 400, so SDK callers already handle it as BadRequestError.
  upstream_refused: { status: 400, type: "invalid_request_error" },
  upstream_blocked: { status: 502, type: "server_error", shouldRetry: false },
  backend_unavailable: { status: 503, type: "server_error", shouldRetry: false },
  queue_full: { status: 503, type: "server_error" },
  server_busy: { status: 503, type: "server_error" },
  body_too_large: { status: 413, type: "invalid_request_error" },
  headers_too_large: { status: 431, type: "invalid_request_error" },
  body_timeout: { status: 408, type: "invalid_request_error" },
  canceled: { status: 499, type: "request_canceled", shouldRetry: false },
  interrupted: { status: 500, type: "server_error" },
  internal: { status: 500, type: "server_error" },
};

/** OpenAI's error object, as in replies and in SSE `error` events. */
export interface OpenAiErrorObject {
  message: string;
  type: string;
  param: string | null;
  code: ErrorCode;
}

export interface OpenAiErrorOverrides {
  /** For refusals that are not about the code's usual meaning (body too large: 413). */
  status?: number;
  shouldRetry?: boolean;
}

/** Fallback when a quota error carries no reset time: a real, conservative wait rather than none. */
const QUOTA_FALLBACK_RETRY_MS = 60_000;

/** The error object for any thrown value; internal failures never expose their message (SQL, paths). */
export function openAiErrorObject(error: unknown): OpenAiErrorObject {
  const failure = toCodexImgError(error);
  const mapping = OPENAI_ERRORS[failure.code];
  const param = typeof failure.details.param === "string" ? failure.details.param : null;
  const message =
    failure.code === "internal" ? "codex-img failed unexpectedly; the error was logged." : failure.message;
  return { message, type: mapping.type, param, code: failure.code };
}

/**
 * Answers in OpenAI's error shape so the official SDKs raise their typed errors (`BadRequestError`,
 * `RateLimitError`, …) and follow our `retry-after-ms` / `retry-after` / `x-should-retry` headers.
 */
export function openAiErrorResponse(
  c: Context<AppEnv>,
  error: unknown,
  overrides: OpenAiErrorOverrides = {},
): Response {
  const failure = toCodexImgError(error);
  const mapping = OPENAI_ERRORS[failure.code];
  const status = overrides.status ?? mapping.status;
  const shouldRetry = overrides.shouldRetry ?? mapping.shouldRetry;
  const retryAfterMs = retryAfterOf(failure.code, failure.retryAfterMs, failure.details.resetsAt);
  if (retryAfterMs !== undefined) {
    c.header("retry-after", String(Math.max(1, Math.ceil(retryAfterMs / 1000))));
    c.header("retry-after-ms", String(Math.max(0, Math.round(retryAfterMs))));
  }
  if (shouldRetry !== undefined) c.header("x-should-retry", String(shouldRetry));
  // 499 (client closed) is outside Hono's list of statuses but is what the native API uses too.
  return c.json({ error: openAiErrorObject(failure) }, status as ContentfulStatusCode);
}

function retryAfterOf(code: ErrorCode, retryAfterMs?: number, resetsAt?: number): number | undefined {
  if (retryAfterMs !== undefined && Number.isFinite(retryAfterMs)) return retryAfterMs;
  if (typeof resetsAt === "number" && Number.isFinite(resetsAt)) return Math.max(0, resetsAt - Date.now());
  if (code === "quota_exhausted" || code === "no_account_available") return QUOTA_FALLBACK_RETRY_MS;
  return undefined;
}
