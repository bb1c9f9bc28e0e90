import { copyJson } from "./copy-json.js";
import type { Job, JobAttemptInfo, JobError } from "./job.js";
import type { NewJobEvent } from "./job-events.js";
import type {
  AttemptReport,
  ClaimJobOptions,
  JobOutcome,
  JobRetry,
  LeaseGuard,
  RecoveredJob,
} from "./job-store.js";

/**
 * The state changes of a job as pure functions (input never mutated). Every JobStore applies these inside
 * its own atomic step (the memory store directly, a SQL store between reading and writing the row in one
 * transaction) and appends the returned events, so all stores agree on the rules.
 */
export interface JobTransition {
  job: Job;
  events: NewJobEvent[];
}

/** Whether `guard` still holds the lease of `job`. Expiry alone does not end ownership: recovery does. */
export function holdsLease(job: Job, guard: LeaseGuard): boolean {
  return (
    job.id === guard.jobId &&
    job.state === "running" &&
    job.lease?.workerId === guard.workerId &&
    job.lease.attempt === guard.attempt
  );
}

export function isClaimable(job: Job, now: number): boolean {
  return job.state === "queued" && job.runAfter <= now && !isOverdue(job, now) && !job.cancelRequested;
}

export function isOverdue(job: Job, now: number): boolean {
  return job.deadlineAt !== undefined && job.deadlineAt <= now;
}

export function isLeaseExpired(job: Job, now: number): boolean {
  return job.state === "running" && job.lease !== undefined && job.lease.expiresAt <= now;
}

/** Claim order: higher priority first, then older `createdAt`. Stores break remaining ties by insertion order. */
export function compareClaimOrder(a: Job, b: Job): number {
  return b.priority - a.priority || a.createdAt - b.createdAt;
}

export function queuedEvent(job: Job): NewJobEvent {
  return { type: "queued", at: job.createdAt, priority: job.priority };
}

export function claimTransition(job: Job, options: ClaimJobOptions): JobTransition {
  const next = copyJson(job);
  const number = next.attempts.length + 1;
  next.state = "running";
  next.attempts.push({ number, workerId: options.workerId, upstreamIds: {}, startedAt: options.now });
  next.lease = { workerId: options.workerId, attempt: number, expiresAt: options.now + options.leaseMs };
  next.startedAt ??= options.now;
  next.updatedAt = options.now;
  delete next.progress;
  return {
    job: next,
    events: [{ type: "started", at: options.now, attempt: number, workerId: options.workerId }],
  };
}

export function heartbeatTransition(job: Job, now: number, leaseMs: number): Job {
  const next = copyJson(job);
  if (next.lease) next.lease.expiresAt = now + leaseMs;
  next.updatedAt = now;
  return next;
}

export function finishTransition(job: Job, outcome: JobOutcome): JobTransition {
  // A cancel requested while the attempt ran (here or through another process) is why it failed.
  if (outcome.state === "failed" && job.cancelRequested) {
    return finishTransition(job, { ...outcome, state: "canceled" });
  }
  const next = copyJson(job);
  const attempt = next.attempts.length;
  const { now } = outcome;
  const events = applyReport(next, outcome);
  if (outcome.state === "succeeded") {
    endAttempt(next, now);
    next.images = copyJson(outcome.images);
    if (outcome.text !== undefined) next.text = outcome.text;
    events.push({
      type: "succeeded",
      at: now,
      images: copyJson(outcome.images),
      ...(outcome.text === undefined ? {} : { text: outcome.text }),
    });
  } else if (outcome.state === "failed") {
    endAttempt(next, now, outcome.error);
    next.error = copyJson(outcome.error);
    events.push(
      { type: "attempt_failed", at: now, attempt, error: copyJson(outcome.error), willRetry: false },
      { type: "failed", at: now, error: copyJson(outcome.error) },
    );
  } else {
    const error = outcome.error ?? canceledError();
    endAttempt(next, now, error);
    next.error = error;
    events.push({ type: "canceled", at: now, error: copyJson(error) });
  }
  next.state = outcome.state;
  finishJob(next, now);
  return { job: next, events };
}

