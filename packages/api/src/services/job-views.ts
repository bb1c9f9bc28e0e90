import {
  CodexImgError,
  type ErrorCode,
  type ImageBackground,
  type ImageFormat,
  type ImageQuality,
  type Job,
  type JobEvent,
  type JobKind,
  type JobState,
} from "@codex-img/core";
import type { Caller } from "../app-env.js";
import { hasScope } from "../http/require-key.js";
import type { ApiServices } from "../services.js";
import { imageUrl, jobExpiresAt } from "./image-urls.js";

const iso = (ms: number | undefined): string | null => (ms === undefined ? null : new Date(ms).toISOString());

/**
 * The job if the caller may see it: its own key's jobs always (the predecessor's scripts poll with the key
 * that created the job), any job with `jobs:read`. Everything else is `not_found`, so ids of other keys'
 * jobs cannot be probed. A finished job may be the store's frozen shared object: read it, never change it.
 */
export async function visibleJob(services: ApiServices, caller: Caller, id: string): Promise<Readonly<Job>> {
  const job = /^(img|vis)_[a-z2-7]{26}$/.test(id) ? await services.queue.getShared(id) : undefined;
  if (!job || (job.keyId !== caller.key.id && !hasScope(caller.key, "jobs:read"))) {
    throw new CodexImgError("not_found", "No such job.", { details: { param: "id" } });
  }
  return job;
}

/** A key may cancel only its own jobs (or any with `admin`). */
export async function cancelableJob(
  services: ApiServices,
  caller: Caller,
  id: string,
): Promise<Readonly<Job>> {
  const job = await visibleJob(services, caller, id);
  if (job.keyId !== caller.key.id && !caller.key.scopes.includes("admin")) {
    throw new CodexImgError("not_found", "No such job.", { details: { param: "id" } });
  }
  return job;
}

/** The predecessor's `GET /v1/images/jobs/{id}` shape; `error_code` and `error_detail` are additions. */
export async function predecessorJobView(services: ApiServices, job: Job): Promise<Record<string, unknown>> {
  return {
    id: job.id,
    status: job.state,
    images: await Promise.all(job.images.map((image) => imageUrl(services, image, job))),
    error: job.error?.message ?? null,
    ...(job.kind === "vision" ? { text: job.text ?? null } : {}),
    created_at: iso(job.createdAt),
    expires_at: iso(jobExpiresAt(services, job)),
    error_code: job.error?.code ?? null,
  };
}

/**
 * A job as REST (`GET /v1/jobs/{id}`) and tRPC give it to its caller; `@codex-img/client` re-exports it,
 * so the wire shape is written once.
 */
export interface JobView {
  id: string;
  object: "job";
  /** `image` or `vision`. */
  kind: JobKind;
  status: JobState;
  /** A vision job's answer, once it succeeded. */
  text?: string;
  request: {
    prompt: string;
    size: string;
    quality: ImageQuality;
    background: ImageBackground;
    output_format: ImageFormat;
    n: number;
    model: string;
    reference_images: number;
  };
  priority: number;
  images: Array<
    ImageUrlView & {
      width: number;
      height: number;
      format: ImageFormat;
      bytes: number;
      revised_prompt?: string;
      partial?: true;
    }
  >;
  error: JobErrorView | null;
  attempts: Array<{
    number: number;
    backend: string | null;
    route: string | null;
    started_at: string | null;
    finished_at: string | null;
    duration_ms: number | null;
    error: JobErrorView | null;
  }>;
  max_attempts: number;
  events: number;
  progress: { stage: string; at: string | null } | null;
  cancel_requested: boolean;
  idempotency_key: string | null;
  created_at: string | null;
  started_at: string | null;
  finished_at: string | null;
  expires_at: string | null;
}

