import { asRecord, nonEmptyString as asString } from "../../json-values.js";
import type { QuotaSnapshot, QuotaWindow } from "../../types.js";
import { CODEX_QUOTA_HEADERS } from "./constants.js";

/** Reads the `x-codex-*` quota headers (§3) of any reply, success or error; undefined when none are present. */
export function parseQuotaHeaders(headers: Headers, now: number): QuotaSnapshot | undefined {
  const H = CODEX_QUOTA_HEADERS;
  const window = (name: "primary" | "secondary"): QuotaWindow | undefined =>
    toWindow(
      {
        usedPercent: headers.get(H.usedPercent(name)),
        windowMinutes: headers.get(H.windowMinutes(name)),
        resetAt: headers.get(H.resetAt(name)),
        resetAfterSeconds: headers.get(H.resetAfterSeconds(name)),
      },
      now,
    );
  const credits = {
    hasCredits: toBool(headers.get(H.creditsHasCredits)),
    balance: headers.get(H.creditsBalance) ?? undefined,
    unlimited: toBool(headers.get(H.creditsUnlimited)),
  };
  return buildSnapshot(now, {
    primary: window("primary"),
    secondary: window("secondary"),
    planType: headers.get(H.planType) ?? undefined,
    activeLimit: headers.get(H.activeLimit) ?? undefined,
    credits,
  });
}

/**
 * Reads a `codex.rate_limits` SSE payload:
 * `{plan_type, rate_limits: {primary: {used_percent, window_minutes, reset_at, reset_after_seconds}, secondary}, credits}`.
 * Some proxies put `primary`/`secondary` at the top level; both are accepted.
 */
export function parseRateLimitsEvent(payload: unknown, now: number): QuotaSnapshot | undefined {
  const event = asRecord(payload);
  if (!event) return undefined;
  const limits = asRecord(event.rate_limits) ?? event;
  const credits = asRecord(event.credits);
  return buildSnapshot(now, {
    primary: jsonWindow(limits.primary, now),
    secondary: jsonWindow(limits.secondary, now),
    planType: asString(event.plan_type),
    activeLimit: asString(event.active_limit) ?? asString(event.metered_limit_name),
    credits: credits
      ? {
          hasCredits: toBool(credits.has_credits),
          balance: asString(credits.balance) ?? asNumberString(credits.balance),
          unlimited: toBool(credits.unlimited),
        }
      : undefined,
  });
}

/**
 * Reads `GET /backend-api/wham/usage`:
 * `{plan_type, rate_limit: {primary_window: {used_percent, limit_window_seconds, reset_at}, secondary_window}, credits}`.
 */
export function parseWhamUsage(payload: unknown, now: number): QuotaSnapshot | undefined {
  const body = asRecord(payload);
  const limit = asRecord(body?.rate_limit);
  if (!body || !limit) return undefined;
  const window = (value: unknown): QuotaWindow | undefined => {
    const w = asRecord(value);
    if (!w) return undefined;
    const seconds = toNumber(w.limit_window_seconds);
    return toWindow(
      {
        usedPercent: w.used_percent,
        windowMinutes: seconds === undefined ? undefined : seconds / 60,
        resetAt: w.reset_at,
        resetAfterSeconds: w.reset_after_seconds,
      },
      now,
    );
  };
  const credits = asRecord(body.credits);
  return buildSnapshot(now, {
    primary: window(limit.primary_window),
    secondary: window(limit.secondary_window),
    planType: asString(body.plan_type),
    activeLimit: undefined,
    credits: credits
      ? {
          hasCredits: toBool(credits.has_credits),
          balance: asString(credits.balance) ?? asNumberString(credits.balance),
          unlimited: toBool(credits.unlimited),
        }
      : undefined,
  });
}

interface SnapshotParts {
  primary: QuotaWindow | undefined;
  secondary: QuotaWindow | undefined;
  planType: string | undefined;
  activeLimit: string | undefined;
  credits:
    | { hasCredits: boolean | undefined; balance: string | undefined; unlimited: boolean | undefined }
    | undefined;
}

function buildSnapshot(now: number, parts: SnapshotParts): QuotaSnapshot | undefined {
  const credits = parts.credits ? dropUndefined(parts.credits) : {};
  const snapshot: QuotaSnapshot = {
    observedAt: now,
    ...(parts.primary ? { primary: parts.primary } : {}),
    ...(parts.secondary ? { secondary: parts.secondary } : {}),
    ...(parts.planType ? { planType: parts.planType } : {}),
    ...(parts.activeLimit ? { activeLimit: parts.activeLimit } : {}),
    ...(Object.keys(credits).length > 0 ? { credits } : {}),
  };
  return Object.keys(snapshot).length > 1 ? snapshot : undefined;
}

function jsonWindow(value: unknown, now: number): QuotaWindow | undefined {
  const w = asRecord(value);
  if (!w) return undefined;
  return toWindow(
    {
      usedPercent: w.used_percent,
      windowMinutes: w.window_minutes,
      resetAt: w.reset_at ?? w.resets_at,
      resetAfterSeconds: w.reset_after_seconds ?? w.resets_in_seconds,
    },
    now,
  );
}

function toWindow(
  raw: { usedPercent: unknown; windowMinutes: unknown; resetAt: unknown; resetAfterSeconds: unknown },
  now: number,
): QuotaWindow | undefined {
  const usedPercent = toNumber(raw.usedPercent);
  if (usedPercent === undefined) return undefined;
  const windowMinutes = toNumber(raw.windowMinutes);
  const resetAtSeconds = toNumber(raw.resetAt);
  const resetAfter = toNumber(raw.resetAfterSeconds);
  const resetsAt =
    resetAtSeconds !== undefined
      ? resetAtSeconds * 1000
      : resetAfter !== undefined
        ? now + resetAfter * 1000
        : undefined;
  return {
    usedPercent,
    ...(windowMinutes === undefined ? {} : { windowMinutes }),
    ...(resetsAt === undefined ? {} : { resetsAt }),
  };
}

function toNumber(value: unknown): number | undefined {
  if (typeof value === "number") return Number.isFinite(value) ? value : undefined;
  if (typeof value === "string" && value.trim() !== "") {
    const n = Number(value);
    return Number.isFinite(n) ? n : undefined;
  }
  return undefined;
}

function toBool(value: unknown): boolean | undefined {
  if (typeof value === "boolean") return value;
  if (value === "true" || value === "True" || value === "1") return true;
  if (value === "false" || value === "False" || value === "0") return false;
  return undefined;
}

function asNumberString(value: unknown): string | undefined {
  return typeof value === "number" ? String(value) : undefined;
}

function dropUndefined<T extends Record<string, unknown>>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
