import { systemClock } from "../clock.js";
import { CodexImgError, isCodexImgError } from "../errors.js";
import { silentLogger } from "../logger.js";
import { backoffDelayMs } from "./backoff.js";
import { type ClaimedJobControl, createClaimedJob, type LiveAttempt } from "./claimed-job.js";
import { createJob, isTerminalJobState, type Job } from "./job.js";
import { ANY_JOB, createJobChangeFeed } from "./job-change-feed.js";
import { isTerminalJobEvent, type JobEvent } from "./job-events.js";
import type { EnqueueResult, JobQueue, JobQueueOptions, SubscribeOptions } from "./job-queue.js";
import type { CancelJobOptions } from "./job-store.js";
import { mergeAttemptInfo } from "./job-transitions.js";
import { hashJobRequest } from "./request-hash.js";

export function createJobQueue(options: JobQueueOptions): JobQueue {
  const { store } = options;
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? silentLogger;
  const maxQueueLength = options.maxQueueLength ?? 50;
  const defaultMaxAttempts = options.defaultMaxAttempts ?? 3;
  const attemptTimeoutMs = options.attemptTimeoutMs ?? 360_000;
  const totalTimeoutMs = options.totalTimeoutMs ?? 900_000;
  const leaseMs = options.leaseMs ?? 30_000;
  const heartbeatIntervalMs = options.heartbeatIntervalMs ?? Math.floor(leaseMs / 3);
  const workerCount = Math.max(1, options.workerCount ?? 1);
  const feed = createJobChangeFeed(clock, options.pollIntervalMs ?? 1000);
  let averageJobMs = options.averageJobMs ?? 60_000;

  /**
   * Workers of this process by job id, so a cancel can abort the running backend call, and so that
   * reads and subscribers here see the attempt's live progress before it reaches the store.
   */
  const running = new Map<string, ClaimedJobControl>();
  let stopRenewal: (() => void) | undefined;
  /** Renews every lease this queue holds in one store step, then applies each answer. */
  const renewAll = async (): Promise<void> => {
    const controls = [...running.values()];
    if (controls.length === 0) return;
    const renewed = await store.renewLeases(
      controls.map((control) => control.guard),
      clock.now(),
      leaseMs,
    );
    const byJob = new Map(renewed.map((lease) => [lease.jobId, lease]));
    for (const control of controls) control.renewed(byJob.get(control.guard.jobId));
  };
  /** Arms the next renewal while this queue holds leases; a slow store cannot stretch the interval. */
  const armRenewal = (): void => {
    if (stopRenewal || heartbeatIntervalMs <= 0 || running.size === 0) return;
    stopRenewal = clock.setTimeout(() => {
      stopRenewal = undefined;
      armRenewal();
      renewAll().catch((error: unknown) => logger.error("lease renewal failed", { error }));
    }, heartbeatIntervalMs);
  };

  /** Enqueue signals to detach once their job is finished. */
  const detachers = new Map<string, () => void>();

  const changed = (job: Job): void => {
    if (isTerminalJobState(job.state)) {
      detachers.get(job.id)?.();
      detachers.delete(job.id);
    }
    feed.notify(job.id, job.state);
  };

  const notFound = (id: string): CodexImgError => new CodexImgError("not_found", `No job ${id}.`);

  /** The stored job, with the live progress of an attempt running in this process. */
  const get = async (id: string): Promise<Job | undefined> => {
    const job = await store.get(id);
    const local = job && running.get(id)?.live;
    return local && job.state === "running" ? withLive(job, local) : job;
  };

  const cancel = async (id: string, cancelOptions: CancelJobOptions = {}): Promise<Job> => {
    const job = await store.requestCancel(id, clock.now(), cancelOptions);
    if (!job) throw notFound(id);
    changed(job);
    if (job.state === "running") {
      running.get(id)?.abort(new CodexImgError("canceled", "The job was canceled."));
    }
    logger.info("job cancel", { jobId: id, state: job.state });
    return job;
  };

  const attachSignal = (jobId: string, signal: AbortSignal, cancelOptions: CancelJobOptions): void => {
    const onAbort = (): void => {
      detachers.delete(jobId);
      cancel(jobId, cancelOptions).catch((error: unknown) =>
        logger.warn("job cancel failed", { jobId, error }),
      );
    };
    // The caller may have left while the job was being inserted: then the event has already fired.
    if (signal.aborted) {
      onAbort();
      return;
    }
    signal.addEventListener("abort", onAbort, { once: true });
    detachers.set(jobId, () => signal.removeEventListener("abort", onAbort));
  };

  async function* follow(jobId: string, subscribe: SubscribeOptions): AsyncGenerator<JobEvent> {
    let lastSeq = subscribe.afterSeq ?? 0;
    const { signal } = subscribe;
    if (!(await store.get(jobId))) throw notFound(jobId);
    while (!signal?.aborted) {
      const waiter = feed.waiter(jobId, signal);
      try {
        const stored = await store.readEvents(jobId, lastSeq);
        // Then the live events of an attempt running here (the store has them once it ends).
        const live = running.get(jobId)?.live.events ?? [];
        const events = [...stored, ...live.filter((event) => event.seq > (stored.at(-1)?.seq ?? lastSeq))];
        for (const event of events) {
          lastSeq = event.seq;
          yield structuredClone(event);
          if (isTerminalJobEvent(event)) return;
        }
        if (events.length > 0) continue;
        const job = await store.get(jobId);
        if (!job) return;
        if (isTerminalJobState(job.state)) {
          // Terminal events are written with the state change, so one more read finds any still unseen.
          for (const event of await store.readEvents(jobId, lastSeq)) yield event;
          return;
        }
        await waiter.promise;
      } finally {
        waiter.cancel();
      }
    }
  }

  return {
    async enqueue(request, enqueueOptions = {}) {
      const { signal } = enqueueOptions;
      if (signal?.aborted) throw new CodexImgError("canceled", "The request was canceled.");
      const priority = enqueueOptions.priority ?? 0;
      const maxAttempts = enqueueOptions.maxAttempts ?? defaultMaxAttempts;
      if (!Number.isSafeInteger(priority)) throw invalid("priority", "priority must be a whole number");
      if (!Number.isSafeInteger(maxAttempts) || maxAttempts < 1) {
        throw invalid("max_attempts", "maxAttempts must be a whole number of at least 1");
      }
      const now = clock.now();
      const kind = enqueueOptions.kind ?? "image";
      const job = createJob({
        kind,
        request,
        // The kind is part of what was asked: the same body as a vision question is another request.
        requestHash: await hashJobRequest({
          ...request,
          ...(kind === "image" ? {} : { kind }),
          ...(enqueueOptions.echo === undefined ? {} : { echo: enqueueOptions.echo }),
        }),
        now,
        priority,
        maxAttempts,
        attemptDeadlineMs: enqueueOptions.attemptTimeoutMs ?? attemptTimeoutMs,
        deadlineAt: now + (enqueueOptions.totalTimeoutMs ?? totalTimeoutMs),
        ...(enqueueOptions.keyId === undefined ? {} : { keyId: enqueueOptions.keyId }),
        ...(enqueueOptions.idempotencyKey === undefined
          ? {}
          : { idempotencyKey: enqueueOptions.idempotencyKey }),
        ...(enqueueOptions.echo === undefined ? {} : { echo: enqueueOptions.echo }),
      });
      let result: EnqueueResult;
      try {
        result = await store.insert(job, {
          maxQueued: maxQueueLength,
          ...(enqueueOptions.admit ? { admit: enqueueOptions.admit } : {}),
        });
      } catch (error) {
        if (!isCodexImgError(error, "queue_full")) throw error;
        const queued = typeof error.details.queued === "number" ? error.details.queued : maxQueueLength;
        throw new CodexImgError("queue_full", `The queue is full (${queued} jobs waiting).`, {
          retryAfterMs: Math.max(1000, Math.ceil((queued * averageJobMs) / workerCount)),
          details: error.details,
          cause: error,
        });
      }
      if (result.created) {
        logger.debug("job queued", { jobId: result.job.id, keyId: result.job.keyId, priority });
        changed(result.job);
        if (signal) {
          const { release } = enqueueOptions;
          attachSignal(result.job.id, signal, release ? { release } : {});
        }
      }
      return result;
    },

    get,

    async getShared(id) {
      const shared = store.cachedFinished?.(id);
      if (shared) return shared;
      // A finished job read now is cached by the read: hand out the shared object from then on.
      const job = await get(id);
      return (job && store.cachedFinished?.(id)) ?? job;
    },

    list: (query) => store.list(query),

    cancel,

    subscribe(jobId, subscribeOptions = {}) {
      return { [Symbol.asyncIterator]: () => follow(jobId, subscribeOptions) };
    },

    async nextChange({ timeoutMs, signal }) {
      // The waiter's poll timer is the timeout here: other processes' changes show up by then.
      const waiter = feed.waiter(ANY_JOB, signal, timeoutMs);
      try {
        await waiter.promise;
      } finally {
        waiter.cancel();
      }
    },

    async waitForJob(jobId, { timeoutMs, signal }) {
      let timedOut = false;
      let wakeOnTimeout = (): void => {};
      const timeout = new Promise<void>((resolve) => {
        wakeOnTimeout = resolve;
      });
      const stopTimer = clock.setTimeout(() => {
        timedOut = true;
        wakeOnTimeout();
      }, timeoutMs);
      try {
        // The store is read first and then only when a wake-up may mean the end: a local change that
        // leaves the job unfinished (claimed, a progress event, requeued) says so and costs no read.
        let read = true;
        for (;;) {
          const waiter = feed.waiter(jobId, signal);
          try {
            if (read) {
              const job = await store.get(jobId);
              if (!job) throw notFound(jobId);
              if (timedOut || signal?.aborted || isTerminalJobState(job.state)) return job;
            }
            const state = await Promise.race([waiter.promise, timeout]);
            read = state === undefined || isTerminalJobState(state);
          } finally {
            waiter.cancel();
          }
        }
      } finally {
        stopTimer();
      }
    },

    async claim(workerId) {
      const claimed = await store.claim({ workerId, now: clock.now(), leaseMs });
      if (!claimed) return undefined;
      const { job } = claimed;
      changed(job);
      logger.debug("job claimed", { jobId: job.id, workerId, attempt: job.attempts.length });
      const control = createClaimedJob(job, claimed.lastSeq, workerId, {
        store,
        clock,
        logger,
        leaseMs,
        backoff: options.backoff,
        changed,
        // A live event of an attempt running here: the job is still running.
        notify: (jobId) => feed.notify(jobId, "running"),
        released(jobId, durationMs) {
          if (running.get(jobId) === control) running.delete(jobId);
          if (running.size === 0) {
            // Nothing left to renew: no timer may keep an idle process alive.
            stopRenewal?.();
            stopRenewal = undefined;
          }
          // Learned from real runs so `queue_full` estimates follow what jobs actually take here.
          if (durationMs !== undefined) averageJobMs = Math.round(averageJobMs * 0.8 + durationMs * 0.2);
        },
      });
      running.set(job.id, control);
      armRenewal();
      return control.handle;
    },

    async recover() {
      const now = clock.now();
      const recovered = await store.recoverExpiredLeases(now, {
        retryDelayMs: (attempt) => backoffDelayMs(attempt, options.backoff),
      });
      for (const { job, outcome } of recovered) {
        // A worker of this process that hung past its lease must stop: the job is no longer its own.
        const local = running.get(job.id);
        if (local && local.handle.attempt === job.attempts.length) {
          local.abort(new CodexImgError("interrupted", "This worker no longer holds the job's lease."));
          running.delete(job.id);
        }
        changed(job);
        logger.warn("job lease expired", { jobId: job.id, outcome, attempt: job.attempts.length });
      }
      const overdue = await store.failOverdue(now);
      for (const job of overdue) {
        changed(job);
        logger.warn("job overdue", { jobId: job.id });
      }
      return { recovered, overdue };
    },
  };
}

/** `job` as this process sees it while its attempt runs here: with the attempt's live progress and info. */
function withLive(job: Job, live: LiveAttempt): Job {
  const current = job.attempts.at(-1);
  if (!current || current.number !== live.attempt) return job;
  mergeAttemptInfo(current, live.info);
  if (live.progress) job.progress = { ...live.progress };
  return job;
}

function invalid(param: string, message: string): CodexImgError {
  return new CodexImgError("invalid_request", message, { details: { param } });
}
