import type { AccountLease, AccountPool } from "../accounts/account-pool.js";
import { type Clock, sleep } from "../clock.js";
import { isCodexImgError, toCodexImgError } from "../errors.js";
import type { Job } from "../queue/job.js";
import type { QuotaSnapshot } from "../types.js";

/** Accounts that failed this job through their own fault: the next attempt tries elsewhere. */
export function accountsToAvoid(job: Job): string[] {
  const labels = new Set<string>();
  for (const attempt of job.attempts) {
    if (!attempt.error?.details?.accountFault || !attempt.account) continue;
    for (const label of attempt.account.split(",")) labels.add(label);
  }
  return [...labels];
}

/**
 * An account for one call. With an exclusion list, `no_account_available` may only mean "nothing else":
 * then any account will do. When every account is only briefly cooling down (a few failures, a short
 * throttle), the call waits for the earliest one rather than failing at once and spending one of the
 * job's attempts; a long wait (a usage window resetting in hours) fails so the caller hears it now.
 * The attempt's deadline still applies through `signal`.
 */
export async function acquireAccount(
  pool: AccountPool,
  exclude: string[],
  signal: AbortSignal,
  clock: Clock,
  maxWaitMs: number,
): Promise<AccountLease> {
  for (let avoid = exclude; ; ) {
    try {
      return await pool.acquire({ exclude: avoid, signal });
    } catch (error) {
      if (!isCodexImgError(error, "no_account_available")) throw error;
      if (avoid.length > 0) {
        avoid = [];
        continue;
      }
      const wait = error.retryAfterMs;
      if (wait === undefined || !error.retryable || wait > maxWaitMs) throw error;
      await sleep(clock, Math.max(wait, 1), signal);
    }
  }
}

/**
 * Runs one backend call on `lease` and releases it with the outcome: its quota on success, its error on
 * failure. When the call's signal was aborted with a reason of ours (a sibling failed, a cancel), that
 * reason is the failure, not the backend's generic `canceled`.
 */
export async function onLease<T extends { quota?: QuotaSnapshot }>(
  lease: AccountLease | undefined,
  signal: AbortSignal,
  call: () => Promise<T>,
): Promise<T> {
  let result: T;
  try {
    result = await call();
  } catch (error) {
    const failure = signal.aborted && isCodexImgError(signal.reason) ? signal.reason : toCodexImgError(error);
    lease?.release({ ok: false, error: toCodexImgError(error) });
    throw failure;
  }
  lease?.release({ ok: true, ...(result.quota ? { quota: result.quota } : {}) });
  return result;
}
