import { CodexImgClientError } from "./errors.js";

/** A failed fetch as our error: `canceled` when the caller aborted, else `unreachable` naming the server. */
export function networkError(
  baseUrl: string,
  error: unknown,
  signal: AbortSignal | undefined,
): CodexImgClientError {
  if (signal?.aborted) return new CodexImgClientError("canceled", "The call was aborted.", { cause: error });
  const detail =
    error instanceof Error ? (error.cause instanceof Error ? error.cause.message : error.message) : "";
  return new CodexImgClientError("unreachable", `Cannot reach ${baseUrl}${detail ? `: ${detail}` : ""}.`, {
    cause: error,
  });
}
