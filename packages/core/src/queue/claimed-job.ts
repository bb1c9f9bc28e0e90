import type { Clock } from "../clock.js";
import { CodexImgError, toCodexImgError } from "../errors.js";
import type { Logger } from "../logger.js";
import { type BackoffOptions, backoffDelayMs } from "./backoff.js";
import type { Job, JobAttemptInfo, JobProgressStage, StoredImageRef } from "./job.js";
import { toJobError } from "./job-error.js";
import type { JobStore, LeaseGuard } from "./job-store.js";

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
 */
export interface ClaimedJob {
  /** The job as claimed (state `running`, the new attempt last). */
  readonly job: Job;
  /** 1-based number of this attempt. */
  readonly attempt: number;
  readonly signal: AbortSignal;
  /** Renews the lease (also done automatically unless `heartbeatIntervalMs` is 0). False when the lease is lost. */
  heartbeat(): Promise<boolean>;
  /** Records what the attempt learned (account picked, route, upstream ids). False when the lease is lost. */
  recordAttempt(info: JobAttemptInfo): Promise<boolean>;
  /** Appends a `progress` or `partial_image` event. False when the lease is lost. */
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

/** What a claimed job needs from its queue. Internal to the queue. */
export interface ClaimContext {
  store: JobStore;
  clock: Clock;
  logger: Logger;
  leaseMs: number;
  heartbeatIntervalMs: number;
  backoff: BackoffOptions | undefined;
  /** Called after every write that changed the job. */
  changed(job: Job): void;
  /** Called once when the handle is done (finished, requeued, lease lost). */
  released(jobId: string, durationMs?: number): void;
}

export interface ClaimedJobControl {
  handle: ClaimedJob;
  /** Aborts the worker's signal (cancel, lease lost) and stops its timers. */
  abort(reason: CodexImgError): void;
}

export function createClaimedJob(job: Job, workerId: string, context: ClaimContext): ClaimedJobControl {
  const { store, clock, logger } = context;
  const attempt = job.attempts.length;
  const guard: LeaseGuard = { jobId: job.id, workerId, attempt };
  const controller = new AbortController();
  let done = false;
  let stopHeartbeat = (): void => {};

  const release = (durationMs?: number): void => {
    if (done) return;
    done = true;
    stopDeadline();
    stopHeartbeat();
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

  const heartbeat = async (): Promise<boolean> => {
    if (done) return false;
    const current = await store.heartbeat(guard, clock.now(), context.leaseMs);
    if (!current) return lost() ?? false;
    // A cancel requested through another process reaches this worker here.
    if (current.cancelRequested) abort(new CodexImgError("canceled", "The job was canceled."));
    return true;
  };

  if (context.heartbeatIntervalMs > 0) {
    // The next beat is armed before this one runs, so a slow store cannot stretch the interval.
    const arm = (): void => {
      stopHeartbeat = clock.setTimeout(() => {
        if (done) return;
        arm();
        heartbeat().catch((error: unknown) => logger.error("job heartbeat failed", { jobId: job.id, error }));
      }, context.heartbeatIntervalMs);
    };
    arm();
  }

  const write = async (result: Promise<Job | undefined>): Promise<Job | undefined> => {
    const current = await result;
    if (!current) return lost();
    context.changed(current);
    return current;
  };

  const handle: ClaimedJob = {
    job,
    attempt,
    signal: controller.signal,
    heartbeat,

    async recordAttempt(info) {
      if (done) return false;
      return (await write(store.update(guard, { now: clock.now(), attempt: info }))) !== undefined;
    },

    async progress(update) {
      if (done) return false;
      const now = clock.now();
      const patch =
        update.type === "progress"
          ? {
              now,
              progress: {
                stage: update.stage,
                ...(update.message === undefined ? {} : { message: update.message }),
              },
            }
          : { now, partialImage: { index: update.index, image: update.image } };
      return (await write(store.update(guard, patch))) !== undefined;
    },

    async succeed(images, info, text) {
      if (done) return undefined;
      const finished = await write(
        store.finish(guard, {
          state: "succeeded",
          now: clock.now(),
          images,
          ...(text === undefined ? {} : { text }),
          ...(info ? { attempt: info } : {}),
        }),
      );
      if (finished) release(finished.attempts.at(-1)?.durationMs);
      return finished;
    },

    async fail(thrown, info) {
      if (done) return undefined;
      const reason: unknown = controller.signal.aborted ? controller.signal.reason : undefined;
      const error = reason instanceof CodexImgError ? reason : toCodexImgError(thrown);
      const current = await store.get(job.id);
      const now = clock.now();
      const extra = info ? { attempt: info } : {};
      let result: Promise<Job | undefined>;
      if (current?.cancelRequested || (reason instanceof CodexImgError && reason.code === "canceled")) {
        result = store.finish(guard, { state: "canceled", now, error: toJobError(error), ...extra });
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
          ? store.requeue(guard, { now, runAfter, error: toJobError(error), ...extra })
          : store.finish(guard, { state: "failed", now, error: toJobError(error), ...extra });
      }
      const written = await write(result);
      if (written) release();
      return written;
    },
  };

  return { handle, abort };
}
