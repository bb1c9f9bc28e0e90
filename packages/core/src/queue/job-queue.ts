import type { Clock } from "../clock.js";
import type { Logger } from "../logger.js";
import type { BackoffOptions } from "./backoff.js";
import type { ClaimedJob } from "./claimed-job.js";
import type { Job, JobEcho, JobKind, StoredImageRequest } from "./job.js";
import type { JobEvent } from "./job-events.js";
import type { CancelJobOptions, JobPage, JobStore, ListJobsQuery, RecoveredJob } from "./job-store.js";

export interface JobQueueOptions {
  store: JobStore;
  /** Default `systemClock`. */
  clock?: Clock;
  logger?: Logger;
  /** Queued (not yet running) jobs before `enqueue` refuses with `queue_full`. Default 50. */
  maxQueueLength?: number;
  /** Attempts per job, the first included. Default 3. */
  defaultMaxAttempts?: number;
  /** Deadline of one attempt, in ms. Default 360_000 (6 minutes). */
  attemptTimeoutMs?: number;
  /** Deadline of the whole job from enqueue, in ms. Default 900_000 (15 minutes). */
  totalTimeoutMs?: number;
  /** Lease length in ms; a worker that does not heartbeat within it is presumed dead. Default 30_000. */
  leaseMs?: number;
  /**
   * Interval of the automatic lease renewal of this queue's claimed jobs, in ms: one store write renews
   * them all. Default `leaseMs / 3`; 0 turns it off.
   */
  heartbeatIntervalMs?: number;
  /** Starting guess of one job's duration for `queue_full` estimates, in ms; then learned. Default 60_000. */
  averageJobMs?: number;
  /** Workers draining the queue across all instances, for `queue_full` estimates. Default 1. */
  workerCount?: number;
  /** Retry delays. Defaults of `backoffDelayMs`. */
  backoff?: BackoffOptions;
  /** How often followers re-read the store to see changes made by other processes, in ms. Default 1000; 0 = never. */
  pollIntervalMs?: number;
}

export interface EnqueueOptions {
  /** Default `image`. */
  kind?: JobKind;
  /** The caller's API key id; also scopes `idempotencyKey`. */
  keyId?: string;
  /** Higher runs first. Default 0. */
  priority?: number;
  /** The same key (per `keyId`) and body return the same job; a different body is `invalid_request`. */
  idempotencyKey?: string;
  /** Aborting it cancels the job (for example when a synchronous caller disconnects). */
  signal?: AbortSignal;
  /**
   * When `signal` cancels the job, run in the cancel's atomic step (`CancelJobOptions.release`): gives
   * back what `admit` counted, since the caller who left never gets the result.
   */
  release?: (transaction: unknown, job: Job) => Promise<void>;
  /** Default `defaultMaxAttempts`. */
  maxAttempts?: number;
  /** Default the queue's `attemptTimeoutMs`. */
  attemptTimeoutMs?: number;
  /** Default the queue's `totalTimeoutMs`. */
  totalTimeoutMs?: number;
  /** Passed to the store's insert (see `InsertJobOptions.admit`): a check and write atomic with the insert. */
  admit?: (transaction: unknown, job: Job) => Promise<void>;
  /** Kept with the job (`Job.echo`); part of what was asked, so it counts in the idempotency hash. */
  echo?: JobEcho;
}

export interface EnqueueResult {
  job: Job;
  /** False when an idempotent repeat returned an existing job. */
  created: boolean;
}

export interface SubscribeOptions {
  /** Replay events with `seq` greater than this. Default 0 (everything). */
  afterSeq?: number;
  /** Ends the iteration quietly. */
  signal?: AbortSignal;
}

export interface WaitForJobOptions {
  /** How long to wait, in ms. */
  timeoutMs: number;
  /** Ends the wait early; the job is returned as it is then. */
  signal?: AbortSignal;
}

export interface RecoveryReport {
  /** Jobs whose lease had expired: requeued, failed (`interrupted`) or canceled. */
  recovered: RecoveredJob[];
  /** Queued jobs that passed their total deadline and failed. */
  overdue: Job[];
}

export interface JobQueue {
  /** Adds a job. Throws `queue_full` (with `retryAfterMs`), `invalid_request` or `canceled`. */
  enqueue(request: StoredImageRequest, options?: EnqueueOptions): Promise<EnqueueResult>;
  get(id: string): Promise<Job | undefined>;
  /**
   * The job as `get` gives it, except that a finished job the store holds in memory is its shared, frozen
   * object (`JobStore.cachedFinished`) rather than a copy: for readers on a hot path (polls of a finished
   * job), which must not change it and may keep what they derive from it by its identity.
   */
  getShared(id: string): Promise<Readonly<Job> | undefined>;
  list(query: ListJobsQuery): Promise<JobPage>;
  /**
   * Cancels a job: a queued one at once; a running one by aborting its worker's signal here (or, for a
   * worker in another process, at its next heartbeat). A finished job is returned unchanged. `not_found`.
   */
  cancel(id: string, options?: CancelJobOptions): Promise<Job>;
  /**
   * Events after `afterSeq`, then live ones, ending after the terminal event. Throws `not_found` on the
   * first read when the job is unknown.
   */
  subscribe(jobId: string, options?: SubscribeOptions): AsyncIterable<JobEvent>;
  /** The job once it is finished or when `timeoutMs` passes, whichever is first. Never throws on timeout. */
  waitForJob(jobId: string, options: WaitForJobOptions): Promise<Job>;
  /**
   * Resolves at the next change this process makes to any job, after `timeoutMs` (changes made by other
   * processes are seen no later than that), or on abort: a live view re-reads then, instead of polling.
   */
  nextChange(options: { timeoutMs: number; signal?: AbortSignal }): Promise<void>;
  /** Claims the next job for `workerId`, or undefined when none is ready. */
  claim(workerId: string): Promise<ClaimedJob | undefined>;
  /** Recovers jobs of dead workers and fails overdue queued jobs. Run it periodically. */
  recover(): Promise<RecoveryReport>;
}
