import type { AccountLease, AccountPool } from "../accounts/create-account-pool.js";
import { type Clock, sleep, systemClock } from "../clock.js";
import { CodexImgError, isCodexImgError, toCodexImgError } from "../errors.js";
import { sha256Hex } from "../image/sha256-hex.js";
import { type Logger, silentLogger } from "../logger.js";
import type { ClaimedJob } from "../queue/claimed-job.js";
import type { Job, JobAttemptInfo, StoredImageRef } from "../queue/job.js";
import type { JobQueue } from "../queue/job-queue.js";
import type { ImageStore } from "../storage/image-store.js";
import type { BackendEvent, GeneratedImage, ImageBackend, ImageRequest, QuotaSnapshot } from "../types.js";
import { ByteBudget } from "./byte-budget.js";
import { loadStoredRequest } from "./load-stored-request.js";
import { RecentOutputs } from "./recent-outputs.js";

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
   * Reference image bytes the runner's jobs hold at once, bytes. A job reads its references back from
   * the store and builds its upstream body from them (about 2.3 times their size while the call runs), so
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
  const recentOutputs = options.recentOutputs ?? new RecentOutputs();
  const accountWaitMs = options.accountWaitMs ?? 60_000;
  const referenceBudget = new ByteBudget(options.referenceBudgetBytes ?? DEFAULT_REFERENCE_BUDGET_BYTES);

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
    const work = runJob(claimed, stopper.signal).then(
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
      if (claimed) launch(claimed);
      else await idle(pollIntervalMs);
    }
  }

  async function runJob(claimed: ClaimedJob, stopSignal: AbortSignal): Promise<Job | undefined> {
    const job = claimed.job;
    const signal = AbortSignal.any([claimed.signal, stopSignal]);
    const progressChain = { last: Promise.resolve() as Promise<unknown> };
    const emit = (update: Parameters<ClaimedJob["progress"]>[0]): void => {
      progressChain.last = progressChain.last.then(() => claimed.progress(update)).catch(() => false);
    };
    const produced: StoredImageRef[] = [];
    const partials: string[] = [];
    const info: JobAttemptInfo & {
      upstreamIds: Record<string, string>;
      diagnostics: Record<string, string>;
    } = {
      backend: backend.kind,
      upstreamIds: {},
      diagnostics: {},
    };
    const accountsUsed: string[] = [];
    let releaseReferences = (): void => undefined;

    try {
      releaseReferences = await referenceBudget.acquire(
        job.request.referenceImages.reduce((sum, ref) => sum + ref.bytes, 0),
        signal,
      );
      const request = await loadStoredRequest(images, job.request);
      const exclude = accountsToAvoid(job);
      if (job.kind === "vision") {
        const text = await runVision(request, exclude, signal);
        await progressChain.last;
        info.account = accountsUsed.join(",") || undefined;
        return await claimed.succeed([], info, text);
      }
      // With a pool, every image is its own call on its own account; without one, one call makes all.
      const perCall = pool ? 1 : job.request.n;
      const siblings = new AbortController();
      const callSignal = AbortSignal.any([signal, siblings.signal]);
      const outcomes = await Promise.allSettled(
        Array.from({ length: callCount() }, (_, slot) =>
          runCall(slot, { ...request, n: perCall }, exclude, callSignal).catch((error: unknown) => {
            siblings.abort(error); // one failure ends the job's attempt: stop spending quota on the rest
            throw error;
          }),
        ),
      );
      await progressChain.last;
      const failure = outcomes.find((o): o is PromiseRejectedResult => o.status === "rejected");
      if (failure) throw firstCause(outcomes, failure.reason);
      info.account = accountsUsed.join(",") || undefined;
      const finished = await claimed.succeed(produced, info);
      if (!finished) await deleteKeys(produced.map((image) => image.key)); // lease lost: drop the result
      return finished;
    } catch (error) {
      await progressChain.last;
      await deleteKeys(produced.map((image) => image.key));
      const cause = stopSignal.aborted ? stopSignal.reason : error;
      info.account = accountsUsed.join(",") || undefined;
      return claimed.fail(cause, info);
    } finally {
      releaseReferences();
      await deleteKeys(partials);
    }

    async function runCall(
      slot: number,
      request: ImageRequest,
      exclude: string[],
      callSignal: AbortSignal,
    ): Promise<void> {
      const lease = pool ? await acquire(pool, exclude, callSignal, clock, accountWaitMs) : undefined;
      const label = lease?.account.label;
      if (label) {
        accountsUsed.push(label);
        if (accountsUsed.length === 1) await claimed.recordAttempt({ account: label, backend: backend.kind });
      }
      const result = await onLease(lease, callSignal, async () => {
        const generated = await backend.generate(request, {
          ...(lease ? { account: lease.account } : {}),
          signal: callSignal,
          onEvent: (event) => onBackendEvent(event, slot, label),
        });
        // The demo backend draws the same placeholder for the same request on purpose (run again, tests).
        if (!generated.demo) await rejectStaleOutputs(generated.images);
        return generated;
      });
      info.route = result.route;
      for (const [name, value] of Object.entries(result.upstreamIds)) {
        info.upstreamIds[callCount() > 1 ? `${name}#${slot + 1}` : name] = value;
      }
      for (const [name, value] of Object.entries(result.diagnostics ?? {})) {
        info.diagnostics[callCount() > 1 ? `${name}#${slot + 1}` : name] = value;
      }
      for (const [index, image] of result.images.entries()) {
        const reported = {
          ...result.delivered,
          ...(index === 0 && result.usage ? { usage: result.usage } : {}),
        };
        const object = await images.put(image.bytes, { format: image.format, prefix: "img" });
        produced.push({
          key: object.key,
          format: image.format,
          width: image.width,
          height: image.height,
          bytes: object.bytes,
          ...(image.revisedPrompt === undefined ? {} : { revisedPrompt: image.revisedPrompt }),
          ...(image.partial ? { partial: true } : {}),
          ...(Object.keys(reported).length > 0 ? { reported } : {}),
        });
      }
    }

    /** A vision job: one call on one account lease, answered with text (the references are the images). */
    async function runVision(
      request: ImageRequest,
      exclude: string[],
      callSignal: AbortSignal,
    ): Promise<string> {
      const describe = backend.describe?.bind(backend);
      if (!describe) {
        throw new CodexImgError(
          "backend_unavailable",
          `The ${backend.kind} backend cannot answer questions about images.`,
          { retryable: false },
        );
      }
      const lease = pool ? await acquire(pool, exclude, callSignal, clock, accountWaitMs) : undefined;
      const label = lease?.account.label;
      if (label) {
        accountsUsed.push(label);
        await claimed.recordAttempt({ account: label, backend: backend.kind });
      }
      const result = await onLease(lease, callSignal, () =>
        describe(
          {
            prompt: request.prompt,
            images: request.referenceImages ?? [],
            ...(request.model ? { model: request.model } : {}),
          },
          {
            ...(lease ? { account: lease.account } : {}),
            signal: callSignal,
            onEvent: (event) => onBackendEvent(event, 0, label),
          },
        ),
      );
      info.route = result.route;
      Object.assign(info.upstreamIds, result.upstreamIds);
      Object.assign(info.diagnostics, result.diagnostics ?? {});
      return result.text;
    }

    function callCount(): number {
      return pool ? job.request.n : 1;
    }

    function onBackendEvent(event: BackendEvent, slot: number, label: string | undefined): void {
      if (event.type === "progress") {
        emit({ type: "progress", stage: event.stage, ...(event.message ? { message: event.message } : {}) });
      } else if (event.type === "quota" && label && pool) {
        pool.updateQuota(label, event.snapshot);
      } else if (event.type === "partial_image") {
        const { image } = event;
        void images
          .put(image.bytes, { format: image.format, prefix: "img" })
          .then((object) => {
            partials.push(object.key);
            emit({
              type: "partial_image",
              index: slot * 100 + event.index,
              image: {
                key: object.key,
                format: image.format,
                width: image.width,
                height: image.height,
                bytes: object.bytes,
              },
            });
          })
          .catch((error: unknown) =>
            logger.warn("runner: could not keep a partial image", { jobId: job.id, error }),
          );
      }
    }

    async function rejectStaleOutputs(outputs: GeneratedImage[]): Promise<void> {
      for (const image of outputs) {
        const hash = await sha256Hex(image.bytes);
        const other = recentOutputs.ownerOtherThan(hash, job.id);
        if (other) {
          throw new CodexImgError(
            "upstream_failed",
            "The backend returned an earlier job's image again (stale result).",
            {
              retryable: true,
              details: { stale: true, accountFault: true },
            },
          );
        }
        recentOutputs.remember(hash, job.id);
      }
    }
  }

  async function deleteKeys(keys: string[]): Promise<void> {
    await Promise.all(keys.map((key) => images.delete(key).catch(() => false)));
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

/** Accounts that failed this job through their own fault: the next attempt tries elsewhere. */
function accountsToAvoid(job: Job): string[] {
  const labels = new Set<string>();
  for (const attempt of job.attempts) {
    if (!attempt.error?.details?.accountFault || !attempt.account) continue;
    for (const label of attempt.account.split(",")) labels.add(label);
  }
  return [...labels];
}

/**
 * An account for one call. With an exclusion list, `no_account_available` may only mean "nothing else":
 * then any account will do. When every account is only briefly cooling down (a few failures, a short
 * throttle), the call waits for the earliest one rather than failing at once and spending one of the
 * job's attempts; a long wait (a usage window resetting in hours) fails so the caller hears it now.
 * The attempt's deadline still applies through `signal`.
 */
async function acquire(
  pool: AccountPool,
  exclude: string[],
  signal: AbortSignal,
  clock: Clock,
  maxWaitMs: number,
): Promise<AccountLease> {
  for (let avoid = exclude; ; ) {
    try {
      return await pool.acquire({ exclude: avoid, signal });
    } catch (error) {
      if (!isCodexImgError(error, "no_account_available")) throw error;
      if (avoid.length > 0) {
        avoid = [];
        continue;
      }
      const wait = error.retryAfterMs;
      if (wait === undefined || !error.retryable || wait > maxWaitMs) throw error;
      await sleep(clock, Math.max(wait, 1), signal);
    }
  }
}

/**
 * Runs one backend call on `lease` and releases it with the outcome: its quota on success, its error on
 * failure. When the call's signal was aborted with a reason of ours (a sibling failed, a cancel), that
 * reason is the failure, not the backend's generic `canceled`.
 */
async function onLease<T extends { quota?: QuotaSnapshot }>(
  lease: AccountLease | undefined,
  signal: AbortSignal,
  call: () => Promise<T>,
): Promise<T> {
  let result: T;
  try {
    result = await call();
  } catch (error) {
    const failure = signal.aborted && isCodexImgError(signal.reason) ? signal.reason : toCodexImgError(error);
    lease?.release({ ok: false, error: toCodexImgError(error) });
    throw failure;
  }
  lease?.release({ ok: true, ...(result.quota ? { quota: result.quota } : {}) });
  return result;
}

/** The error that ended the attempt: the first real failure, not the `canceled` of aborted siblings. */
function firstCause(outcomes: PromiseSettledResult<unknown>[], fallback: unknown): unknown {
  for (const outcome of outcomes) {
    if (outcome.status === "rejected" && !isCodexImgError(outcome.reason, "canceled")) return outcome.reason;
  }
  return fallback;
}
