import type { Logger } from "../logger.js";
import type { CooldownReason } from "./account.js";
import type { ReleaseOutcome } from "./account-pool.js";
import { type FailureCooldownOptions, failureCooldownMs } from "./failure-cooldown.js";
import { applyQuota, type DeadState, loginFingerprint, type PoolEntry } from "./pool-entry.js";

/** The pool's rules for what an attempt's outcome does to its account (`AccountPoolOptions`, defaults applied). */
export interface OutcomeRules {
  logger: Logger;
  failureCooldown: FailureCooldownOptions;
  rateLimitCooldownMs: number;
  quotaExhaustedFallbackMs: number;
}

/**
 * Records how an attempt on `entry` ended at `now`: its quota, and by the error's code a cooldown
 * (quota, rate limit, repeated upstream failures), death until a new login, or nothing (the request's
 * fault or the caller's choice).
 */
export function applyReleaseOutcome(
  entry: PoolEntry,
  outcome: ReleaseOutcome,
  now: number,
  rules: OutcomeRules,
): void {
  if (outcome.quota) applyQuota(entry, outcome.quota);
  if (outcome.ok) {
    entry.consecutiveFailures = 0;
    return;
  }
  const error = outcome.error;
  const record = (): void => {
    entry.lastError = { code: error.code, message: error.message, at: now };
  };
  switch (error.code) {
    case "quota_exhausted": {
      record();
      const until =
        error.details.resetsAt ??
        (error.retryAfterMs === undefined ? now + rules.quotaExhaustedFallbackMs : now + error.retryAfterMs);
      // A reset time already past is upstream being confused; still keep the account off briefly.
      setCooldown(
        entry,
        rules.logger,
        until > now ? until : now + rules.rateLimitCooldownMs,
        "quota_exhausted",
      );
      return;
    }
    case "rate_limited":
      record();
      setCooldown(
        entry,
        rules.logger,
        now + (error.retryAfterMs ?? rules.rateLimitCooldownMs),
        "rate_limited",
      );
      return;
    case "plan_not_supported":
    case "login_required":
      record();
      markDead(entry, error.code, error.message, now, rules.logger);
      return;
    case "invalid_request":
    case "upstream_refused":
    case "canceled":
      // The request's fault or the caller's choice: nothing is known about the account.
      return;
    default: {
      const upstream = error.code === "upstream_failed" || error.code === "upstream_timeout";
      if (!upstream && error.details.accountFault !== true) return;
      record();
      entry.consecutiveFailures++;
      const ms = failureCooldownMs(entry.consecutiveFailures, rules.failureCooldown);
      if (ms > 0) setCooldown(entry, rules.logger, now + ms, "upstream_failures");
    }
  }
}

function setCooldown(entry: PoolEntry, logger: Logger, until: number, reason: CooldownReason): void {
  // A later cooldown already running is never shortened by a shorter one.
  if (entry.cooldown && entry.cooldown.until >= until) return;
  entry.cooldown = { until, reason };
  logger.info("account cooling down", {
    account: entry.config.label,
    reason,
    until: new Date(until).toISOString(),
  });
}

function markDead(
  entry: PoolEntry,
  code: DeadState["code"],
  reason: string,
  now: number,
  logger: Logger,
): void {
  if (entry.dead) return;
  entry.dead = { reason, code, baseline: loginFingerprint(entry, logger), checkedAt: now };
  logger.warn("account is dead until its login changes", { account: entry.config.label, reason });
}
