import type { FakeQuota } from "./fake-codex-types.js";

export const DEFAULT_FAKE_QUOTA: FakeQuota = {
  primaryUsedPercent: 12,
  primaryWindowMinutes: 300,
  primaryResetAfterSeconds: 9000,
  secondaryUsedPercent: 34,
  secondaryWindowMinutes: 10080,
  secondaryResetAfterSeconds: 400_000,
  planType: "plus",
  creditsHasCredits: false,
  creditsUnlimited: false,
};

/** The `x-codex-*` quota headers every reply carries (upstream.md §3). */
export function fakeQuotaHeaders(q: FakeQuota, nowMs: number): Record<string, string> {
  const nowSeconds = Math.floor(nowMs / 1000);
  return {
    "x-codex-primary-used-percent": String(q.primaryUsedPercent),
    "x-codex-primary-window-minutes": String(q.primaryWindowMinutes),
    "x-codex-primary-reset-after-seconds": String(q.primaryResetAfterSeconds),
    "x-codex-primary-reset-at": String(nowSeconds + q.primaryResetAfterSeconds),
    "x-codex-secondary-used-percent": String(q.secondaryUsedPercent),
    "x-codex-secondary-window-minutes": String(q.secondaryWindowMinutes),
    "x-codex-secondary-reset-after-seconds": String(q.secondaryResetAfterSeconds),
    "x-codex-secondary-reset-at": String(nowSeconds + q.secondaryResetAfterSeconds),
    "x-codex-plan-type": q.planType,
    ...(q.activeLimit ? { "x-codex-active-limit": q.activeLimit } : {}),
    "x-codex-credits-has-credits": String(q.creditsHasCredits),
    "x-codex-credits-unlimited": String(q.creditsUnlimited),
    ...(q.creditsBalance === undefined ? {} : { "x-codex-credits-balance": q.creditsBalance }),
  };
}

/** The body of `GET /backend-api/wham/usage` (upstream.md §3): windows in seconds, `reset_at` unix s. */
export function fakeWhamUsage(q: FakeQuota, nowMs: number): Record<string, unknown> {
  const nowSeconds = Math.floor(nowMs / 1000);
  return {
    plan_type: q.planType,
    rate_limit: {
      allowed: q.primaryUsedPercent < 100,
      limit_reached: q.primaryUsedPercent >= 100,
      primary_window: {
        used_percent: q.primaryUsedPercent,
        limit_window_seconds: q.primaryWindowMinutes * 60,
        reset_after_seconds: q.primaryResetAfterSeconds,
        reset_at: nowSeconds + q.primaryResetAfterSeconds,
      },
      secondary_window: {
        used_percent: q.secondaryUsedPercent,
        limit_window_seconds: q.secondaryWindowMinutes * 60,
        reset_after_seconds: q.secondaryResetAfterSeconds,
        reset_at: nowSeconds + q.secondaryResetAfterSeconds,
      },
    },
    credits: fakeCredits(q),
  };
}

/** The payload of a `codex.rate_limits` event on the Responses stream (upstream.md §2b). */
export function fakeRateLimitsEvent(q: FakeQuota, nowMs: number): Record<string, unknown> {
  const nowSeconds = Math.floor(nowMs / 1000);
  return {
    plan_type: q.planType,
    rate_limits: {
      allowed: true,
      limit_reached: false,
      primary: {
        used_percent: q.primaryUsedPercent,
        window_minutes: q.primaryWindowMinutes,
        reset_after_seconds: q.primaryResetAfterSeconds,
        reset_at: nowSeconds + q.primaryResetAfterSeconds,
      },
      secondary: {
        used_percent: q.secondaryUsedPercent,
        window_minutes: q.secondaryWindowMinutes,
        reset_after_seconds: q.secondaryResetAfterSeconds,
        reset_at: nowSeconds + q.secondaryResetAfterSeconds,
      },
    },
    credits: fakeCredits(q),
  };
}

/** The `credits` object of the usage reply and the rate-limits event. */
function fakeCredits(q: FakeQuota): Record<string, unknown> {
  return {
    has_credits: q.creditsHasCredits,
    unlimited: q.creditsUnlimited,
    balance: q.creditsBalance ?? "0",
  };
}
