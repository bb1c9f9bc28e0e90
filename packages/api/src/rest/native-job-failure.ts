import { CodexImgError, type Job } from "@codex-img/core";
import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { AppEnv } from "../app-env.js";
import { nativeErrorParts } from "../http/native-error.js";

/** The failed or canceled job's own error, with its code and status, and the id so the caller can look it up. */
export function nativeJobFailure(c: Context<AppEnv>, job: Job): Response {
  const source = job.error ?? { code: "internal" as const, message: `The job ended ${job.state}.` };
  const error = new CodexImgError(source.code, source.message, {
    ...(source.retryAfterMs === undefined ? {} : { retryAfterMs: source.retryAfterMs }),
  });
  const { body, status, headers } = nativeErrorParts(error);
  for (const [name, value] of Object.entries(headers)) c.header(name, value);
  return c.json({ ...body, id: job.id, status: job.state }, status as ContentfulStatusCode);
}
