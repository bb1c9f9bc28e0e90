import { CodexImgError, type Job } from "@codex-img/core";
import {
  type ApiKeyRecord,
  type ConsumeInput,
  consumeInTransaction,
  dayWindow,
  keyCounterScope,
  minuteWindow,
  monthWindow,
  releaseInTransaction,
  type SqlExecutor,
  type UsageWindow,
  utcDay,
  withBusyRetry,
} from "@codex-img/db";
import type { ApiServices } from "../services.js";
import type { KeyUsageView } from "./admin-views.js";

/** Why a key's limit refused a request; in `CodexImgError.details.reason`. */
export type LimitRefusalReason =
  | "rate_per_minute"
  | "images_per_day"
  | "images_per_month"
  | "vision_per_day"
  | "vision_per_month"
  | "max_concurrent_jobs";

type WindowReason = Exclude<LimitRefusalReason, "max_concurrent_jobs">;

/**
 * A key's limits as the admission check of its job insert (`EnqueueOptions.admit`): it runs inside the
 * job store's write transaction, after the idempotency and queue checks, so a request is counted if and
 * only if its job is created, exactly, across connections, processes and instances (SQLite has one
 * writer), and nothing is left counted when the process dies halfway.
 *
 * - Max concurrent jobs: the key's queued and running jobs, counted in that transaction.
 * - Requests per minute (1 per call) and images per day and per month (`n` each): guarded upserts of
 *   the usage counters (`consumeInTransaction`), all or nothing. A vision job (a question about images)
 *   counts 1 against vision per day and per month instead of images.
 *
 * Once a job exists its images stay counted even if it fails or is canceled: the quota bounds what a key
 * may ask for, the work upstream was usually already attempted, and a cancel-and-retry loop must not make
 * it unlimited. One exception, `release`: a synchronous caller gone before its reply (no
 * `Idempotency-Key`) never gets the result, so the cancel that follows gives back exactly what `admit`
 * counted, in the cancel's transaction.
 */
export function keyAdmission(
  services: ApiServices,
  key: ApiKeyRecord,
):
  | {
      admit: (transaction: unknown, job: Job) => Promise<void>;
      release: (transaction: unknown, job: Job) => Promise<void>;
    }
  | undefined {
  const { limits } = key;
  if (
    limits.requestsPerMinute === null &&
    limits.imagesPerDay === null &&
    limits.imagesPerMonth === null &&
    limits.visionPerDay === null &&
    limits.visionPerMonth === null &&
    limits.maxConcurrentJobs === null
  ) {
    return undefined;
  }
  // The libSQL job store hands its `Transaction` (the API always runs on it); `n` is the validated one.
  // What was counted is kept for `release`, windows included (a cancel may come in the next minute).
  let counted: ConsumeInput[] = [];
  return {
    admit: async (transaction, job) => {
      counted = await admit(services, key, transaction as SqlExecutor, job);
    },
    release: (transaction) => releaseInTransaction(transaction as SqlExecutor, counted),
  };
}

/** The checks and counts of `keyAdmission`, in the insert's transaction `tx`; returns what it counted. */
async function admit(
  services: ApiServices,
  key: ApiKeyRecord,
  tx: SqlExecutor,
  job: Job,
): Promise<ConsumeInput[]> {
  const now = services.clock.now();
  const { limits } = key;
  const planned: Array<{ input: ConsumeInput; reason: WindowReason; endsAt: number }> = [];
  const add = (
    reason: WindowReason,
    kind: "requests" | "images" | "vision",
    window: UsageWindow,
    amount: number,
    limit: number | null,
  ): void => {
    if (limit === null) return;
    planned.push({
      reason,
      endsAt: window.endsAt,
      input: {
        scope: keyCounterScope(key.id, kind),
        window: window.window,
        amount,
        limit,
        expiresAt: window.expiresAt,
      },
    });
  };
  add("rate_per_minute", "requests", minuteWindow(now), 1, limits.requestsPerMinute);
  if (job.kind === "vision") {
    add("vision_per_day", "vision", dayWindow(now), 1, limits.visionPerDay);
    add("vision_per_month", "vision", monthWindow(now), 1, limits.visionPerMonth);
  } else {
    add("images_per_day", "images", dayWindow(now), job.request.n, limits.imagesPerDay);
    add("images_per_month", "images", monthWindow(now), job.request.n, limits.imagesPerMonth);
  }
  const maxConcurrent = limits.maxConcurrentJobs;
  if (maxConcurrent !== null) {
    const result = await tx.execute({
      sql: "SELECT count(*) AS n FROM jobs WHERE key_id = ? AND state IN ('queued', 'running')",
      args: [key.id],
    });
    if (Number(result.rows[0]?.n ?? 0) >= maxConcurrent) {
      throw new CodexImgError(
        "rate_limited",
        `This API key already has ${maxConcurrent} jobs queued or running.`,
        {
          retryAfterMs: 1000,
          details: { reason: "max_concurrent_jobs", limit: maxConcurrent },
        },
      );
    }
  }
  const outcome = await consumeInTransaction(
    tx,
    planned.map((p) => p.input),
  );
  if ("failed" in outcome) {
    const refused = planned.find((p) => p.input === outcome.failed) ?? planned[0];
    if (!refused) throw new CodexImgError("internal", "A usage counter refused without a reason.");
    throw limitError(refused.reason, refused.endsAt, services.clock.now(), refused.input.limit);
  }
  return planned.map((p) => p.input);
}

