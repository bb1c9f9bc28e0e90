import { CodexImgError, sleep } from "@codex-img/core";
import {
  type ApiKeyRecord,
  type ConsumeInput,
  createLibsqlSession,
  dayWindow,
  keyCounterScope,
  minuteWindow,
  monthWindow,
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
  | "max_concurrent_jobs";

/** What a request took from its key's counters, to give back when no job comes of it. */
export interface ConsumedCounts {
  release(): Promise<void>;
}

type WindowReason = Exclude<LimitRefusalReason, "max_concurrent_jobs">;

const NOTHING: ConsumedCounts = { release: async () => {} };

/**
 * Requests per minute (1 per call) and images per day and per month (`n` each), all or nothing in one
 * `tryConsumeAll`, so they hold exactly across connections and instances sharing the database.
 */
export async function consumeKeyCounters(
  services: ApiServices,
  key: ApiKeyRecord,
  images: number,
): Promise<ConsumedCounts> {
  const now = services.clock.now();
  const { limits } = key;
  const planned: Array<{ input: ConsumeInput; reason: WindowReason; endsAt: number }> = [];
  const add = (
    reason: WindowReason,
    kind: "requests" | "images",
    window: ReturnType<typeof minuteWindow>,
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
  add("images_per_day", "images", dayWindow(now), images, limits.imagesPerDay);
  add("images_per_month", "images", monthWindow(now), images, limits.imagesPerMonth);
  if (planned.length === 0) return NOTHING;

  const result = await services.counters.tryConsumeAll(planned.map((p) => p.input));
  if (!result.ok) {
    const refused = planned.find((p) => p.input === result.failed) ?? planned[0];
    if (!refused) throw new CodexImgError("internal", "A usage counter refused without a reason.");
    throw limitError(refused.reason, refused.endsAt, now, refused.input.limit);
  }
  return {
    async release() {
      await Promise.all(
        planned.map(({ input }) =>
          services.counters.release({ scope: input.scope, window: input.window, amount: input.amount }),
        ),
      );
    },
  };
}

/**
 * Max concurrent jobs, as a guarded SQL statement rather than a counter released when a job ends: the
 * `jobs` table already knows which of the key's jobs are queued or running, durably and across instances,
 * so nothing leaks when a process dies before it could release, and recovery or cancel frees the slot by
 * changing the job's state. The one gap is between admitting a request and its job row existing; an
 * "admitting" counter (per minute window, so a crash's leftover is forgotten within two minutes) covers it.
 * The guard reads both and adds to the counter in one statement, which SQLite and Turso run atomically.
 *
 * While a just-inserted job is still also counted as admitting, the guard counts it twice and may refuse;
 * a refusal that saw admissions in flight is therefore retried briefly before it is final.
 */
export async function admitConcurrentJob(services: ApiServices, key: ApiKeyRecord): Promise<ConsumedCounts> {
  const max = key.limits.maxConcurrentJobs;
  if (max === null) return NOTHING;
  const scope = `key:${key.id}:admitting`;
  const { client } = services.database;
  for (let attempt = 0; ; attempt++) {
    const now = services.clock.now();
    const current = minuteWindow(now);
    const previous = minuteWindow(now - 60_000);
    // A write: through the database's one write lock and busy-safe transaction, like every store's.
    const result = await createLibsqlSession(services.database).write((tx) =>
      tx.execute({
        sql: ADMIT_SQL,
        args: [scope, current.window, current.expiresAt, key.id, previous.window, max],
      }),
    );
    if (result.rows.length > 0) {
      return {
        release: () => services.counters.release({ scope, window: current.window, amount: 1 }),
      };
    }
    const pending = await withBusyRetry(() =>
      client.execute({
        sql: `SELECT coalesce(sum(count), 0) AS n FROM usage_counters WHERE scope = ? AND "window" IN (?, ?)`,
        args: [scope, current.window, previous.window],
      }),
    );
    if (Number(pending.rows[0]?.n ?? 0) === 0 || attempt >= ADMIT_RETRIES) {
      throw new CodexImgError("rate_limited", `This API key already has ${max} jobs queued or running.`, {
        retryAfterMs: 1000,
        details: { reason: "max_concurrent_jobs", limit: max },
      });
    }
    await sleep(services.clock, 5 + Math.floor(Math.random() * 10));
  }
}

/** About half a second of retries while other admissions of the same key finish. */
const ADMIT_RETRIES = 50;

const ACTIVE_AND_ADMITTING = `(
  (SELECT count(*) FROM jobs WHERE key_id = ?4 AND state IN ('queued', 'running'))
  + coalesce((SELECT sum(count) FROM usage_counters WHERE scope = ?1 AND "window" IN (?2, ?5)), 0)
) < ?6`;

const ADMIT_SQL = `INSERT INTO usage_counters (scope, "window", count, expires_at)
SELECT ?1, ?2, 1, ?3 WHERE ${ACTIVE_AND_ADMITTING}
ON CONFLICT (scope, "window") DO UPDATE SET count = usage_counters.count + 1
WHERE ${ACTIVE_AND_ADMITTING}
RETURNING count`;

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
    kind: "requests" | "images",
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
      const [minute, day, month] = await Promise.all([
        count(key, "requests", minuteWindow(now), key.limits.requestsPerMinute),
        count(key, "images", dayWindow(now), key.limits.imagesPerDay),
        count(key, "images", monthWindow(now), key.limits.imagesPerMonth),
      ]);
      return [
        key.id,
        {
          minute,
          day,
          month,
          concurrent: { used: running.get(key.id) ?? 0, limit: key.limits.maxConcurrentJobs },
          last30d: last30d[key.id] ?? { requests: 0, succeeded: 0, failed: 0, images: 0 },
        },
      ];
    }),
  );
  return new Map(views);
}
