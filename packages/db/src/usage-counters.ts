import type { Transaction } from "@libsql/client";
import type { Database } from "./create-db.js";
import { createLibsqlSession, RollbackWrite } from "./libsql-session.js";

/** One counter: a scope (`key:<id>:images`) in one window (`day:2026-11-22`). */
export interface CounterRef {
  scope: string;
  window: string;
}

export interface ConsumeInput extends CounterRef {
  /** How much to add (an image count, or 1 for a request). Positive integer. */
  amount: number;
  /** The counter may not go above this. */
  limit: number;
  /** Epoch ms after which `sweepExpired` may delete the row (see the window helpers). */
  expiresAt: number;
}

export type ConsumeResult =
  | { ok: true; count: number }
  | { ok: false; count: number; limit: number; failed: ConsumeInput };

export interface UsageCounters {
  /**
   * Adds `amount` unless that would take the counter above `limit`, in one statement, so it holds
   * exactly under concurrency, across connections and across server instances sharing the database.
   */
  tryConsume(input: ConsumeInput): Promise<ConsumeResult>;
  /**
   * All or nothing over several counters (requests per minute, images per day and per month): consumed
   * in order, and what was taken is given back when a later one refuses. Never lets a counter exceed
   * its limit; under contention it may refuse a request that a perfect lock would have let through.
   */
  tryConsumeAll(inputs: readonly ConsumeInput[]): Promise<ConsumeResult>;
  /** Gives back what a failed or refused job had taken (never below 0). */
  release(ref: CounterRef & { amount: number }): Promise<void>;
  /** The current count (0 when there is no row). */
  get(ref: CounterRef): Promise<number>;
  /** Deletes rows whose window ended; returns how many. */
  sweepExpired(now: number): Promise<number>;
}

/** The guarded upsert. The SELECT's WHERE refuses a first insert above the limit; DO UPDATE's WHERE refuses the rest. */
const CONSUME_SQL = `INSERT INTO usage_counters (scope, "window", count, expires_at)
SELECT ?1, ?2, ?3, ?4 WHERE ?3 <= ?5
ON CONFLICT (scope, "window") DO UPDATE SET
  count = usage_counters.count + excluded.count,
  expires_at = max(usage_counters.expires_at, excluded.expires_at)
WHERE usage_counters.count + excluded.count <= ?5
RETURNING count`;

/** What runs statements inside an open write transaction (a libSQL `Transaction`). */
export type SqlExecutor = Pick<Transaction, "execute">;

/**
 * Takes every amount inside an open write transaction. Returns the input the guard refused (the caller
 * must then roll back: the earlier amounts were already added), else the last counter's new count.
 * `tryConsumeAll` runs it in a transaction of its own; a job insert can run it in its own (see
 * `InsertJobOptions.admit`), so the counts commit with the job or not at all.
 */
export async function consumeInTransaction(
  tx: SqlExecutor,
  inputs: readonly ConsumeInput[],
): Promise<{ failed: ConsumeInput } | { count: number }> {
  let count = 0;
  for (const input of inputs) {
    const result = await tx.execute({
      sql: CONSUME_SQL,
      args: [input.scope, input.window, input.amount, input.expiresAt, input.limit],
    });
    const row = result.rows[0];
    if (!row) return { failed: input };
    count = Number(row.count);
  }
  return { count };
}

/**
 * Gives back amounts inside an open write transaction (never below 0; a counter without a row stays
 * absent): `release` runs it in a transaction of its own, a job cancel in its own (see
 * `CancelJobOptions.release`), so what a caller who left had been counted is returned with the cancel.
 */
export async function releaseInTransaction(
  tx: SqlExecutor,
  refs: ReadonlyArray<CounterRef & { amount: number }>,
): Promise<void> {
  for (const ref of refs) {
    if (ref.amount <= 0) continue;
    await tx.execute({
      sql: `UPDATE usage_counters SET count = max(0, count - ?) WHERE scope = ? AND "window" = ?`,
      args: [ref.amount, ref.scope, ref.window],
    });
  }
}

export function createUsageCounters(database: Database): UsageCounters {
  const { client } = database;
  // Writes take the process-wide write lock and the busy-safe transaction start (see libsql-session.ts).
  const session = createLibsqlSession(database);

  async function get(ref: CounterRef): Promise<number> {
    const result = await client.execute({
      sql: `SELECT count FROM usage_counters WHERE scope = ? AND "window" = ?`,
      args: [ref.scope, ref.window],
    });
    return Number(result.rows[0]?.count ?? 0);
  }

  async function tryConsume(input: ConsumeInput): Promise<ConsumeResult> {
    if (!Number.isSafeInteger(input.amount) || input.amount < 1) {
      throw new RangeError(`amount must be a positive integer, got ${input.amount}`);
    }
    return consumeAll([input]);
  }

  /**
   * Takes every amount in one write transaction, or none: a refusal rolls back the ones already taken.
   * A busy answer repeats the whole transaction, which cannot count twice (nothing was committed).
   */
  async function consumeAll(inputs: readonly ConsumeInput[]): Promise<ConsumeResult> {
    const refused = await session.write<ConsumeInput | number>(async (tx) => {
      const outcome = await consumeInTransaction(tx, inputs);
      if ("failed" in outcome) throw new RollbackWrite(outcome.failed);
      return outcome.count;
    });
    if (typeof refused === "number") return { ok: true, count: refused };
    // The guard refused this one; the count read here is informational only.
    return { ok: false, count: await get(refused), limit: refused.limit, failed: refused };
  }

  async function release(ref: CounterRef & { amount: number }): Promise<void> {
    if (ref.amount <= 0) return;
    await session.write((tx) => releaseInTransaction(tx, [ref]));
  }

  return {
    tryConsume,
    tryConsumeAll: consumeAll,
    release,
    get,
    async sweepExpired(now) {
      const result = await session.write((tx) =>
        tx.execute({ sql: "DELETE FROM usage_counters WHERE expires_at <= ?", args: [now] }),
      );
      return result.rowsAffected;
    },
  };
}
