import {
  CodexImgError,
  cancelChanges,
  cancelTransition,
  claimTransition,
  copyJson,
  finishTransition,
  holdsLease,
  isTerminalJobState,
  type Job,
  type JobPage,
  type JobStore,
  type JobTransition,
  type LeaseGuard,
  overdueTransition,
  queuedEvent,
  type RecoveredJob,
  type RenewedLease,
  recoverTransition,
  requeueTransition,
} from "@codex-img/core";
import type { InStatement, Transaction } from "@libsql/client";
import { jobOutcomeStatements } from "./account-usage.js";
import type { Database } from "./create-db.js";
import { finishedJobCache } from "./finished-job-cache.js";
import {
  attemptStatement,
  eventStatement,
  JOB_SELECT,
  type JobRecord,
  jobColumns,
  rowToEvent,
  rowToRecord,
} from "./job-rows.js";
import { createLibsqlSession, RollbackWrite } from "./libsql-session.js";
import type { BusyRetryOptions } from "./with-busy-retry.js";

export interface LibsqlJobStoreOptions {
  /** How long writes wait out a database locked by another process. Defaults of `withBusyRetry`. */
  busy?: BusyRetryOptions;
}

/**
 * The durable `JobStore`: jobs, attempts and events in libSQL (a local file, Turso or a replica). Each
 * method is one write transaction (`BEGIN IMMEDIATE`) that reads the rows, applies the shared transition
 * from core and writes the row, the changed attempts and the new events together, so a crash at any point
 * leaves either all of a step or none of it. Claiming is one `UPDATE … RETURNING` that picks and takes the
 * row, so two processes on one file can never both win a job.
 */
