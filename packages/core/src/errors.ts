import { redactSecrets } from "./redact.js";

/**
 * The closed set of error codes. Every mapping (HTTP status here; OpenAI error type, tRPC code and CLI
 * exit code in their packages) is a `Record<ErrorCode, …>`, so adding a code fails to compile until
 * every table maps it.
 */
export const ERROR_CODES = [
  /** The request itself is wrong (bad size, empty prompt, unreadable reference image). Never retried. */
  "invalid_request",
  /** A request for something codex-img does not serve (a Responses call without the image tool). Never retried. */
  "unsupported_tool",
  /**
   * A Responses call's `previous_response_id` names no response the caller may continue (unknown, another
   * key's, deleted, or made with `store: false`): OpenAI's own code for it. Never retried.
   */
  "previous_response_not_found",
  /** The caller's credentials are missing or wrong. */
  "unauthorized",
  /** The caller is known but not allowed to do this. */
  "forbidden",
  /** No such job, file or resource (or not the caller's). */
  "not_found",
  /** A Codex login is unusable until someone runs `codex login` again (missing, API-key only, revoked). */
  "login_required",
  /** The ChatGPT plan of an account does not include image generation (`usage_not_included`). */
  "plan_not_supported",
  /** An account's usage window is used up; `retryAfterMs` says when it resets. Try another account. */
  "quota_exhausted",
  /** Too many requests right now (upstream throttle or the caller's own rate limit). */
  "rate_limited",
  /** Every account is cooling down, dead or busy; `retryAfterMs` is the earliest reset. */
  "no_account_available",
  /** Upstream failed in a way worth retrying (5xx, overload, connection reset, stream cut). */
  "upstream_failed",
  /** Upstream went silent past the idle timeout or past the total timeout. */
  "upstream_timeout",
  /** Upstream refused this request (400 with its message verbatim, or the model declined to draw). */
  "upstream_refused",
  /** The Cloudflare front of the backend answered an HTML block page (usually missing client headers). */
  "upstream_blocked",
  /** The backend cannot run here (for example the `codex` executable is not installed). */
  "backend_unavailable",
  /** The queue is full; `retryAfterMs` estimates when there will be room. */
  "queue_full",
  /** The server holds as many request bytes as its budget allows; retry after `retryAfterMs`. */
  "server_busy",
  /** The request body is larger than the server accepts. */
  "body_too_large",
  /** The request headers are larger than the server accepts. */
  "headers_too_large",
  /** The request body arrived slower than the server's floor rate and was cut. */
  "body_timeout",
  /** The caller canceled (AbortSignal, cancel endpoint). */
  "canceled",
  /** The worker running the job died and no attempts remain. */
  "interrupted",
  /** A bug or an unexpected failure of codex-img itself. */
  "internal",
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

/** HTTP status per code, used by every HTTP-facing adapter. */
export const ERROR_HTTP_STATUS: Record<ErrorCode, number> = {
  invalid_request: 400,
  unsupported_tool: 400,
  previous_response_not_found: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  login_required: 503,
  plan_not_supported: 503,
  quota_exhausted: 429,
  rate_limited: 429,
  no_account_available: 429,
  upstream_failed: 502,
  upstream_timeout: 504,
  upstream_refused: 422,
  upstream_blocked: 502,
  backend_unavailable: 503,
  queue_full: 503,
  server_busy: 503,
  body_too_large: 413,
  headers_too_large: 431,
  body_timeout: 408,
  canceled: 499,
  interrupted: 500,
  internal: 500,
};

/** Whether a fresh attempt (possibly on another account) may succeed where this one failed. */
const RETRYABLE_BY_DEFAULT: Record<ErrorCode, boolean> = {
  invalid_request: false,
  unsupported_tool: false,
  previous_response_not_found: false,
  unauthorized: false,
  forbidden: false,
  not_found: false,
  login_required: true,
  plan_not_supported: true,
  quota_exhausted: true,
  rate_limited: true,
  no_account_available: true,
  upstream_failed: true,
  upstream_timeout: true,
  upstream_refused: false,
  upstream_blocked: false,
  backend_unavailable: false,
  queue_full: true,
  server_busy: true,
  body_too_large: false,
  headers_too_large: false,
  body_timeout: true,
  canceled: false,
  interrupted: true,
  internal: false,
};

/** Structured facts about an error; never secrets. */
export interface ErrorDetails {
  /** HTTP status upstream answered, when there was one. */
  upstreamStatus?: number;
  /** Upstream's own error code (`usage_limit_reached`, `rate_limit_exceeded`, …). */
  upstreamCode?: string;
  /** Epoch milliseconds when a usage window resets. */
  resetsAt?: number;
  planType?: string;
  /** Which account the failure belongs to (label). */
  account?: string;
  /** Which request field is wrong, for `invalid_request`. */
  param?: string;
  /** True when the error belongs to the account rather than the request (the runner retries elsewhere). */
  accountFault?: boolean;
  [key: string]: unknown;
}

export interface CodexImgErrorOptions {
  retryable?: boolean;
  retryAfterMs?: number;
  cause?: unknown;
  details?: ErrorDetails;
}

export class CodexImgError extends Error {
  override readonly name = "CodexImgError";
  readonly code: ErrorCode;
  readonly retryable: boolean;
  readonly retryAfterMs: number | undefined;
  readonly details: ErrorDetails;

  constructor(code: ErrorCode, message: string, options: CodexImgErrorOptions = {}) {
    // Messages can quote upstream text; scrub anything that looks like a credential.
    super(redactSecrets(message), options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.retryable = options.retryable ?? RETRYABLE_BY_DEFAULT[code];
    this.retryAfterMs = options.retryAfterMs;
    this.details = options.details ?? {};
  }

  get httpStatus(): number {
    return ERROR_HTTP_STATUS[this.code];
  }

  toJSON(): {
    code: ErrorCode;
    message: string;
    retryable: boolean;
    retryAfterMs?: number;
    details: ErrorDetails;
  } {
    return {
      code: this.code,
      message: this.message,
      retryable: this.retryable,
      ...(this.retryAfterMs === undefined ? {} : { retryAfterMs: this.retryAfterMs }),
      details: this.details,
    };
  }
}

export function isCodexImgError(value: unknown, code?: ErrorCode): value is CodexImgError {
  return value instanceof CodexImgError && (code === undefined || value.code === code);
}

/** Wraps anything thrown into a `CodexImgError`, keeping the original as `cause`. */
export function toCodexImgError(value: unknown, fallback: ErrorCode = "internal"): CodexImgError {
  if (value instanceof CodexImgError) return value;
  if (value instanceof Error && value.name === "AbortError") {
    return new CodexImgError("canceled", "The request was canceled.", { cause: value });
  }
  const message = value instanceof Error ? value.message : String(value);
  return new CodexImgError(fallback, message, { cause: value });
}
