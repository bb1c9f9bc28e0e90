import type { AccountPool } from "../accounts/account-pool.js";
import { type Clock, systemClock } from "../clock.js";
import { CodexImgError } from "../errors.js";
import { type Logger, silentLogger } from "../logger.js";
import type { ClaimedJob } from "../queue/claimed-job.js";
import type { Job } from "../queue/job.js";
import type { JobQueue } from "../queue/job-queue.js";
import type { ImageStore } from "../storage/image-store.js";
import type { ImageBackend } from "../types.js";
import { ByteBudget } from "./byte-budget.js";
import { RecentOutputs } from "./recent-outputs.js";
import { type JobRunDeps, runJob } from "./run-job.js";

export interface RunnerOptions {
  queue: JobQueue;
  backend: ImageBackend;
  images: ImageStore;
  /** Accounts to run as. Omit for backends that need none (`demo`, `openai`). */
  pool?: AccountPool;
  /** Jobs this runner runs at once. Default 4. */
  concurrency?: number;
  /**
   * How long an idle runner waits before asking the store for work again, ms. Default 3000. This poll only
   * finds jobs enqueued by another process (another server instance sharing the database): `wake()`
   * (called on every enqueue here), a finished job and a retry coming due end the wait at once.
   */
  pollIntervalMs?: number;
  /** How often to recover jobs of dead workers (`queue.recover()`), ms. Default 10,000; 0 = never. */
  recoverIntervalMs?: number;
  /** Names this runner in leases and attempts. Default a random `worker-…`. */
  workerId?: string;
  clock?: Clock;
  logger?: Logger;
  /**
   * Longest wait for an account that is only briefly cooling down before the attempt fails with
   * `no_account_available`, ms. Default 60,000.
   */
  accountWaitMs?: number;
  /** Shared memory of recent output hashes for stale-result detection. Default one per runner. */
  recentOutputs?: RecentOutputs;
  /**
   * Reference image bytes the runner's jobs hold at once, bytes. With a backend that has `generateInto`
   * (codex-http) a job's references stream from the store into the upstream body and are never loaded,
   * so they take none of it. Otherwise (and for vision jobs) a job reads its references back from the
   * store and builds its upstream body from them (about 2.3 times their size while the call runs), so
   * jobs with large references wait for room instead of all loading at once. A job whose references
   * alone exceed it runs by itself. Default 64 MiB.
   */
  referenceBudgetBytes?: number;
}

/** Default `referenceBudgetBytes`: three edits of 4 x 5 MiB references at once. */
export const DEFAULT_REFERENCE_BUDGET_BYTES = 64 * 1024 * 1024;

export interface Runner {
  readonly workerId: string;
  /** Jobs running now. */
  readonly active: number;
  /** Starts claiming jobs in the background. */
  start(): void;
  /** Ends an idle wait at once (call after enqueueing). */
  wake(): void;
  /**
   * Stops claiming, waits up to `graceMs` (default 30,000) for running jobs, then aborts the rest with
   * `interrupted`, which puts them back in the queue while attempts remain.
   */
  stop(options?: { graceMs?: number }): Promise<void>;
  /** Claims one ready job and runs it to its end; undefined when none was ready. For tests and tools. */
  runOnce(): Promise<Job | undefined>;
}

/**
 * The only place that joins the engine's parts: claim a job, pick an account, call the backend, store
 * the images, record the outcome, release the account.
 *
 * Retries: a failed attempt ends through `ClaimedJob.fail`, and the queue decides whether it runs again
 * (retryable error, attempts left, before the deadline). The next attempt avoids every account that
 * failed this job through its own fault (usage limit, dead login, 5xx, timeout); errors of the request
 * (invalid input, refused content) are not retryable and end the job at once. With `n > 1` and a pool,
 * each image is its own backend call on its own account lease, run in parallel.
 */