export function createLibsqlJobStore(database: Database, options: LibsqlJobStoreOptions = {}): JobStore {
  const session = createLibsqlSession(database, options.busy);
  // Finished jobs are read far more often than they change (clients poll for results).
  const finished = finishedJobCache(database.client);

  const load = async (tx: Transaction, id: string): Promise<JobRecord | undefined> => {
    const result = await tx.execute({ sql: `${JOB_SELECT} WHERE j.id = ?`, args: [id] });
    const row = result.rows[0];
    return row ? rowToRecord(row) : undefined;
  };

  const loadMany = async (
    tx: Transaction,
    where: string,
    args: (string | number)[],
  ): Promise<JobRecord[]> => {
    const result = await tx.execute({ sql: `${JOB_SELECT} WHERE ${where} ORDER BY j.rowid`, args });
    return result.rows.map(rowToRecord);
  };

  /** Writes `transition` over `record` in the open transaction; returns the job as stored. */
  const save = async (tx: Transaction, record: JobRecord, transition: JobTransition): Promise<Job> => {
    const { job } = transition;
    // Only the columns that changed: an index or trigger is touched only when a column of its is SET, and
    // the prompt's search-index trigger and the request's JSON never change after the insert.
    const before = jobColumns(record.job);
    const changed = Object.entries(jobColumns(job)).filter(([name, value]) => before[name] !== value);
    const lastSeq = record.lastSeq + transition.events.length;
    const statements: InStatement[] = [
      {
        sql: `UPDATE jobs SET ${changed.map(([name]) => `${name} = ?, `).join("")}last_seq = ? WHERE id = ?`,
        args: [...changed.map(([, value]) => value), lastSeq, job.id],
      },
    ];
    // Only the newest attempt ever changes, but comparing all keeps this honest if that rule moves.
    job.attempts.forEach((attempt, i) => {
      const before = record.job.attempts[i];
      if (!before || JSON.stringify(before) !== JSON.stringify(attempt)) {
        statements.push(attemptStatement(job.id, attempt));
      }
    });
    transition.events.forEach((event, i) => {
      statements.push(eventStatement(job.id, record.lastSeq + i + 1, event));
    });
    // Usage per day, key and account counts each job once, as it ends (`expired` later is not an outcome).
    if (!isTerminalJobState(record.job.state) && isTerminalJobState(job.state)) {
      statements.push(...jobOutcomeStatements(job));
    }
    await tx.batch(statements);
    record.job = copyJson(job);
    record.lastSeq = lastSeq;
    return job;
  };

  /**
   * Whether a job matches `where`, as a read: the claim loop and recovery ask this first, so an idle
   * queue costs reads, never a write transaction or the file's write lock.
   */
  const exists = async (where: string, args: (string | number)[]): Promise<boolean> => {
    const found = await session.read((client) =>
      client.execute({ sql: `SELECT 1 FROM jobs WHERE ${where} LIMIT 1`, args }),
    );
    return found.rows.length > 0;
  };

  /** Loads the job under the lease guard, applies `change`, saves. Undefined when the guard lost the lease. */
  const leased = (guard: LeaseGuard, change: (job: Job) => JobTransition): Promise<Job | undefined> =>
    session.write(async (tx) => {
      const record = await load(tx, guard.jobId);
      if (!record || !holdsLease(record.job, guard)) return undefined;
      return save(tx, record, change(record.job));
    });

  return {
    insert(job, insertOptions = {}) {
      return session.write(async (tx) => {
        if (job.idempotencyKey !== undefined) {
          // `IS` so a job without a key matches other keyless jobs, as the scope "no key" is one scope.
          const existing = await tx.execute({
            sql: `${JOB_SELECT} WHERE j.key_id IS ? AND j.idempotency_key = ?`,
            args: [job.keyId ?? null, job.idempotencyKey],
          });
          const row = existing.rows[0];
          if (row) {
            const { job: found } = rowToRecord(row);
            if (found.requestHash !== job.requestHash) {
              throw new CodexImgError(
                "invalid_request",
                "This idempotency key was already used with a different request.",
                { details: { param: "idempotency_key" } },
              );
            }
            return { job: found, created: false };
          }
        }
        if ((await tx.execute({ sql: "SELECT 1 FROM jobs WHERE id = ?", args: [job.id] })).rows.length > 0) {
          throw new CodexImgError("internal", `Job ${job.id} already exists.`);
        }
        if (insertOptions.maxQueued !== undefined) {
          const queued = await countQueued(tx);
          if (queued >= insertOptions.maxQueued) {
            throw new CodexImgError("queue_full", "The queue is full.", {
              details: { queued, maxQueued: insertOptions.maxQueued },
            });
          }
        }
        await insertOptions.admit?.(tx, copyJson(job));
        const stored = copyJson(job);
        const columns = jobColumns(stored);
        const names = Object.keys(columns);
        const event = queuedEvent(stored);
        const statements: InStatement[] = [
          {
            // The key's name is copied in so the history still says whose job it was after the key is gone.
            sql: `INSERT INTO jobs (id, ${names.join(", ")}, last_seq, key_name)
              VALUES (?, ${names.map(() => "?").join(", ")}, 1, (SELECT name FROM api_keys WHERE id = ?))`,
            args: [stored.id, ...Object.values(columns), stored.keyId ?? null],
          },
          ...stored.attempts.map((attempt) => attemptStatement(stored.id, attempt)),
          eventStatement(stored.id, 1, event),
        ];
        await tx.batch(statements);
        return { job: stored, created: true };
      });
    },

    async get(id) {
      const cached = finished.get(id, Date.now());
      if (cached) return cached;
      const version = finished.version;
      const job = await session.read(async (client) => {
        const row = (await client.execute({ sql: `${JOB_SELECT} WHERE j.id = ?`, args: [id] })).rows[0];
        return row ? rowToRecord(row).job : undefined;
      });
      if (job) finished.remember(job, Date.now(), version);
      return job;
    },

    cachedFinished: (id) => finished.peek(id, Date.now()),

    async list(query): Promise<JobPage> {
      const where: string[] = [];
      const args: (string | number)[] = [];
      if (query.keyId !== undefined) {
        where.push("j.key_id = ?");
        args.push(query.keyId);
      }
      if (query.state !== undefined) {
        const states = ([] as string[]).concat(query.state);
        if (states.length === 0) return { jobs: [] };
        where.push(`j.state IN (${states.map(() => "?").join(", ")})`);
        args.push(...states);
      }
      const after = decodeCursor(query.cursor);
      if (after) {
        where.push("(j.created_at < ? OR (j.created_at = ? AND j.rowid < ?))");
        args.push(after.createdAt, after.createdAt, after.order);
      }
      const limit = Math.max(1, Math.floor(query.limit));
      const sql = `${JOB_SELECT} ${where.length ? `WHERE ${where.join(" AND ")}` : ""}
        ORDER BY j.created_at DESC, j.rowid DESC LIMIT ?`;
      return session.read(async (client) => {
        const records = (await client.execute({ sql, args: [...args, limit + 1] })).rows.map(rowToRecord);
        const page = records.slice(0, limit);
        const last = page.at(-1);
        return {
          jobs: page.map((r) => r.job),
          ...(records.length > limit && last ? { nextCursor: encodeCursor(last) } : {}),
        };
      });
    },

    countActive() {
      return session.read(async (client) => {
        const result = await client.execute("SELECT count(*) AS n FROM jobs WHERE state = 'queued'");
        return Number(result.rows[0]?.n ?? 0);
      });
    },

    async claim(claimOptions) {
      const { workerId, now, leaseMs } = claimOptions;
      const ready = { where: CLAIMABLE, args: [now, now] };
      if (!(await exists(ready.where, ready.args))) return undefined;
      return session.write(async (tx) => {
        // The one statement that decides who gets the job: pick and take in a single UPDATE, so no reader
        // between a SELECT and an UPDATE can exist, whatever the transaction mode of another writer.
        const taken = await tx.execute({
          sql: `UPDATE jobs SET state = 'running', lease_worker = ?, lease_attempt = attempt_count + 1,
              lease_expires_at = ?, updated_at = ?
            WHERE rowid = (
              SELECT rowid FROM jobs WHERE ${ready.where}
              ORDER BY priority DESC, created_at, rowid LIMIT 1)
              AND state = 'queued'
            RETURNING id`,
          args: [workerId, now + leaseMs, now, ...ready.args],
        });
        const id = taken.rows[0]?.id;
        // Another worker took it since the read: nothing was written, nothing to commit.
        if (id === undefined || id === null) throw new RollbackWrite(undefined);
        const record = await load(tx, String(id));
        if (!record) throw new RollbackWrite(undefined);
        // The row is already ours; the shared transition adds the attempt, `startedAt` and the event.
        const { lease: _taken, ...queued } = record.job;
        const job = await save(tx, record, claimTransition({ ...queued, state: "queued" }, claimOptions));
        return { job, lastSeq: record.lastSeq };
      });
    },

    async renewLeases(guards, now, leaseMs) {
      if (guards.length === 0) return [];
      // Only the lease columns change (`heartbeatTransition` in SQL), so no job is read or rewritten.
      return session.write(async (tx) => {
        const renewed: RenewedLease[] = [];
        for (const guard of guards) {
          const result = await tx.execute({
            sql: `UPDATE jobs SET lease_expires_at = ?, updated_at = ?
              WHERE id = ? AND state = 'running' AND lease_worker = ? AND lease_attempt = ?
              RETURNING cancel_requested`,
            args: [now + leaseMs, now, guard.jobId, guard.workerId, guard.attempt],
          });
          const row = result.rows[0];
          if (row) renewed.push({ jobId: guard.jobId, cancelRequested: Number(row.cancel_requested) !== 0 });
        }
        return renewed;
      });
    },

    async finish(guard, outcome) {
      const version = finished.version;
      const job = await leased(guard, (current) => finishTransition(current, outcome));
      // A synchronous caller reads the finished job next: from memory, not from the file.
      if (job) finished.remember(job, Date.now(), version);
      return job;
    },

    requeue(guard, retry) {
      return leased(guard, (job) => requeueTransition(job, retry));
    },

    requestCancel(id, now, cancelOptions = {}) {
      return session.write(async (tx) => {
        const record = await load(tx, id);
        if (!record) return undefined;
        const transition = cancelTransition(record.job, now);
        if (!cancelChanges(record.job, transition)) return record.job;
        // Counts given back commit with the cancel or not at all (see `CancelJobOptions.release`).
        await cancelOptions.release?.(tx, copyJson(transition.job));
        return save(tx, record, transition);
      });
    },

    async recoverExpiredLeases(now, recoverOptions = {}) {
      if (!(await exists("state = 'running' AND lease_expires_at <= ?", [now]))) return [];
      return session.write(async (tx) => {
        const expired = await loadMany(tx, "j.state = 'running' AND j.lease_expires_at <= ?", [now]);
        if (expired.length === 0) throw new RollbackWrite([]);
        const changed: RecoveredJob[] = [];
        for (const record of expired) {
          const { outcome, ...transition } = recoverTransition(record.job, now, recoverOptions.retryDelayMs);
          changed.push({ job: await save(tx, record, transition), outcome });
        }
        return changed;
      });
    },

    async failOverdue(now) {
      if (!(await exists("state = 'queued' AND deadline_at <= ?", [now]))) return [];
      return session.write(async (tx) => {
        const overdue = await loadMany(tx, "j.state = 'queued' AND j.deadline_at <= ?", [now]);
        if (overdue.length === 0) throw new RollbackWrite([]);
        const changed: Job[] = [];
        for (const record of overdue)
          changed.push(await save(tx, record, overdueTransition(record.job, now)));
        return changed;
      });
    },

    readEvents(jobId, afterSeq = 0, limit) {
      return session.read(async (client) => {
        const result = await client.execute({
          sql: "SELECT job_id, seq, body FROM job_events WHERE job_id = ? AND seq > ? ORDER BY seq LIMIT ?",
          args: [jobId, afterSeq, limit ?? -1],
        });
        return result.rows.map(rowToEvent);
      });
    },

    delete(id) {
      finished.forget(id);
      return session
        .write(async (tx) => {
          const [, , removed] = await tx.batch([
            { sql: "DELETE FROM job_events WHERE job_id = ?", args: [id] },
            { sql: "DELETE FROM job_attempts WHERE job_id = ?", args: [id] },
            { sql: "DELETE FROM jobs WHERE id = ?", args: [id] },
          ]);
          return (removed?.rowsAffected ?? 0) > 0;
        })
        .finally(() => finished.forget(id));
    },
  };
}

/** A `queued` job that may be claimed at `?1 = ?2 = now` (`isClaimable` in core, in SQL). */
const CLAIMABLE = `state = 'queued' AND run_after <= ? AND (deadline_at IS NULL OR deadline_at > ?)
  AND cancel_requested = 0`;

async function countQueued(tx: Transaction): Promise<number> {
  const result = await tx.execute("SELECT count(*) AS n FROM jobs WHERE state = 'queued'");
  return Number(result.rows[0]?.n ?? 0);
}

function encodeCursor(record: JobRecord): string {
  return `${record.job.createdAt}.${record.order}`;
}

function decodeCursor(cursor: string | undefined): { createdAt: number; order: number } | undefined {
  if (cursor === undefined) return undefined;
  const [createdAt, order, extra] = cursor.split(".").map(Number);
  if (!Number.isSafeInteger(createdAt) || !Number.isSafeInteger(order) || extra !== undefined) {
    throw new CodexImgError("invalid_request", "Unknown cursor.", { details: { param: "cursor" } });
  }
  return { createdAt: createdAt as number, order: order as number };
}
