import {
  CodexImgError,
  copyJson,
  type InsertJobOptions,
  type InsertJobResult,
  type Job,
  queuedEvent,
} from "@codex-img/core";
import type { InStatement, Transaction } from "@libsql/client";
import { attemptStatement, eventStatement, JOB_SELECT, jobColumns, rowToRecord } from "./job-rows.js";

/**
 * `JobStore.insert` inside an open write transaction: the job already stored under the same idempotency
 * key when there is one (refused if its request differs), else the new row with its `queued` event, after
 * the queue limit and the caller's `admit` (whose writes commit with the insert or not at all).
 */
export async function insertJob(
  tx: Transaction,
  job: Job,
  options: InsertJobOptions = {},
): Promise<InsertJobResult> {
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
          {
            details: { param: "idempotency_key" },
          },
        );
      }
      return { job: found, created: false };
    }
  }
  if ((await tx.execute({ sql: "SELECT 1 FROM jobs WHERE id = ?", args: [job.id] })).rows.length > 0) {
    throw new CodexImgError("internal", `Job ${job.id} already exists.`);
  }
  if (options.maxQueued !== undefined) {
    const queued = await countQueued(tx);
    if (queued >= options.maxQueued) {
      throw new CodexImgError("queue_full", "The queue is full.", {
        details: { queued, maxQueued: options.maxQueued },
      });
    }
  }
  await options.admit?.(tx, copyJson(job));
  const stored = copyJson(job);
  const columns = jobColumns(stored);
  const names = Object.keys(columns);
  const statements: InStatement[] = [
    {
      // The key's name is copied in so the history still says whose job it was after the key is gone.
      sql: `INSERT INTO jobs (id, ${names.join(", ")}, last_seq, key_name)
        VALUES (?, ${names.map(() => "?").join(", ")}, 1, (SELECT name FROM api_keys WHERE id = ?))`,
      args: [stored.id, ...Object.values(columns), stored.keyId ?? null],
    },
    ...stored.attempts.map((attempt) => attemptStatement(stored.id, attempt)),
    eventStatement(stored.id, 1, queuedEvent(stored)),
  ];
  await tx.batch(statements);
  return { job: stored, created: true };
}

async function countQueued(tx: Transaction): Promise<number> {
  const result = await tx.execute("SELECT count(*) AS n FROM jobs WHERE state = 'queued'");
  return Number(result.rows[0]?.n ?? 0);
}
