import type { ErrorCode } from "@codex-img/core";

/** The server's codes, plus `unreachable` when no HTTP answer came back at all. */
export type ClientErrorCode = ErrorCode | "unreachable";

/** Every server code; `Record` so a new `ErrorCode` fails to compile until it is listed. */
const KNOWN_CODES: Record<ErrorCode, true> = {
  invalid_request: true,
  unsupported_tool: true,
  previous_response_not_found: true,
  unauthorized: true,
  forbidden: true,
  not_found: true,
  login_required: true,
  plan_not_supported: true,
  quota_exhausted: true,
  rate_limited: true,
  no_account_available: true,
  upstream_failed: true,
  upstream_timeout: true,
  upstream_refused: true,
  upstream_blocked: true,
  backend_unavailable: true,
  queue_full: true,
  server_busy: true,
  body_too_large: true,
  headers_too_large: true,
  body_timeout: true,
  canceled: true,
  interrupted: true,
  internal: true,
};

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === "string" && Object.hasOwn(KNOWN_CODES, value);
}

export interface ClientErrorOptions {
  /** HTTP status; 0 when there was no answer. */
  status?: number;
  retryAfterMs?: number;
  param?: string;
  reason?: string;
  /** The job the error belongs to, when a job was created and then failed. */
  jobId?: string;
  cause?: unknown;
}

/** Any failure of the client, with the server's machine-readable code and retry hint. */
export class CodexImgClientError extends Error {
  override readonly name = "CodexImgClientError";
  readonly code: ClientErrorCode;
  readonly status: number;
  readonly retryAfterMs: number | undefined;
  readonly param: string | undefined;
  readonly reason: string | undefined;
  readonly jobId: string | undefined;

  constructor(code: ClientErrorCode, message: string, options: ClientErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.status = options.status ?? 0;
    this.retryAfterMs = options.retryAfterMs;
    this.param = options.param;
    this.reason = options.reason;
    this.jobId = options.jobId;
  }
}

export function isCodexImgClientError(error: unknown, code?: ClientErrorCode): error is CodexImgClientError {
  return error instanceof CodexImgClientError && (code === undefined || error.code === code);
}

/** A reply that is not ours (a proxy's HTML page, say) still gets the nearest code from its status. */
function codeForStatus(status: number): ErrorCode {
  if (status === 400 || status === 413 || status === 415 || status === 422) return "invalid_request";
  if (status === 401) return "unauthorized";
  if (status === 403) return "forbidden";
  if (status === 404) return "not_found";
  if (status === 429) return "rate_limited";
  if (status === 502 || status === 503 || status === 504) return "backend_unavailable";
  return "internal";
}

function retryAfterHeader(headers: Headers): number | undefined {
  const value = headers.get("retry-after");
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

/** Our REST error body (`{error: {code, message, retry_after_ms, param, reason}}`) or whatever came instead. */
export async function errorFromResponse(response: Response): Promise<CodexImgClientError> {
  const text = await response.text().catch(() => "");
  let body: { error?: Record<string, unknown> } | undefined;
  try {
    body = JSON.parse(text) as { error?: Record<string, unknown> };
  } catch {
    body = undefined;
  }
  const error = body?.error && typeof body.error === "object" ? body.error : undefined;
  const code = isErrorCode(error?.code) ? error.code : codeForStatus(response.status);
  const message =
    typeof error?.message === "string"
      ? error.message
      : `HTTP ${response.status} ${response.statusText}${text ? `: ${text.slice(0, 200)}` : ""}`.trim();
  const retryAfterMs =
    typeof error?.retry_after_ms === "number" ? error.retry_after_ms : retryAfterHeader(response.headers);
  return new CodexImgClientError(code, message, {
    status: response.status,
    ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
    ...(typeof error?.param === "string" ? { param: error.param } : {}),
    ...(typeof error?.reason === "string" ? { reason: error.reason } : {}),
  });
}

/** A `TRPCClientError` (or anything thrown by the tRPC proxy) as our error, reading `error.data`. */
export function errorFromTrpc(error: unknown): CodexImgClientError {
  if (error instanceof CodexImgClientError) return error;
  const data = (error as { data?: Record<string, unknown> } | undefined)?.data;
  const message = error instanceof Error ? error.message : String(error);
  if (!data) {
    const cause = (error as { cause?: unknown } | undefined)?.cause;
    if (cause instanceof CodexImgClientError) return cause;
    // Something that is not tRPC answered (a proxy's error page): its status still says what happened.
    const status = (error as { meta?: { response?: { status?: unknown } } } | undefined)?.meta?.response
      ?.status;
    if (typeof status === "number") {
      return new CodexImgClientError(codeForStatus(status), message, { status, cause: error });
    }
    return new CodexImgClientError("unreachable", message, { cause: error });
  }
  const status = typeof data.httpStatus === "number" ? data.httpStatus : 0;
  return new CodexImgClientError(isErrorCode(data.code) ? data.code : codeForStatus(status), message, {
    status,
    ...(typeof data.retryAfterMs === "number" ? { retryAfterMs: data.retryAfterMs } : {}),
    ...(typeof data.param === "string" ? { param: data.param } : {}),
    ...(typeof data.reason === "string" ? { reason: data.reason } : {}),
    cause: error,
  });
}
