import type {
  Job,
  JobAttempt,
  JobEcho,
  JobError,
  JobEvent,
  JobKind,
  JobProgress,
  JobState,
  NewJobEvent,
  StoredImageRef,
  StoredImageRequest,
} from "@codex-img/core";
import type { InArgs, Row } from "@libsql/client";
import { sameJson } from "./same-json.js";

/**
 * A job as one row, with its attempts folded in by a correlated subquery: one statement is one snapshot,
 * so a reader never sees a lease of attempt 3 next to only two attempts. `rowid` is the insertion order
 * that breaks ties of equal `created_at`; `last_seq` the last event number given out.
 *
 * The row is one JSON column, `record`: the libSQL driver spends about 4.5 µs per result column on
 * every query (column metadata and row objects), so the 25 columns of a job cost ~200 µs a read, and
 * job reads are the hot path of polling and of every job write.
 */
export const JOB_SELECT = `SELECT json_object('row_order', j.rowid, 'id', j.id, 'kind', j.kind, 'text', j.text,
  'state', j.state,
  'key_id', j.key_id, 'priority', j.priority, 'idempotency_key', j.idempotency_key,
  'request_hash', j.request_hash, 'request', json(j.request), 'max_attempts', j.max_attempts,
  'attempt_timeout_ms', j.attempt_timeout_ms, 'deadline_at', j.deadline_at, 'run_after', j.run_after,
  'lease_worker', j.lease_worker, 'lease_attempt', j.lease_attempt, 'lease_expires_at', j.lease_expires_at,
  'cancel_requested', j.cancel_requested, 'images', json(j.images), 'error', json(j.error),
  'progress', json(j.progress), 'last_seq', j.last_seq, 'created_at', j.created_at,
  'updated_at', j.updated_at, 'started_at', j.started_at, 'finished_at', j.finished_at, 'echo', json(j.echo),
  'attempts', json((SELECT json_group_array(json(a.attempt)) FROM (
    SELECT json_object('number', number, 'workerId', worker_id, 'account', account, 'backend', backend,
      'route', route, 'upstreamIds', json(upstream_ids), 'startedAt', started_at, 'finishedAt', finished_at,
      'durationMs', duration_ms, 'error', json(error), 'diagnostics', json(diagnostics)) AS attempt
    FROM job_attempts WHERE job_id = j.id ORDER BY number) AS a))) AS record
FROM jobs AS j`;

/** A job read for a write: the record plus what the SQL store keeps beside it. */
export interface JobRecord {
  job: Job;
  /** Insertion order (`rowid`). */
  order: number;
  lastSeq: number;
}

export function rowToRecord(row: Row): JobRecord {
  const r = JSON.parse(String(row.record)) as Record<string, unknown>;
  const job: Job = {
    id: text(r.id),
    kind: text(r.kind) as JobKind,
    state: text(r.state) as JobState,
    request: r.request as StoredImageRequest,
    priority: num(r.priority),
    requestHash: text(r.request_hash),
    attempts: (r.attempts as Record<string, unknown>[]).map(toAttempt),
    images: r.images as StoredImageRef[],
    maxAttempts: num(r.max_attempts),
    attemptDeadlineMs: num(r.attempt_timeout_ms),
    runAfter: num(r.run_after),
    createdAt: num(r.created_at),
    updatedAt: num(r.updated_at),
  };
  if (r.key_id !== null) job.keyId = text(r.key_id);
  if (r.text !== null) job.text = text(r.text);
  if (r.idempotency_key !== null) job.idempotencyKey = text(r.idempotency_key);
  if (r.error !== null) job.error = r.error as JobError;
  if (r.deadline_at !== null) job.deadlineAt = num(r.deadline_at);
  if (r.lease_worker !== null) {
    job.lease = {
      workerId: text(r.lease_worker),
      attempt: num(r.lease_attempt),
      expiresAt: num(r.lease_expires_at),
    };
  }
  if (num(r.cancel_requested) !== 0) job.cancelRequested = true;
  if (r.started_at !== null) job.startedAt = num(r.started_at);
  if (r.finished_at !== null) job.finishedAt = num(r.finished_at);
  if (r.progress !== null) job.progress = r.progress as JobProgress;
  if (r.echo !== null && r.echo !== undefined) job.echo = r.echo as JobEcho;
  return { job, order: num(r.row_order), lastSeq: num(r.last_seq) };
}

/** The `jobs` columns stored as JSON text; the others are stored as they are. */
const JSON_COLUMNS = new Set(["request", "images", "error", "progress", "echo"]);

