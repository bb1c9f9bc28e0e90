import type { Job, QuotaSnapshot } from "@codex-img/core";
import type { InStatement } from "@libsql/client";
import type { Database } from "./create-db.js";
import { createLibsqlSession } from "./libsql-session.js";
import { utcDay } from "./usage-windows.js";

export interface JobOutcomeInput {
  /** UTC `YYYY-MM-DD` (see `utcDay`). */
  day: string;
  /** Absent for jobs without a key (admin playground). */
  keyId?: string | null;
  /** Absent for backends without accounts (demo, openai). */
  account?: string | null;
  succeeded: boolean;
  /** Images delivered (0 for a failure). */
  images: number;
}

export interface UsageTotals {
  requests: number;
  succeeded: number;
  failed: number;
  images: number;
}

export interface DailyUsage extends UsageTotals {
  day: string;
}

/** What an account did in a rolling window, read from the jobs themselves. */
export interface AccountActivity {
  /** Images of jobs that succeeded (their files may have expired since). */
  images: number;
  succeeded: number;
  failed: number;
}

export interface DayRange {
  /** First day, inclusive, `YYYY-MM-DD`. */
  fromDay: string;
  /** Last day, inclusive; default today (UTC). */
  toDay?: string;
}

export interface AccountUsage {
  /** Keeps the newest snapshot per account: an older `observedAt` than the stored one is ignored. */
  saveQuotaSnapshot(label: string, snapshot: QuotaSnapshot): Promise<void>;
  loadQuotaSnapshot(label: string): Promise<QuotaSnapshot | undefined>;
  /** Every account's stored snapshot, by label (restored into the account pool at start). */
  loadQuotaSnapshots(): Promise<Record<string, QuotaSnapshot>>;
  /** Adds one finished job to `usage_daily` (one upsert). Call once per job, when it reaches a final state. */
  recordJobOutcome(input: JobOutcomeInput): Promise<void>;
  /** Totals per account over a range of days (the 30-day figures of an account card). `''` = no account. */
  usageByAccount(range: DayRange): Promise<Record<string, UsageTotals>>;
  /** Totals per key over a range of days. `''` = no key. */
  usageByKey(range: DayRange): Promise<Record<string, UsageTotals>>;
  /** One entry per day of the range, zeros included (the 7-day chart), optionally for one account or key. */
  usageByDay(range: DayRange & { account?: string; keyId?: string }): Promise<DailyUsage[]>;
  /**
   * Per account, jobs finished in `[since, until)` (epoch ms): images in the last 5/24/48 h, the 24 h
   * success rate, the usage wall. Read from `jobs` (rolling windows do not fit day counters).
   */
  accountActivity(window: { since: number; until?: number }): Promise<Record<string, AccountActivity>>;
}

/**
 * Jobs are found through the `created_at` index; a job finishing inside the window started at most this
 * long before it (attempt deadlines and retries are far shorter), so older rows need not be read.
 */
const MAX_JOB_SPAN_MS = 24 * 3_600_000;

