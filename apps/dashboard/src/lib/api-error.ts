import { isTRPCClientError } from "@trpc/client";

/** What the dashboard shows of a failed call: the server's machine code and message. */
export interface ApiErrorInfo {
  code: string;
  message: string;
  /** From `Retry-After`-style refusals (throttled logins, key limits). */
  retryAfterMs?: number;
  param?: string;
  reason?: string;
}

/** Our error data rides in `error.data` (see packages/api error-codes.ts); anything else is a transport fault. */
export function describeError(error: unknown): ApiErrorInfo {
  if (isTRPCClientError(error)) {
    const data = (error.data ?? {}) as Record<string, unknown>;
    const code = typeof data.code === "string" ? data.code : "network_error";
    return {
      code,
      message: error.message || "Request failed.",
      ...(typeof data.retryAfterMs === "number" ? { retryAfterMs: data.retryAfterMs } : {}),
      ...(typeof data.param === "string" ? { param: data.param } : {}),
      ...(typeof data.reason === "string" ? { reason: data.reason } : {}),
    };
  }
  if (error instanceof Error) return { code: "client_error", message: error.message };
  return { code: "client_error", message: String(error) };
}

/** The session is gone (expired, revoked, signed out elsewhere): the page must sign in again. */
export function isUnauthorized(error: unknown): boolean {
  return isTRPCClientError(error) && describeError(error).code === "unauthorized";
}
