import { CodexImgError, toCodexImgError } from "../errors.js";
import type { JobError } from "./job.js";

/** Turns anything thrown into the stored form of an error (details reduced to plain JSON). */
export function toJobError(value: unknown): JobError {
  const error = toCodexImgError(value);
  const details = plainJson(error.details);
  return {
    code: error.code,
    message: error.message,
    retryable: error.retryable,
    ...(error.retryAfterMs === undefined ? {} : { retryAfterMs: error.retryAfterMs }),
    ...(details && Object.keys(details).length > 0 ? { details } : {}),
  };
}

/** Rebuilds a `CodexImgError` from a stored one, for adapters that answer with a job's error. */
export function fromJobError(error: JobError): CodexImgError {
  return new CodexImgError(error.code, error.message, {
    ...(error.retryable === undefined ? {} : { retryable: error.retryable }),
    ...(error.retryAfterMs === undefined ? {} : { retryAfterMs: error.retryAfterMs }),
    ...(error.details === undefined ? {} : { details: error.details }),
  });
}

// Details may carry anything a thrower put there; stores need plain, cloneable JSON.
function plainJson(details: Record<string, unknown>): JobError["details"] | undefined {
  try {
    return JSON.parse(JSON.stringify(details)) as JobError["details"];
  } catch {
    return undefined;
  }
}
