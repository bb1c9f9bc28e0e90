import type { Job, JobAttemptInfo, JobError, JobProgressStage, JobState, StoredImageRef } from "./job.js";
import type { JobEvent, NewJobEvent } from "./job-events.js";

/** Identifies the holder of a running job's lease. Every worker write is refused unless it matches. */
export interface LeaseGuard {
  jobId: string;
  workerId: string;
  /** The attempt number the lease was granted for (`job.attempts.length` at claim). */
  attempt: number;
}

export interface InsertJobOptions {
  /**
   * Refuse with `queue_full` (details `{ queued, maxQueued }`) when this many jobs are already `queued`.
   * Checked in the same atomic step as the insert so two callers cannot both take the last slot.
   * An idempotent repeat of an existing job is returned even when the queue is full.
   */
  maxQueued?: number;
  /**
   * Runs inside the insert's atomic step, after the idempotency and `queue_full` checks and only when a
   * job is about to be created; throwing refuses the insert (nothing is written). It receives the store's
   * transaction (libSQL: a `Transaction`; the memory store: undefined), so that what it writes (a
   * caller's usage counts) commits together with the job or not at all, whatever crashes in between.
   */
  admit?: (transaction: unknown, job: Job) => Promise<void>;
}

export interface InsertJobResult {
  job: Job;
  /** False when the idempotency key matched an existing job with the same request hash. */
  created: boolean;
}

export interface ListJobsQuery {
  keyId?: string;
  state?: JobState | readonly JobState[];
  /** Page size. */
  limit: number;
  /** `nextCursor` of the previous page. Opaque. */
  cursor?: string;
}

export interface JobPage {
  /** Newest first (by `createdAt`, ties by insertion order). */
  jobs: Job[];
  /** Present when more jobs may follow. */
  nextCursor?: string;
}

export interface ClaimJobOptions {
  workerId: string;
  /** Epoch ms. */
  now: number;
  /** Lease length in ms. */
  leaseMs: number;
}

/** Worker writes to a running job. Each present field is applied; progress and partials append events. */
export interface JobPatch {
  /** Epoch ms. */
  now: number;
  progress?: { stage: JobProgressStage; message?: string };
  partialImage?: { index: number; image: StoredImageRef };
  /** Merged into the current attempt (`upstreamIds` merged key by key). */
  attempt?: JobAttemptInfo;
}

export type JobOutcome =
  | {
      state: "succeeded";
      now: number;
      images: StoredImageRef[];
      /** A vision job's answer. */
      text?: string;
      attempt?: JobAttemptInfo;
    }
  | { state: "failed"; now: number; error: JobError; attempt?: JobAttemptInfo }
  | { state: "canceled"; now: number; error?: JobError; attempt?: JobAttemptInfo };

export interface JobRetry {
  /** Epoch ms. */
  now: number;
  /** Epoch ms before which the job is not claimed again. */
  runAfter: number;
  /** Why this attempt failed. */
  error: JobError;
  attempt?: JobAttemptInfo;
}

export interface RecoverLeasesOptions {
  /** Delay in ms before a recovered job may run again, given the attempt that was interrupted. Default 0. */
  retryDelayMs?: (attempt: number) => number;
}

export interface RecoveredJob {
  job: Job;
  outcome: "requeued" | "failed" | "canceled";
}

/**
 * Durable storage of jobs and their events. Every method is one atomic step, so a SQL store implements each
 * as one transaction; `job-transitions.ts` holds the pure state changes every store applies, so the memory
 * and SQL stores share semantics and differ only in I/O. Records returned are copies: mutating them does not
 * change the store. `describeJobStoreConformance` (from `@codex-img/core/testing`) checks every rule below.
 *
 * Events: each state change appends its events in the same step (see `job-transitions.ts` for which).
 */
export interface JobStore {
  /**
   * Adds a job and appends its `queued` event. With `idempotencyKey`, scoped per `keyId`: same key and
   * same `requestHash` returns the existing job with `created: false`; same key with another hash throws
   * `invalid_request` (details `{ param: "idempotency_key" }`).
   */
  insert(job: Job, options?: InsertJobOptions): Promise<InsertJobResult>;
  get(id: string): Promise<Job | undefined>;
  list(query: ListJobsQuery): Promise<JobPage>;
  /** Number of `queued` jobs (the queue length that `maxQueued` limits). */
  countActive(): Promise<number>;
  /**
   * Takes the highest-priority, oldest (`createdAt`, then insertion order) `queued` job with
   * `runAfter <= now` and not past `deadlineAt`, sets it `running` with a lease and a new attempt, and
   * appends `started`. Exclusive: concurrent claims never return the same job.
   */
  claim(options: ClaimJobOptions): Promise<Job | undefined>;
  /**
   * Extends the lease to `now + leaseMs`. Undefined when the guard no longer holds the lease (the job was
   * recovered, finished, canceled or deleted). The returned job shows `cancelRequested`.
   */
  heartbeat(guard: LeaseGuard, now: number, leaseMs: number): Promise<Job | undefined>;
  /** Undefined (nothing written) when the guard no longer holds the lease. */
  update(guard: LeaseGuard, patch: JobPatch): Promise<Job | undefined>;
  /**
   * Ends the job: `succeeded` (images, event `succeeded`), `failed` (events `attempt_failed` with
   * `willRetry: false` then `failed`) or `canceled` (event `canceled`). Clears the lease. Undefined (nothing
   * written) when the guard no longer holds the lease.
   */
  finish(guard: LeaseGuard, outcome: JobOutcome): Promise<Job | undefined>;
  /**
   * Ends the current attempt with `error` and puts the job back to `queued` with `runAfter`, appending
   * `attempt_failed` with `willRetry: true`. The caller decides whether attempts remain.
   */
  requeue(guard: LeaseGuard, retry: JobRetry): Promise<Job | undefined>;
  /**
   * `queued` becomes `canceled` at once (event `canceled`); `running` gets `cancelRequested` (the worker
   * or lease recovery records `canceled`); a finished job is returned unchanged. Undefined when unknown.
   */
  requestCancel(id: string, now: number): Promise<Job | undefined>;
  /**
   * Running jobs whose lease expired (`expiresAt <= now`: the worker died or hung): with `cancelRequested`
   * they become `canceled`; with attempts left and before the deadline they go back to `queued` (runAfter =
   * now + retryDelayMs(attempt)); otherwise `failed` with `interrupted`. Returns what changed.
   */
  recoverExpiredLeases(now: number, options?: RecoverLeasesOptions): Promise<RecoveredJob[]>;
  /** Queued jobs whose total deadline passed become `failed` with `upstream_timeout`. Returns them. */
  failOverdue(now: number): Promise<Job[]>;
  /**
   * Appends an event that does not change state (transitions append their own). Assigns the next `seq`.
   * Throws `not_found` for an unknown job.
   */
  appendEvent(jobId: string, event: NewJobEvent): Promise<JobEvent>;
  /** Events with `seq > afterSeq` (default 0), in order, at most `limit` (default all). */
  readEvents(jobId: string, afterSeq?: number, limit?: number): Promise<JobEvent[]>;
  /** Removes the job, its events and its idempotency key. False when unknown. */
  delete(id: string): Promise<boolean>;
}
