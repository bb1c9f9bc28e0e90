import type { Clock } from "../clock.js";
import { CodexImgError, toCodexImgError } from "../errors.js";
import type { Logger } from "../logger.js";
import { type BackoffOptions, backoffDelayMs } from "./backoff.js";
import type { Job, JobAttemptInfo, JobProgress, JobProgressStage, StoredImageRef } from "./job.js";
import { toJobError } from "./job-error.js";
import type { JobEvent, NewJobEvent } from "./job-events.js";
import type { AttemptReport, JobStore, LeaseGuard, RenewedLease } from "./job-store.js";
import { mergeAttemptInfo } from "./job-transitions.js";

/** Progress a worker reports; a partial image is stored in the ImageStore first and passed by reference. */
export type JobProgressUpdate =
  | { type: "progress"; stage: JobProgressStage; message?: string }
  | { type: "partial_image"; index: number; image: StoredImageRef };

/**
 * A job this worker holds the lease for. The worker runs the attempt with `signal` and ends it with exactly
 * one of `succeed` or `fail`. Methods that write return `undefined`/`false` once the lease is lost (the job
 * was recovered by another process or deleted): the worker must then drop its result.
 *
 * `signal` aborts with a `CodexImgError` as its reason: `canceled` (cancel requested), `upstream_timeout`
 * (attempt or total deadline passed) or `interrupted` (lease lost).
 *
 * What the attempt learns and reports (`recordAttempt`, `progress`) stays in memory, where this process's
 * subscribers see it at once (`LiveAttempt`), and reaches the store with the write that ends the attempt:
 * an attempt costs no write between its claim and its end but lease renewals. A crash loses the
 * in-progress events of the attempt, which is then run again.
 */
export interface ClaimedJob {
  /** The job as claimed (state `running`, the new attempt last). */
  readonly job: Job;
  /** 1-based number of this attempt. */
  readonly attempt: number;
  readonly signal: AbortSignal;
  /**
   * Renews the lease now (the queue also renews all its jobs' leases together every `heartbeatIntervalMs`
   * unless that is 0). False when the lease is lost.
   */
  heartbeat(): Promise<boolean>;
  /** Records what the attempt learned (account picked, route, upstream ids). False once the handle is done. */
  recordAttempt(info: JobAttemptInfo): Promise<boolean>;
  /** Adds a `progress` or `partial_image` event. False once the handle is done. */
  progress(update: JobProgressUpdate): Promise<boolean>;
  /** Ends the job `succeeded` with its stored images (and, for a vision job, its answer). */
  succeed(images: StoredImageRef[], info?: JobAttemptInfo, text?: string): Promise<Job | undefined>;
  /**
   * Ends the attempt with `error`. A cancel in flight ends the job `canceled`; a retryable error with
   * attempts left and time before the total deadline requeues it with backoff; anything else ends it
   * `failed`. When `signal` was aborted, its reason is recorded as the error (it is the real cause).
   */
  fail(error: unknown, info?: JobAttemptInfo): Promise<Job | undefined>;
}

/**
 * The events and progress of an attempt running in this process, not yet in the store. Their `seq`s
 * continue the store's (`JobClaim.lastSeq`), and the store gives them the same ones when the attempt ends.
 */
export interface LiveAttempt {
  readonly attempt: number;
  readonly events: JobEvent[];
  /** What `recordAttempt` learned so far. */
  readonly info: JobAttemptInfo;
  progress?: JobProgress;
}

/** What a claimed job needs from its queue. Internal to the queue. */
export interface ClaimContext {
  store: JobStore;
  clock: Clock;
  logger: Logger;
  leaseMs: number;
  backoff: BackoffOptions | undefined;
  /** Called after every write that changed the job. */
  changed(job: Job): void;
  /** Called after a live event was added. */
  notify(jobId: string): void;
  /** Called once when the handle is done (finished, requeued, lease lost). */
  released(jobId: string, durationMs?: number): void;
}

export interface ClaimedJobControl {
  handle: ClaimedJob;
  live: LiveAttempt;
  guard: LeaseGuard;
  /** Applies the answer of a lease renewal that included this job (`undefined`: not renewed, lost). */
  renewed(lease: RenewedLease | undefined): boolean;
  /** Aborts the worker's signal (cancel, lease lost) and stops its timers. */
  abort(reason: CodexImgError): void;
}