/** Everything a caller may know about its job: no account labels, worker ids or leases. */
export async function fullJobView(services: ApiServices, job: Job, eventCount: number): Promise<JobView> {
  return {
    id: job.id,
    object: "job",
    kind: job.kind,
    status: job.state,
    ...(job.text === undefined ? {} : { text: job.text }),
    request: {
      prompt: job.request.prompt,
      size: job.request.size,
      quality: job.request.quality,
      background: job.request.background,
      output_format: job.request.outputFormat,
      n: job.request.n,
      model: job.request.model,
      reference_images: job.request.referenceImages.length,
    },
    priority: job.priority,
    images: await Promise.all(
      job.images.map(async (image) => ({
        ...(await imageUrl(services, image, job)),
        width: image.width,
        height: image.height,
        format: image.format,
        bytes: image.bytes,
        ...(image.revisedPrompt === undefined ? {} : { revised_prompt: image.revisedPrompt }),
        ...(image.partial ? { partial: true as const } : {}),
      })),
    ),
    error: job.error ? errorView(job.error) : null,
    attempts: job.attempts.map((attempt) => ({
      number: attempt.number,
      backend: attempt.backend ?? null,
      route: attempt.route ?? null,
      started_at: iso(attempt.startedAt),
      finished_at: iso(attempt.finishedAt),
      duration_ms: attempt.durationMs ?? null,
      error: attempt.error ? errorView(attempt.error) : null,
    })),
    max_attempts: job.maxAttempts,
    events: eventCount,
    progress: job.progress ? { stage: job.progress.stage, at: iso(job.progress.at) } : null,
    cancel_requested: job.cancelRequested ?? false,
    idempotency_key: job.idempotencyKey ?? null,
    created_at: iso(job.createdAt),
    started_at: iso(job.startedAt),
    finished_at: iso(job.finishedAt),
    expires_at: iso(jobExpiresAt(services, job)),
  };
}

/** An image URL with when it stops working. */
export interface ImageUrlView {
  url: string;
  expires_at: string;
}

export interface JobErrorView {
  code: ErrorCode;
  message: string;
  retry_after_ms?: number;
}

interface EventBase {
  job_id: string;
  seq: number;
  at: string | null;
}

/** One job event as the SSE `data` of REST and the items of the tRPC `jobs.events` subscription. */
export type JobEventView = EventBase &
  (
    | { type: "queued"; priority: number }
    | { type: "started"; attempt: number }
    | { type: "progress"; attempt: number; stage: string; message: string | null }
    | { type: "partial_image"; attempt: number; index: number; image: ImageUrlView }
    | {
        type: "attempt_failed";
        attempt: number;
        error: JobErrorView;
        will_retry: boolean;
        retry_at: string | null;
      }
    | { type: "succeeded"; images: ImageUrlView[]; text?: string }
    | { type: "failed"; error: JobErrorView }
    | { type: "canceled"; error: JobErrorView | null }
  );

/** One job event as SSE `data`: image refs become URLs, times ISO strings. */
export async function eventView(services: ApiServices, job: Job, event: JobEvent): Promise<JobEventView> {
  const base = { job_id: event.jobId, seq: event.seq, at: iso(event.at) };
  switch (event.type) {
    case "queued":
      return { ...base, type: event.type, priority: event.priority };
    case "started":
      return { ...base, type: event.type, attempt: event.attempt };
    case "progress":
      return {
        ...base,
        type: event.type,
        attempt: event.attempt,
        stage: event.stage,
        message: event.message ?? null,
      };
    case "partial_image":
      return {
        ...base,
        type: event.type,
        attempt: event.attempt,
        index: event.index,
        image: await imageUrl(services, event.image, job),
      };
    case "attempt_failed":
      return {
        ...base,
        type: event.type,
        attempt: event.attempt,
        error: errorView(event.error),
        will_retry: event.willRetry,
        retry_at: iso(event.retryAt),
      };
    case "succeeded":
      return {
        ...base,
        type: event.type,
        images: await Promise.all(event.images.map((image) => imageUrl(services, image, job))),
        ...(event.text === undefined ? {} : { text: event.text }),
      };
    case "failed":
      return { ...base, type: event.type, error: errorView(event.error) };
    case "canceled":
      return { ...base, type: event.type, error: event.error ? errorView(event.error) : null };
  }
}

function errorView(error: NonNullable<Job["error"]>): JobErrorView {
  return {
    code: error.code,
    message: error.message,
    ...(error.retryAfterMs === undefined ? {} : { retry_after_ms: error.retryAfterMs }),
  };
}