export function createAccountUsage(database: Database): AccountUsage {
  const { client } = database;
  const session = createLibsqlSession(database);

  async function totalsBy(
    column: "account" | "key_id",
    range: DayRange,
  ): Promise<Record<string, UsageTotals>> {
    const result = await client.execute({
      sql: `SELECT ${column} AS name, sum(requests) AS requests, sum(succeeded) AS succeeded,
              sum(failed) AS failed, sum(images) AS images
            FROM usage_daily WHERE day >= ? AND day <= ? GROUP BY ${column}`,
      args: [range.fromDay, range.toDay ?? utcDay(Date.now())],
    });
    const out: Record<string, UsageTotals> = {};
    for (const row of result.rows) out[String(row.name)] = totals(row);
    return out;
  }

  return {
    async saveQuotaSnapshot(label, snapshot) {
      await session.write((tx) =>
        tx.execute({
          sql: `INSERT INTO account_quota (label, observed_at, primary_used_percent, primary_window_minutes,
                primary_resets_at, secondary_used_percent, secondary_window_minutes, secondary_resets_at,
                plan_type, snapshot)
              VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
              ON CONFLICT (label) DO UPDATE SET observed_at = excluded.observed_at,
                primary_used_percent = excluded.primary_used_percent,
                primary_window_minutes = excluded.primary_window_minutes,
                primary_resets_at = excluded.primary_resets_at,
                secondary_used_percent = excluded.secondary_used_percent,
                secondary_window_minutes = excluded.secondary_window_minutes,
                secondary_resets_at = excluded.secondary_resets_at,
                plan_type = excluded.plan_type, snapshot = excluded.snapshot
              WHERE excluded.observed_at >= account_quota.observed_at`,
          args: [
            label,
            snapshot.observedAt,
            roundOrNull(snapshot.primary?.usedPercent),
            snapshot.primary?.windowMinutes ?? null,
            snapshot.primary?.resetsAt ?? null,
            roundOrNull(snapshot.secondary?.usedPercent),
            snapshot.secondary?.windowMinutes ?? null,
            snapshot.secondary?.resetsAt ?? null,
            snapshot.planType ?? null,
            JSON.stringify(snapshot),
          ],
        }),
      );
    },

    async loadQuotaSnapshot(label) {
      const result = await client.execute({
        sql: "SELECT snapshot FROM account_quota WHERE label = ?",
        args: [label],
      });
      const row = result.rows[0];
      return row ? (JSON.parse(String(row.snapshot)) as QuotaSnapshot) : undefined;
    },

    async loadQuotaSnapshots() {
      const result = await client.execute("SELECT label, snapshot FROM account_quota ORDER BY label");
      const out: Record<string, QuotaSnapshot> = {};
      for (const row of result.rows)
        out[String(row.label)] = JSON.parse(String(row.snapshot)) as QuotaSnapshot;
      return out;
    },

    async recordJobOutcome(input) {
      const ok = input.succeeded ? 1 : 0;
      await session.write((tx) =>
        tx.execute(
          usageDailyUpsert(input.day, input.keyId ?? "", input.account ?? "", {
            requests: 1,
            succeeded: ok,
            failed: 1 - ok,
            images: Math.max(0, Math.trunc(input.images)),
          }),
        ),
      );
    },

    usageByAccount: (range) => totalsBy("account", range),
    usageByKey: (range) => totalsBy("key_id", range),

    async usageByDay(range) {
      const toDay = range.toDay ?? utcDay(Date.now());
      const where = ["day >= ?", "day <= ?"];
      const args: string[] = [range.fromDay, toDay];
      if (range.account !== undefined) {
        where.push("account = ?");
        args.push(range.account);
      }
      if (range.keyId !== undefined) {
        where.push("key_id = ?");
        args.push(range.keyId);
      }
      const result = await client.execute({
        sql: `SELECT day, sum(requests) AS requests, sum(succeeded) AS succeeded, sum(failed) AS failed,
                sum(images) AS images
              FROM usage_daily WHERE ${where.join(" AND ")} GROUP BY day`,
        args,
      });
      const byDay = new Map(result.rows.map((row) => [String(row.day), totals(row)]));
      const out: DailyUsage[] = [];
      for (let t = Date.parse(`${range.fromDay}T00:00:00Z`); utcDay(t) <= toDay; t += 86_400_000) {
        const day = utcDay(t);
        out.push({ day, ...(byDay.get(day) ?? { requests: 0, succeeded: 0, failed: 0, images: 0 }) });
      }
      return out;
    },

    async accountActivity(window) {
      const until = window.until ?? Number.MAX_SAFE_INTEGER;
      const result = await client.execute({
        sql: `SELECT account,
                sum(CASE WHEN state IN ('succeeded', 'expired') THEN image_count ELSE 0 END) AS images,
                sum(state IN ('succeeded', 'expired')) AS succeeded,
                sum(state = 'failed') AS failed
              FROM jobs
              WHERE created_at >= ? AND created_at < ? AND finished_at >= ? AND finished_at < ?
                AND account IS NOT NULL AND account <> ''
              GROUP BY account`,
        args: [window.since - MAX_JOB_SPAN_MS, until, window.since, until],
      });
      const out: Record<string, AccountActivity> = {};
      for (const row of result.rows) {
        // A job served by several accounts lists them comma-separated; its counts are shared out.
        const labels = String(row.account)
          .split(",")
          .map((l) => l.trim())
          .filter(Boolean);
        const images = Number(row.images ?? 0);
        labels.forEach((label, i) => {
          const share = Math.floor(images / labels.length) + (i < images % labels.length ? 1 : 0);
          const entry = out[label] ?? { images: 0, succeeded: 0, failed: 0 };
          entry.images += share;
          entry.succeeded += Number(row.succeeded ?? 0);
          entry.failed += Number(row.failed ?? 0);
          out[label] = entry;
        });
      }
      return out;
    },
  };
}

function totals(row: Record<string, unknown>): UsageTotals {
  return {
    requests: Number(row.requests ?? 0),
    succeeded: Number(row.succeeded ?? 0),
    failed: Number(row.failed ?? 0),
    images: Number(row.images ?? 0),
  };
}

function roundOrNull(value: number | undefined): number | null {
  return value === undefined ? null : Math.round(value);
}

/** Adds `totals` to one `usage_daily` row. */
function usageDailyUpsert(day: string, keyId: string, account: string, totals: UsageTotals): InStatement {
  return {
    sql: `INSERT INTO usage_daily (day, key_id, account, requests, succeeded, failed, images)
        VALUES (?, ?, ?, ?, ?, ?, ?)
        ON CONFLICT (day, key_id, account) DO UPDATE SET requests = requests + excluded.requests,
          succeeded = succeeded + excluded.succeeded, failed = failed + excluded.failed,
          images = images + excluded.images`,
    args: [day, keyId, account, totals.requests, totals.succeeded, totals.failed, totals.images],
  };
}

/**
 * The `usage_daily` rows of a job that just reached a final state, for the job store to write in the same
 * transaction as the state change (so a crash can neither lose nor double them). The UTC day it finished;
 * a job served by several accounts (n > 1) gives each its share of the images, and its one request (and
 * success or failure) goes to the first, so sums over accounts or keys stay exact. A canceled job counts
 * as a request, neither succeeded nor failed.
 */
export function jobOutcomeStatements(job: Job): InStatement[] {
  const day = utcDay(job.finishedAt ?? job.updatedAt);
  const keyId = job.keyId ?? "";
  const labels = (job.attempts.at(-1)?.account ?? "")
    .split(",")
    .map((label) => label.trim())
    .filter(Boolean);
  const accounts = labels.length > 0 ? labels : [""];
  const succeeded = job.state === "succeeded" ? 1 : 0;
  const failed = job.state === "failed" ? 1 : 0;
  const images = succeeded ? job.images.length : 0;
  return accounts.map((account, i) => {
    const share = Math.floor(images / accounts.length) + (i < images % accounts.length ? 1 : 0);
    const first = i === 0 ? 1 : 0;
    return usageDailyUpsert(day, keyId, account, {
      requests: first,
      succeeded: succeeded * first,
      failed: failed * first,
      images: share,
    });
  });
}
