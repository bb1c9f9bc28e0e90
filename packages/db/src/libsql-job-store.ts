import {
  cancelChanges,
  cancelTransition,
  claimTransition,
  copyJson,
  finishTransition,
  holdsLease,
  type Job,
  type JobStore,
  type JobTransition,
  type LeaseGuard,
  overdueTransition,
  type RecoveredJob,
  type RenewedLease,
  recoverTransition,
  requeueTransition,
} from "@codex-img/core";
import type { Database } from "./create-db.js";
import { finishedJobCache } from "./finished-job-cache.js";
import { insertJob } from "./insert-job.js";
import { rowToEvent } from "./job-rows.js";
import { createLibsqlSession, RollbackWrite } from "./libsql-session.js";
import { listJobs } from "./list-jobs.js";
import { loadJob, loadJobs } from "./load-job.js";
import { saveJob } from "./save-job.js";
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
      const record = await loadJob(tx, guard.jobId);
      if (!record || !holdsLease(record.job, guard)) return undefined;
      return saveJob(tx, record, change(record.job));
    });

  return {
    insert(job, insertOptions) {
      return session.write((tx) => insertJob(tx, job, insertOptions));
    },

    async get(id) {
      const cached = finished.get(id, Date.now());
      if (cached) return cached;
      const version = finished.version;
      const job = (await session.read((client) => loadJob(client, id)))?.job;
      if (job) finished.remember(job, Date.now(), version);
      return job;
    },

    cachedFinished: (id) => finished.peek(id, Date.now()),

    list(query) {
      return listJobs(session, query);
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
        const record = await loadJob(tx, String(id));
        if (!record) throw new RollbackWrite(undefined);
        // The row is already ours; the shared transition adds the attempt, `startedAt` and the event.
        const { lease: _taken, ...queued } = record.job;
        const job = await saveJob(tx, record, claimTransition({ ...queued, state: "queued" }, claimOptions));
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
        const record = await loadJob(tx, id);
        if (!record) return undefined;
        const transition = cancelTransition(record.job, now);
        if (!cancelChanges(record.job, transition)) return record.job;
        // Counts given back commit with the cancel or not at all (see `CancelJobOptions.release`).
        await cancelOptions.release?.(tx, copyJson(transition.job));
        return saveJob(tx, record, transition);
      });
    },

    async recoverExpiredLeases(now, recoverOptions = {}) {
      if (!(await exists("state = 'running' AND lease_expires_at <= ?", [now]))) return [];
      return session.write(async (tx) => {
        const expired = await loadJobs(tx, "j.state = 'running' AND j.lease_expires_at <= ?", [now]);
        if (expired.length === 0) throw new RollbackWrite([]);
        const changed: RecoveredJob[] = [];
        for (const record of expired) {
          const { outcome, ...transition } = recoverTransition(record.job, now, recoverOptions.retryDelayMs);
          changed.push({ job: await saveJob(tx, record, transition), outcome });
        }
        return changed;
      });
    },

    async failOverdue(now) {
      if (!(await exists("state = 'queued' AND deadline_at <= ?", [now]))) return [];
      return session.write(async (tx) => {
        const overdue = await loadJobs(tx, "j.state = 'queued' AND j.deadline_at <= ?", [now]);
        if (overdue.length === 0) throw new RollbackWrite([]);
        const changed: Job[] = [];
        for (const record of overdue)
          changed.push(await saveJob(tx, record, overdueTransition(record.job, now)));
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
