import { type CodexImgError, type ErrorCode, isCodexImgError } from "@codex-img/core";
import { type TRPC_ERROR_CODE_KEY, TRPCError } from "@trpc/server";

/** tRPC code (and so HTTP status) per error code; a new `ErrorCode` fails to compile until it is mapped. */
export const TRPC_CODE_BY_ERROR: Record<ErrorCode, TRPC_ERROR_CODE_KEY> = {
  invalid_request: "BAD_REQUEST",
  unsupported_tool: "BAD_REQUEST",
  previous_response_not_found: "BAD_REQUEST",
  unauthorized: "UNAUTHORIZED",
  forbidden: "FORBIDDEN",
  not_found: "NOT_FOUND",
  login_required: "SERVICE_UNAVAILABLE",
  plan_not_supported: "SERVICE_UNAVAILABLE",
  quota_exhausted: "TOO_MANY_REQUESTS",
  rate_limited: "TOO_MANY_REQUESTS",
  no_account_available: "TOO_MANY_REQUESTS",
  upstream_failed: "BAD_GATEWAY",
  upstream_timeout: "GATEWAY_TIMEOUT",
  upstream_refused: "UNPROCESSABLE_CONTENT",
  upstream_blocked: "BAD_GATEWAY",
  backend_unavailable: "SERVICE_UNAVAILABLE",
  queue_full: "SERVICE_UNAVAILABLE",
  server_busy: "SERVICE_UNAVAILABLE",
  body_too_large: "PAYLOAD_TOO_LARGE",
  headers_too_large: "BAD_REQUEST",
  body_timeout: "TIMEOUT",
  canceled: "CLIENT_CLOSED_REQUEST",
  interrupted: "INTERNAL_SERVER_ERROR",
  internal: "INTERNAL_SERVER_ERROR",
};

/** Errors tRPC raises itself (bad input, unknown procedure, wrong method) get the nearest code of ours. */
const ERROR_BY_TRPC_CODE: Partial<Record<TRPC_ERROR_CODE_KEY, ErrorCode>> = {
  PARSE_ERROR: "invalid_request",
  BAD_REQUEST: "invalid_request",
  NOT_FOUND: "not_found",
  METHOD_NOT_SUPPORTED: "invalid_request",
  PAYLOAD_TOO_LARGE: "body_too_large",
  UNSUPPORTED_MEDIA_TYPE: "invalid_request",
  UNAUTHORIZED: "unauthorized",
  FORBIDDEN: "forbidden",
  TOO_MANY_REQUESTS: "rate_limited",
  CLIENT_CLOSED_REQUEST: "canceled",
};

/** Our error as a `TRPCError` with the mapped code; the original stays as `cause` for the formatter. */
export function toTrpcError(error: CodexImgError): TRPCError {
  return new TRPCError({ code: TRPC_CODE_BY_ERROR[error.code], message: error.message, cause: error });
}

export interface ErrorData {
  code: ErrorCode;
  retryAfterMs?: number;
  param?: string;
  reason?: string;
}

/**
 * What callers see of any error: our code, and a message only when it was written for callers. Anything
 * unexpected is `internal` with a bare message, so SQL, paths or stacks never leave the server.
 */
export function errorData(error: TRPCError): { data: ErrorData; message: string } {
  const cause = error.cause;
  if (isCodexImgError(cause) && cause.code !== "internal") {
    const param = typeof cause.details.param === "string" ? cause.details.param : undefined;
    const reason = typeof cause.details.reason === "string" ? cause.details.reason : undefined;
    return {
      message: cause.message,
      data: {
        code: cause.code,
        ...(cause.retryAfterMs === undefined ? {} : { retryAfterMs: cause.retryAfterMs }),
        ...(param === undefined ? {} : { param }),
        ...(reason === undefined ? {} : { reason }),
      },
    };
  }
  const mapped = ERROR_BY_TRPC_CODE[error.code];
  if (!mapped) return { message: "Internal error", data: { code: "internal" } };
  const issues = (cause as { issues?: Array<{ path?: ReadonlyArray<PropertyKey | { key: PropertyKey }> }> })
    ?.issues;
  const path = issues?.[0]?.path?.map((part) => String(typeof part === "object" ? part.key : part)).join(".");
  return { message: error.message, data: { code: mapped, ...(path ? { param: path } : {}) } };
}
