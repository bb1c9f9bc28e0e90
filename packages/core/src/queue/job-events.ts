import type { JobError, JobProgressStage, StoredImageRef } from "./job.js";

/**
 * What happened to a job, in order. Events are appended by the store in the same step as the state change
 * they describe, so the log and the job never disagree.
 *
 * Partial images: the event carries a `StoredImageRef` (a key into the ImageStore), never bytes, so the
 * event log stays small. The worker decides how many partials to keep (overwriting one key per index keeps
 * only the latest).
 */
export type JobEventBody =
  | { type: "queued"; priority: number }
  | { type: "started"; attempt: number; workerId: string }
  | { type: "progress"; attempt: number; stage: JobProgressStage; message?: string }
  | { type: "partial_image"; attempt: number; index: number; image: StoredImageRef }
  | {
      type: "attempt_failed";
      attempt: number;
      error: JobError;
      willRetry: boolean;
      /** Epoch ms when the next attempt may start, when `willRetry`. */
      retryAt?: number;
    }
  | { type: "succeeded"; images: StoredImageRef[]; text?: string }
  | { type: "failed"; error: JobError }
  | { type: "canceled"; error?: JobError };

export type JobEventType = JobEventBody["type"];

/** An event to append: the store assigns `jobId` and `seq`. */
export type NewJobEvent = JobEventBody & {
  /** Epoch ms. */
  at: number;
};

export type JobEvent = NewJobEvent & {
  jobId: string;
  /** Per job, 1-based, strictly increasing: resume a subscription with `afterSeq`. */
  seq: number;
};

const TERMINAL_EVENT_TYPES: readonly JobEventType[] = ["succeeded", "failed", "canceled"];

/** True for the last event a job emits. */
export function isTerminalJobEvent(event: Pick<JobEvent, "type">): boolean {
  return TERMINAL_EVENT_TYPES.includes(event.type);
}
