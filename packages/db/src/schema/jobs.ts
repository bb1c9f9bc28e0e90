import type { JobEcho, JobError, JobProgress, StoredImageRef, StoredImageRequest } from "@codex-img/core";
import { sql } from "drizzle-orm";
import { index, integer, primaryKey, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";

/**
 * One row per request: the history and the durable queue at once. No foreign key to api_keys: deleting a
 * key must keep its history (the predecessor failed there), so the key's name is copied in.
 * Scalars that queries filter on (state, key, account, prompt, times) are columns; the rest is JSON.
 */
export const jobs = sqliteTable(
  "jobs",
  {
    /**
     * Insertion order and the rowid (an explicit INTEGER PRIMARY KEY, so VACUUM and `VACUUM INTO` backups
     * keep it): claims break ties on it, history pages on it, and the FTS5 index `jobs_fts` links by it.
     */
    seq: integer("seq").primaryKey(),
    id: text("id").notNull().unique(),
    /** `image` or `vision` (a question about images, answered in `text`). */
    kind: text("kind", { enum: ["image", "vision"] })
      .notNull()
      .default("image"),
    state: text("state", {
      enum: ["queued", "running", "succeeded", "failed", "canceled", "expired"],
    }).notNull(),
    keyId: text("key_id"),
    keyName: text("key_name"),
    priority: integer("priority").notNull().default(0),
    idempotencyKey: text("idempotency_key"),
    requestHash: text("request_hash").notNull(),
    request: text("request", { mode: "json" }).$type<StoredImageRequest>().notNull(),
    /** Copied from the request for search (FTS5 table `jobs_fts`). */
    prompt: text("prompt").notNull(),
    /** Labels of the accounts that served the last attempt (comma-separated), for filters. */
    account: text("account"),
    backend: text("backend"),
    maxAttempts: integer("max_attempts").notNull(),
    attemptCount: integer("attempt_count").notNull().default(0),
    attemptTimeoutMs: integer("attempt_timeout_ms").notNull(),
    /** Epoch ms: the whole job's deadline. */
    deadlineAt: integer("deadline_at"),
    /** Epoch ms before which the job is not claimed (backoff). */
    runAfter: integer("run_after").notNull(),
    leaseWorker: text("lease_worker"),
    leaseAttempt: integer("lease_attempt"),
    leaseExpiresAt: integer("lease_expires_at"),
    cancelRequested: integer("cancel_requested", { mode: "boolean" }).notNull().default(false),
    images: text("images", { mode: "json" }).$type<StoredImageRef[]>().notNull(),
    imageCount: integer("image_count").notNull().default(0),
    /** A vision job's answer. */
    text: text("text"),
    error: text("error", { mode: "json" }).$type<JobError>(),
    errorCode: text("error_code"),
    progress: text("progress", { mode: "json" }).$type<JobProgress>(),
    /** Last event sequence number given out for this job. */
    lastSeq: integer("last_seq").notNull().default(0),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
    startedAt: integer("started_at"),
    finishedAt: integer("finished_at"),
    /** Epoch ms when the images expire (retention). */
    expiresAt: integer("expires_at"),
    /** Where the row came from: `queue` or `legacy-import`. */
    origin: text("origin").notNull().default("queue"),
    /** What the API the job came through answers back about it (the Responses API's model, tools, store…). */
    echo: text("echo", { mode: "json" }).$type<JobEcho>(),
  },
  (t) => [
    // Claim: the best queued job (priority, then age) whose backoff has passed.
    index("jobs_claim").on(t.state, t.priority, t.createdAt),
    index("jobs_lease").on(t.state, t.leaseExpiresAt),
    uniqueIndex("jobs_idempotency").on(t.keyId, t.idempotencyKey).where(sql`${t.idempotencyKey} IS NOT NULL`),
    // History pages: newest first, optionally by key, state or account.
    index("jobs_created").on(t.createdAt),
    index("jobs_key_created").on(t.keyId, t.createdAt),
    index("jobs_state_created").on(t.state, t.createdAt),
    index("jobs_account_created").on(t.account, t.createdAt),
    // History pages filtered by state and key or account: without these a rare state (running, failed)
    // under one key or account scans that key's or account's whole history.
    index("jobs_key_state_created").on(t.keyId, t.state, t.createdAt),
    index("jobs_account_state_created").on(t.account, t.state, t.createdAt),
    index("jobs_expires").on(t.expiresAt),
    // History filtered by kind (vision answers among many images).
    index("jobs_kind_created").on(t.kind, t.createdAt),
    // Retention: the oldest finished jobs first.
    index("jobs_finished").on(t.finishedAt),
  ],
);

/** Every attempt of a job: worker, account, backend, route, upstream ids, timings, error. */
export const jobAttempts = sqliteTable(
  "job_attempts",
  {
    jobId: text("job_id").notNull(),
    number: integer("number").notNull(),
    workerId: text("worker_id").notNull(),
    account: text("account"),
    backend: text("backend"),
    route: text("route"),
    upstreamIds: text("upstream_ids", { mode: "json" }).$type<Record<string, string>>().notNull(),
    startedAt: integer("started_at").notNull(),
    finishedAt: integer("finished_at"),
    durationMs: integer("duration_ms"),
    error: text("error", { mode: "json" }).$type<JobError>(),
    errorCode: text("error_code"),
    /** The backend's diagnostics (the CLI's stdout and stderr tails, redacted), JSON. */
    diagnostics: text("diagnostics", { mode: "json" }).$type<Record<string, string>>(),
  },
  (t) => [
    primaryKey({ columns: [t.jobId, t.number] }),
    index("job_attempts_account").on(t.account, t.startedAt),
  ],
);

/** The event log of each job (`seq` per job, from 1), replayed to subscribers that resume. */
export const jobEvents = sqliteTable(
  "job_events",
  {
    jobId: text("job_id").notNull(),
    seq: integer("seq").notNull(),
    type: text("type").notNull(),
    at: integer("at").notNull(),
    /** The whole event as JSON. */
    body: text("body", { mode: "json" }).$type<Record<string, unknown>>().notNull(),
  },
  (t) => [primaryKey({ columns: [t.jobId, t.seq] })],
);
