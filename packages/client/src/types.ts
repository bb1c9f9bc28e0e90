import type { ErrorCode, ImageBackground, ImageFormat, ImageQuality, JobState } from "@codex-img/core";

export type { ErrorCode, ImageFormat, ImageQuality, JobState };

/** An image of a job, as a URL (signed and expiring when the server signs URLs). */
export interface JobImage {
  url: string;
  expires_at: string | null;
  width?: number;
  height?: number;
  format?: ImageFormat;
  bytes?: number;
  revised_prompt?: string;
  partial?: boolean;
}

export interface JobErrorView {
  code: ErrorCode;
  message: string;
  retry_after_ms?: number;
}

/** A job as `GET /v1/jobs/{id}` (and tRPC `jobs.get`) answer it. */
export interface JobView {
  id: string;
  object: "job";
  status: JobState;
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
  images: JobImage[];
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

/** One line of `GET /v1/jobs`. */
export interface JobSummary {
  id: string;
  status: JobState;
  prompt: string;
  image_count: number;
  attempt_count: number;
  error_code: string | null;
  created_at: string | null;
  started_at: string | null;
  finished_at: string | null;
  expires_at: string | null;
}

export interface JobList {
  object: "list";
  data: JobSummary[];
  has_more: boolean;
  next_cursor: string | null;
}

interface EventBase {
  job_id: string;
  /** Per job, 1-based: resume with `afterSeq`. */
  seq: number;
  at: string | null;
}

/** A job event as the events stream sends it (images as URLs). */
export type JobEventView = EventBase &
  (
    | { type: "queued"; priority: number }
    | { type: "started"; attempt: number }
    | { type: "progress"; attempt: number; stage: string; message: string | null }
    | {
        type: "partial_image";
        attempt: number;
        index: number;
        image: { url: string; expires_at: string | null };
      }
    | {
        type: "attempt_failed";
        attempt: number;
        error: JobErrorView;
        will_retry: boolean;
        retry_at: string | null;
      }
    | { type: "succeeded"; images: Array<{ url: string; expires_at: string | null }> }
    | { type: "failed"; error: JobErrorView }
    | { type: "canceled"; error: JobErrorView | null }
  );

export type JobEventType = JobEventView["type"];

export interface GenerateRequest {
  prompt: string;
  /** `auto` or `WxH`. */
  size?: string;
  quality?: ImageQuality;
  background?: ImageBackground;
  outputFormat?: ImageFormat;
  n?: number;
  model?: string;
  /** Same key and body → the same job, not counted again. */
  idempotencyKey?: string;
}

/** An edit: a prompt and 1-16 reference images (PNG, JPEG or WebP). Edits produce one PNG. */
export interface EditRequest {
  prompt: string;
  references: Array<Uint8Array | Blob>;
  size?: string;
  quality?: ImageQuality;
  idempotencyKey?: string;
}

export const TERMINAL_STATES: readonly JobState[] = ["succeeded", "failed", "canceled", "expired"];

export function isTerminalState(state: JobState): boolean {
  return TERMINAL_STATES.includes(state);
}