function limitError(reason: WindowReason, endsAt: number, now: number, limit: number): CodexImgError {
  const resetsAt = endsAt;
  const details = { reason, resetsAt, limit };
  const retryAfterMs = Math.max(1, endsAt - now);
  const when = new Date(resetsAt).toISOString();
  switch (reason) {
    case "rate_per_minute":
      return new CodexImgError(
        "rate_limited",
        `This API key allows ${limit} requests per minute; try again at ${when}.`,
        {
          retryAfterMs,
          details,
        },
      );
    case "vision_per_day":
    case "vision_per_month":
      return new CodexImgError(
        "quota_exhausted",
        `This API key's ${limit} vision requests per ${reason === "vision_per_day" ? "day" : "month"} are used up; the quota resets at ${when}.`,
        { retryAfterMs, details },
      );
    case "images_per_day":
      return new CodexImgError(
        "quota_exhausted",
        `This API key's ${limit} images per day are used up; the quota resets at ${when}.`,
        {
          retryAfterMs,
          details,
        },
      );
    default:
      return new CodexImgError(
        "quota_exhausted",
        `This API key's ${limit} images per month are used up; the quota resets at ${when}.`,
        {
          retryAfterMs,
          details,
        },
      );
  }
}

/**
 * Each key's standing against its limits now, read from the same counters and rows that enforce them (so
 * the dashboard cannot disagree with a refusal), plus its last 30 days from `usage_daily`.
 */
export async function keyUsageViews(
  services: ApiServices,
  keys: readonly ApiKeyRecord[],
): Promise<Map<string, KeyUsageView>> {
  const now = services.clock.now();
  const [active, last30d] = await Promise.all([
    withBusyRetry(() =>
      services.database.client.execute(
        `SELECT key_id, count(*) AS n FROM jobs
         WHERE state IN ('queued', 'running') AND key_id IS NOT NULL GROUP BY key_id`,
      ),
    ),
    services.accountUsage.usageByKey({ fromDay: utcDay(now - 29 * 86_400_000), toDay: utcDay(now) }),
  ]);
  const running = new Map(active.rows.map((row) => [String(row.key_id), Number(row.n)]));
  // `consumeKeyCounters` counts only limited windows, so an unlimited one has no count to show.
  const count = async (
    key: ApiKeyRecord,
    kind: "requests" | "images" | "vision",
    window: UsageWindow,
    limit: number | null,
  ): Promise<{ used: number | null; limit: number | null }> => ({
    used:
      limit === null
        ? null
        : await services.counters.get({ scope: keyCounterScope(key.id, kind), window: window.window }),
    limit,
  });
  const views = await Promise.all(
    keys.map(async (key): Promise<[string, KeyUsageView]> => {
      const [minute, day, month, visionDay, visionMonth] = await Promise.all([
        count(key, "requests", minuteWindow(now), key.limits.requestsPerMinute),
        count(key, "images", dayWindow(now), key.limits.imagesPerDay),
        count(key, "images", monthWindow(now), key.limits.imagesPerMonth),
        count(key, "vision", dayWindow(now), key.limits.visionPerDay),
        count(key, "vision", monthWindow(now), key.limits.visionPerMonth),
      ]);
      return [
        key.id,
        {
          minute,
          day,
          month,
          visionDay,
          visionMonth,
          concurrent: { used: running.get(key.id) ?? 0, limit: key.limits.maxConcurrentJobs },
          last30d: last30d[key.id] ?? { requests: 0, succeeded: 0, failed: 0, images: 0 },
        },
      ];
    }),
  );
  return new Map(views);
}
