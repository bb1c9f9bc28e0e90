/** A counting window in UTC: its name in `usage_counters.window` and its bounds in epoch ms. */
export interface UsageWindow {
  window: string;
  startsAt: number;
  /** First ms of the next window: when the limit resets (for `retryAfterMs`). */
  endsAt: number;
  /** When the counter row may be swept; a little after `endsAt` so instances with skewed clocks agree. */
  expiresAt: number;
}

const MINUTE_MS = 60_000;
const SWEEP_GRACE_MS = 5 * MINUTE_MS;

/** `minute:<minutes since epoch>`. */
export function minuteWindow(now: number): UsageWindow {
  const minute = Math.floor(now / MINUTE_MS);
  const startsAt = minute * MINUTE_MS;
  const endsAt = startsAt + MINUTE_MS;
  return { window: `minute:${minute}`, startsAt, endsAt, expiresAt: endsAt + SWEEP_GRACE_MS };
}

/** `day:YYYY-MM-DD` (UTC). */
export function dayWindow(now: number): UsageWindow {
  const date = new Date(now);
  const startsAt = Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate());
  const endsAt = Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate() + 1);
  return { window: `day:${utcDay(now)}`, startsAt, endsAt, expiresAt: endsAt + SWEEP_GRACE_MS };
}

/** `month:YYYY-MM` (UTC). */
export function monthWindow(now: number): UsageWindow {
  const date = new Date(now);
  const startsAt = Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), 1);
  const endsAt = Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + 1, 1);
  return { window: `month:${utcDay(now).slice(0, 7)}`, startsAt, endsAt, expiresAt: endsAt + SWEEP_GRACE_MS };
}

/** `YYYY-MM-DD` of an epoch-ms instant in UTC (the `usage_daily.day` format). */
export function utcDay(now: number): string {
  return new Date(now).toISOString().slice(0, 10);
}

/** What a key's counter counts. */
export type KeyCounterKind = "requests" | "images" | "vision";

/** `key:<id>:requests` / `key:<id>:images`: the scopes the service uses for per-key limits. */
export function keyCounterScope(keyId: string, kind: KeyCounterKind): string {
  return `key:${keyId}:${kind}`;
}
