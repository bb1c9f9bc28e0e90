import type { Job, JobAttemptInfo, JobError, JobState, StoredImageRef } from "./job.js";
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

export interface CancelJobOptions {
  /**
   * Runs inside the cancel's atomic step, only when the cancel changes the job (a queued one canceled, a
   * running one flagged), with the store's transaction as `InsertJobOptions.admit` gets it: what it writes
   * (the usage counts of a caller who left, given back) commits with the cancel or not at all.
   */
  release?: (transaction: unknown, job: Job) => Promise<void>;
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

/** A lease `renewLeases` extended, and whether a cancel was requested meanwhile (perhaps elsewhere). */
export interface RenewedLease {
  jobId: string;
  cancelRequested: boolean;
}

/** A claimed job and the `seq` of its `started` event, after which the worker's own events follow. */
export interface JobClaim {
  job: Job;
  lastSeq: number;
}

/**
 * What the worker learned during the attempt, written with the transition that ends it (a worker's
 * progress lives in memory while it runs, so an attempt costs no writes between its claim and its end).
 */
export interface AttemptReport {
  /** Merged into the current attempt (`upstreamIds` and `diagnostics` merged key by key). */
  attempt?: JobAttemptInfo;
  /** `progress` and `partial_image` events of the attempt, appended before the transition's own. */
  events?: NewJobEvent[];
}

export type JobOutcome = AttemptReport &
  (
    | {
        state: "succeeded";
        now: number;
        images: StoredImageRef[];
        /** A vision job's answer. */
        text?: string;
      }
    | { state: "failed"; now: number; error: JobError }
    | { state: "canceled"; now: number; error?: JobError }
  );

export interface JobRetry extends AttemptReport {
  /** Epoch ms. */
  now: number;
  /** Epoch ms before which the job is not claimed again. */
  runAfter: number;
  /** Why this attempt failed. */
  error: JobError;
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
 * as one transaction; a job's lifecycle is three of them (insert, claim, finish), and a worker process
 * renews the leases of all its running jobs in one more per `heartbeatIntervalMs`; `job-transitions.ts` holds the pure state changes every store applies, so the memory
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
  /**
   * A finished job the store holds in memory, as one shared, deeply frozen object (no copy), or undefined
   * when it holds none for `id` (a store without such a cache leaves this out). The same object comes
   * back for as long as the job stays cached unchanged; after a write or a re-read it is a new one. So
   * what a caller derives from it (a serialised reply) may be kept by its identity.
   */
  cachedFinished?(id: string): Readonly<Job> | undefined;
  list(query: ListJobsQuery): Promise<JobPage>;
  /** Number of `queued` jobs (the queue length that `maxQueued` limits). */
  countActive(): Promise<number>;
  /**
   * Takes the highest-priority, oldest (`createdAt`, then insertion order) `queued` job with
   * `runAfter <= now` and not past `deadlineAt`, sets it `running` with a lease and a new attempt, and
   * appends `started`. Exclusive: concurrent claims never return the same job.
   */
  claim(options: ClaimJobOptions): Promise<JobClaim | undefined>;
  /**
   * Extends the leases still held by `guards` to `now + leaseMs`, all in one step (a worker process
   * renews every job it runs at once). Returns the renewed ones with their `cancelRequested`; a guard
   * missing from the answer lost its lease (the job was recovered, finished, canceled or deleted).
   */
  renewLeases(guards: readonly LeaseGuard[], now: number, leaseMs: number): Promise<RenewedLease[]>;
  /**
   * Ends the job: `succeeded` (images, event `succeeded`), `failed` (events `attempt_failed` with
   * `willRetry: false` then `failed`) or `canceled` (event `canceled`), after the report's events. A
   * `failed` outcome of a job whose cancel was requested (perhaps through another process) ends it
   * `canceled` with that error. Clears the lease. Undefined (nothing written) when the guard no longer
   * holds the lease.
   */
  finish(guard: LeaseGuard, outcome: JobOutcome): Promise<Job | undefined>;
  /**
   * Ends the current attempt with `error` and puts the job back to `queued` with `runAfter`, appending
   * `attempt_failed` with `willRetry: true`, after the report's events. The caller decides whether
   * attempts remain; a job whose cancel was requested ends `canceled` instead.
   */
  requeue(guard: LeaseGuard, retry: JobRetry): Promise<Job | undefined>;
  /**
   * `queued` becomes `canceled` at once (event `canceled`); `running` gets `cancelRequested` (the worker
   * or lease recovery records `canceled`); a finished job is returned unchanged. Undefined when unknown.
   */
  requestCancel(id: string, now: number, options?: CancelJobOptions): Promise<Job | undefined>;
  /**
   * Running jobs whose lease expired (`expiresAt <= now`: the worker died or hung): with `cancelRequested`
   * they become `canceled`; with attempts left and before the deadline they go back to `queued` (runAfter =
   * now + retryDelayMs(attempt)); otherwise `failed` with `interrupted`. Returns what changed.
   */
  recoverExpiredLeases(now: number, options?: RecoverLeasesOptions): Promise<RecoveredJob[]>;
  /** Queued jobs whose total deadline passed become `failed` with `upstream_timeout`. Returns them. */
  failOverdue(now: number): Promise<Job[]>;
  /** Events with `seq > afterSeq` (default 0), in order, at most `limit` (default all). */
  readEvents(jobId: string, afterSeq?: number, limit?: number): Promise<JobEvent[]>;
  /** Removes the job, its events and its idempotency key. False when unknown. */
  delete(id: string): Promise<boolean>;
}