export function createClaimedJob(
  job: Job,
  lastSeq: number,
  workerId: string,
  context: ClaimContext,
): ClaimedJobControl {
  const { store, clock, logger } = context;
  const attempt = job.attempts.length;
  const guard: LeaseGuard = { jobId: job.id, workerId, attempt };
  const live: LiveAttempt = { attempt, events: [], info: {} };
  /** What `recordAttempt` learned, merged into the attempt when it ends. */
  const learned = live.info;
  const controller = new AbortController();
  let done = false;

  const release = (durationMs?: number): void => {
    if (done) return;
    done = true;
    stopDeadline();
    context.released(job.id, durationMs);
  };

  const abort = (reason: CodexImgError): void => {
    if (!controller.signal.aborted) controller.abort(reason);
  };

  const lost = (): undefined => {
    logger.warn("job lease lost", { jobId: job.id, workerId, attempt });
    abort(new CodexImgError("interrupted", "This worker no longer holds the job's lease."));
    release();
    return undefined;
  };

  // Whichever comes first: this attempt's deadline or the job's total deadline.
  const now = clock.now();
  const totalLeft = job.deadlineAt === undefined ? Number.POSITIVE_INFINITY : job.deadlineAt - now;
  const totalFirst = totalLeft <= job.attemptDeadlineMs;
  const stopDeadline = clock.setTimeout(
    () =>
      abort(
        totalFirst
          ? new CodexImgError("upstream_timeout", "The job ran past its total deadline.", {
              retryable: false,
              details: { deadline: "total" },
            })
          : new CodexImgError(
              "upstream_timeout",
              `The attempt ran longer than ${job.attemptDeadlineMs} ms.`,
              {
                details: { deadline: "attempt" },
              },
            ),
      ),
    Math.max(0, Math.min(totalLeft, job.attemptDeadlineMs)),
  );

  /** Applies a lease renewal's answer for this job (`undefined`: the lease is gone). */
  const renewed = (lease: RenewedLease | undefined): boolean => {
    if (done) return false;
    if (!lease) return lost() ?? false;
    // A cancel requested through another process reaches this worker here.
    if (lease.cancelRequested) abort(new CodexImgError("canceled", "The job was canceled."));
    return true;
  };

  const heartbeat = async (): Promise<boolean> => {
    if (done) return false;
    const [lease] = await store.renewLeases([guard], clock.now(), context.leaseMs);
    return renewed(lease);
  };

  const write = async (result: Promise<Job | undefined>): Promise<Job | undefined> => {
    const current = await result;
    if (!current) return lost();
    context.changed(current);
    return current;
  };

  /** The attempt's report for the write that ends it: what it learned and its live events. */
  const report = (info: JobAttemptInfo | undefined): AttemptReport => {
    if (info) mergeAttemptInfo(learned, info);
    return {
      attempt: learned,
      events: live.events.map(({ jobId: _job, seq: _seq, ...event }) => event as NewJobEvent),
    };
  };

  const addLive = (event: NewJobEvent): void => {
    live.events.push({ ...event, jobId: job.id, seq: lastSeq + live.events.length + 1 } as JobEvent);
    context.notify(job.id);
  };

  const handle: ClaimedJob = {
    job,
    attempt,
    signal: controller.signal,
    heartbeat,

    async recordAttempt(info) {
      if (done) return false;
      mergeAttemptInfo(learned, info);
      return true;
    },

    async progress(update) {
      if (done) return false;
      const at = clock.now();
      if (update.type === "progress") {
        const message = update.message === undefined ? {} : { message: update.message };
        live.progress = { stage: update.stage, ...message, at };
        addLive({ type: "progress", at, attempt, stage: update.stage, ...message });
      } else {
        addLive({ type: "partial_image", at, attempt, index: update.index, image: update.image });
      }
      return true;
    },

    async succeed(images, info, text) {
      if (done) return undefined;
      const finished = await write(
        store.finish(guard, {
          state: "succeeded",
          now: clock.now(),
          images,
          ...(text === undefined ? {} : { text }),
          ...report(info),
        }),
      );
      if (finished) release(finished.attempts.at(-1)?.durationMs);
      return finished;
    },

    async fail(thrown, info) {
      if (done) return undefined;
      const reason: unknown = controller.signal.aborted ? controller.signal.reason : undefined;
      const error = reason instanceof CodexImgError ? reason : toCodexImgError(thrown);
      const now = clock.now();
      const ending = { now, error: toJobError(error), ...report(info) };
      let result: Promise<Job | undefined>;
      // A cancel requested through another process, not yet seen here, is applied by the store's
      // transition (a job with `cancelRequested` ends `canceled` instead of failing or running again).
      if (reason instanceof CodexImgError && reason.code === "canceled") {
        result = store.finish(guard, { state: "canceled", ...ending });
      } else {
        const delay = Math.max(
          backoffDelayMs(attempt, context.backoff),
          // An account's reset time says nothing about when another account can run the job.
          error.details.accountFault ? 0 : (error.retryAfterMs ?? 0),
        );
        const runAfter = now + delay;
        const retry =
          error.retryable &&
          attempt < job.maxAttempts &&
          (job.deadlineAt === undefined || runAfter < job.deadlineAt);
        result = retry
          ? store.requeue(guard, { runAfter, ...ending })
          : store.finish(guard, { state: "failed", ...ending });
      }
      const written = await write(result);
      if (written) release();
      return written;
    },
  };

  return { handle, live, guard, renewed, abort };
}