export function createRunner(options: RunnerOptions): Runner {
  const { queue, backend, images, pool } = options;
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? silentLogger;
  const concurrency = options.concurrency ?? 4;
  const pollIntervalMs = options.pollIntervalMs ?? 3000;
  const recoverIntervalMs = options.recoverIntervalMs ?? 10_000;
  const workerId = options.workerId ?? `worker-${crypto.randomUUID().slice(0, 8)}`;
  const jobDeps: JobRunDeps = {
    backend,
    images,
    pool,
    clock,
    logger,
    accountWaitMs: options.accountWaitMs ?? 60_000,
    recentOutputs: options.recentOutputs ?? new RecentOutputs(),
    referenceBudget: new ByteBudget(options.referenceBudgetBytes ?? DEFAULT_REFERENCE_BUDGET_BYTES),
  };

  const inFlight = new Map<Promise<unknown>, AbortController>();
  let running = false;
  let loop: Promise<void> | undefined;
  let wakeUp: (() => void) | undefined;
  /** Epoch ms of the earliest retry this runner requeued, so the idle wait ends when it comes due. */
  let nextRetryAt = Number.POSITIVE_INFINITY;
  let cancelRecoverTimer: (() => void) | undefined;

  const idle = (pollMs: number): Promise<void> => {
    const now = clock.now();
    if (nextRetryAt <= now) nextRetryAt = Number.POSITIVE_INFINITY;
    const ms = Math.min(pollMs, Math.max(0, nextRetryAt - now));
    return new Promise((resolve) => {
      const cancel = clock.setTimeout(() => done(), ms);
      const done = (): void => {
        cancel();
        wakeUp = undefined;
        resolve();
      };
      wakeUp = done;
    });
  };

  const launch = (claimed: ClaimedJob): Promise<Job | undefined> => {
    const stopper = new AbortController();
    const work = runJob(jobDeps, claimed, stopper.signal).then(
      (job) => {
        if (job?.state === "queued") nextRetryAt = Math.min(nextRetryAt, job.runAfter);
        return job;
      },
      (error: unknown) => {
        logger.error("runner: job crashed", { jobId: claimed.job.id, error });
        return undefined;
      },
    );
    const tracked = work.finally(() => {
      inFlight.delete(tracked);
      wakeUp?.();
    });
    inFlight.set(tracked, stopper);
    return tracked;
  };

  const scheduleRecover = (): void => {
    if (!running || recoverIntervalMs <= 0) return;
    cancelRecoverTimer = clock.setTimeout(() => {
      queue
        .recover()
        .catch((error: unknown) => logger.warn("runner: recovery failed", { error }))
        .finally(scheduleRecover);
    }, recoverIntervalMs);
  };

  async function claimLoop(): Promise<void> {
    while (running) {
      if (inFlight.size >= concurrency) {
        await idle(pollIntervalMs);
        continue;
      }
      let claimed: ClaimedJob | undefined;
      try {
        claimed = await queue.claim(workerId);
      } catch (error) {
        logger.warn("runner: claim failed", { error });
      }
      if (!running && claimed) {
        // Stopped while claiming: hand the job straight back.
        await claimed.fail(
          new CodexImgError("interrupted", "The worker is shutting down.", { retryable: true }),
        );
        return;
      }
      if (claimed) {
        launch(claimed);
        // The launched job goes ahead as far as its first wait before the next claim: a claim is
        // synchronous database work, and a burst's claims in a row held every job's upstream call back
        // until the last (bench:gateway, added p99 at concurrency 8: ~16 ms less).
        await yieldToLaunched();
      } else await idle(pollIntervalMs);
    }
  }

  return {
    workerId,
    get active() {
      return inFlight.size;
    },
    start() {
      if (running) return;
      running = true;
      loop = claimLoop();
      scheduleRecover();
    },
    wake() {
      wakeUp?.();
    },
    async stop({ graceMs = 30_000 } = {}) {
      running = false;
      cancelRecoverTimer?.();
      wakeUp?.();
      await loop;
      if (inFlight.size === 0) return;
      const all = Promise.allSettled([...inFlight.keys()]);
      let cancelTimer = (): void => {};
      const timedOut = await Promise.race([
        all.then(() => false),
        new Promise<boolean>((resolve) => {
          cancelTimer = clock.setTimeout(() => resolve(true), graceMs);
        }),
      ]);
      cancelTimer();
      if (timedOut) {
        for (const stopper of inFlight.values()) {
          stopper.abort(
            new CodexImgError("interrupted", "The worker shut down before the job finished.", {
              retryable: true,
            }),
          );
        }
        await all;
      }
    },
    async runOnce() {
      const claimed = await queue.claim(workerId);
      return claimed ? launch(claimed) : undefined;
    },
  };
}

/** Resolves once the work queued so far has run (a macrotask later: `setImmediate` where there is one). */
function yieldToLaunched(): Promise<void> {
  const immediate = (globalThis as { setImmediate?: (run: () => void) => unknown }).setImmediate;
  return new Promise((resolve) => (immediate ? immediate(resolve) : setTimeout(resolve, 0)));
}