/** Every `jobs` column the Job decides, in step with it, as stored (JSON columns as their text). */
export function jobColumns(job: Job): Record<string, string | number | null> {
  const values = jobColumnValues(job);
  const columns: Record<string, string | number | null> = {};
  for (const name in values) columns[name] = columnText(name, values[name]);
  return columns;
}

/**
 * The columns of `after` that differ from `before` (the job as read in the same transaction), as stored.
 * Compared as values, so only what changed is serialised: an index or trigger runs only when a column of
 * its is SET, and the request's JSON and the prompt's search-index trigger never change after the insert.
 */
export function changedJobColumns(before: Job, after: Job): [string, string | number | null][] {
  const old = jobColumnValues(before);
  const next = jobColumnValues(after);
  const changed: [string, string | number | null][] = [];
  for (const name in next) {
    if (!sameJson(old[name], next[name])) changed.push([name, columnText(name, next[name])]);
  }
  return changed;
}

/** The columns of `job` as values: the JSON ones still objects (the filter columns are derived here, once). */
function jobColumnValues(job: Job): Record<string, unknown> {
  const last = job.attempts.at(-1);
  return {
    kind: job.kind,
    text: job.text ?? null,
    state: job.state,
    key_id: job.keyId ?? null,
    priority: job.priority,
    idempotency_key: job.idempotencyKey ?? null,
    request_hash: job.requestHash,
    request: job.request,
    prompt: job.request.prompt,
    account: last?.account ?? null,
    backend: last?.backend ?? null,
    max_attempts: job.maxAttempts,
    attempt_count: job.attempts.length,
    attempt_timeout_ms: job.attemptDeadlineMs,
    deadline_at: job.deadlineAt ?? null,
    run_after: job.runAfter,
    lease_worker: job.lease?.workerId ?? null,
    lease_attempt: job.lease?.attempt ?? null,
    lease_expires_at: job.lease?.expiresAt ?? null,
    cancel_requested: job.cancelRequested ? 1 : 0,
    images: job.images,
    image_count: job.images.length,
    error: job.error ?? null,
    error_code: job.error?.code ?? null,
    progress: job.progress ?? null,
    created_at: job.createdAt,
    updated_at: job.updatedAt,
    started_at: job.startedAt ?? null,
    finished_at: job.finishedAt ?? null,
    echo: job.echo ?? null,
  };
}

function columnText(name: string, value: unknown): string | number | null {
  if (value === null) return null;
  return JSON_COLUMNS.has(name) ? JSON.stringify(value) : (value as string | number);
}

export function attemptStatement(jobId: string, attempt: JobAttempt): { sql: string; args: InArgs } {
  return {
    sql: `INSERT INTO job_attempts (job_id, number, worker_id, account, backend, route, upstream_ids, started_at,
        finished_at, duration_ms, error, error_code, diagnostics) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
      ON CONFLICT (job_id, number) DO UPDATE SET worker_id = excluded.worker_id, account = excluded.account,
        backend = excluded.backend, route = excluded.route, upstream_ids = excluded.upstream_ids,
        started_at = excluded.started_at, finished_at = excluded.finished_at,
        duration_ms = excluded.duration_ms, error = excluded.error, error_code = excluded.error_code,
        diagnostics = excluded.diagnostics`,
    args: [
      jobId,
      attempt.number,
      attempt.workerId,
      attempt.account ?? null,
      attempt.backend ?? null,
      attempt.route ?? null,
      JSON.stringify(attempt.upstreamIds),
      attempt.startedAt,
      attempt.finishedAt ?? null,
      attempt.durationMs ?? null,
      attempt.error === undefined ? null : JSON.stringify(attempt.error),
      attempt.error?.code ?? null,
      attempt.diagnostics === undefined ? null : JSON.stringify(attempt.diagnostics),
    ],
  };
}

export function eventStatement(
  jobId: string,
  seq: number,
  event: NewJobEvent,
): { sql: string; args: InArgs } {
  return {
    sql: "INSERT INTO job_events (job_id, seq, type, at, body) VALUES (?, ?, ?, ?, ?)",
    args: [jobId, seq, event.type, event.at, JSON.stringify(event)],
  };
}

export function rowToEvent(row: Row): JobEvent {
  return { ...json<NewJobEvent>(row.body), jobId: text(row.job_id), seq: num(row.seq) } as JobEvent;
}

function toAttempt(raw: Record<string, unknown>): JobAttempt {
  // json_object writes SQL NULL as JSON null; the Job shape leaves such fields out.
  const attempt: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(raw)) if (value !== null) attempt[key] = value;
  return attempt as unknown as JobAttempt;
}

function text(value: unknown): string {
  return String(value);
}

function num(value: unknown): number {
  return Number(value);
}

function json<T>(value: unknown): T {
  return JSON.parse(String(value)) as T;
}