export function requeueTransition(job: Job, retry: JobRetry): JobTransition {
  if (job.cancelRequested) {
    const { runAfter: _unused, ...report } = retry;
    return finishTransition(job, { ...report, state: "canceled" });
  }
  const next = copyJson(job);
  const attempt = next.attempts.length;
  const events = applyReport(next, retry);
  endAttempt(next, retry.now, retry.error);
  next.state = "queued";
  next.runAfter = retry.runAfter;
  next.updatedAt = retry.now;
  delete next.lease;
  delete next.progress;
  events.push({
    type: "attempt_failed",
    at: retry.now,
    attempt,
    error: copyJson(retry.error),
    willRetry: true,
    retryAt: retry.runAfter,
  });
  return { job: next, events };
}

/** Unchanged (no events) for a finished job or a running one that already has `cancelRequested`. */
export function cancelTransition(job: Job, now: number): JobTransition {
  const next = copyJson(job);
  if (next.state === "queued") {
    const error = canceledError();
    next.state = "canceled";
    next.error = error;
    finishJob(next, now);
    return { job: next, events: [{ type: "canceled", at: now, error: copyJson(error) }] };
  }
  if (next.state === "running" && !next.cancelRequested) {
    next.cancelRequested = true;
    next.updatedAt = now;
  }
  return { job: next, events: [] };
}

/** Whether `cancelTransition` changed the job (canceled a queued one or flagged a running one). */
export function cancelChanges(job: Job, transition: JobTransition): boolean {
  return transition.events.length > 0 || transition.job.cancelRequested !== job.cancelRequested;
}

export function recoverTransition(
  job: Job,
  now: number,
  retryDelayMs: (attempt: number) => number = () => 0,
): JobTransition & { outcome: RecoveredJob["outcome"] } {
  const attempt = job.attempts.length;
  const interrupted: JobError = {
    code: "interrupted",
    message: "The worker running this job stopped renewing its lease.",
    retryable: true,
    ...(job.lease ? { details: { workerId: job.lease.workerId } } : {}),
  };
  if (job.cancelRequested) {
    return { ...finishTransition(job, { state: "canceled", now }), outcome: "canceled" };
  }
  const runAfter = now + Math.max(0, retryDelayMs(attempt));
  const beforeDeadline = job.deadlineAt === undefined || runAfter < job.deadlineAt;
  if (attempt < job.maxAttempts && beforeDeadline) {
    return { ...requeueTransition(job, { now, runAfter, error: interrupted }), outcome: "requeued" };
  }
  return {
    ...finishTransition(job, { state: "failed", now, error: { ...interrupted, retryable: false } }),
    outcome: "failed",
  };
}

export function overdueTransition(job: Job, now: number): JobTransition {
  const next = copyJson(job);
  const error: JobError = {
    code: "upstream_timeout",
    message: "The job waited in the queue past its total deadline.",
    retryable: false,
    details: { deadline: "total" },
  };
  next.state = "failed";
  next.error = error;
  finishJob(next, now);
  return { job: next, events: [{ type: "failed", at: now, error: copyJson(error) }] };
}

function canceledError(): JobError {
  return { code: "canceled", message: "The job was canceled.", retryable: false };
}

/** Merges the worker's report into `job` (mutated) and returns its events, the first of the transition. */
function applyReport(job: Job, report: AttemptReport): NewJobEvent[] {
  const current = job.attempts.at(-1);
  if (report.attempt && current) mergeAttemptInfo(current, report.attempt);
  return copyJson(report.events ?? []);
}

/** Merges `info` into `target` (mutated): present fields replace, `upstreamIds` and `diagnostics` merge key by key. */
export function mergeAttemptInfo(target: JobAttemptInfo, info: JobAttemptInfo): void {
  if (info.account !== undefined) target.account = info.account;
  if (info.backend !== undefined) target.backend = info.backend;
  if (info.route !== undefined) target.route = info.route;
  if (info.upstreamIds) target.upstreamIds = { ...target.upstreamIds, ...info.upstreamIds };
  if (info.diagnostics && Object.keys(info.diagnostics).length > 0) {
    target.diagnostics = { ...target.diagnostics, ...info.diagnostics };
  }
}

function endAttempt(job: Job, now: number, error?: JobError): void {
  const current = job.attempts.at(-1);
  if (!current || current.finishedAt !== undefined) return;
  current.finishedAt = now;
  current.durationMs = now - current.startedAt;
  if (error) current.error = copyJson(error);
}

function finishJob(job: Job, now: number): void {
  job.finishedAt = now;
  job.updatedAt = now;
  delete job.lease;
  delete job.progress;
}
