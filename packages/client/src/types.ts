import type { JobEventView } from "@codex-img/api";
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

/** The server's own types of the wire shapes (`GET /v1/jobs/{id}`, tRPC `jobs.get`, the events stream). */
export type { JobErrorView, JobEventView, JobView } from "@codex-img/api";

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
