import type { Clock } from "../clock.js";
import type { CodexImgError } from "../errors.js";
import type { Logger } from "../logger.js";
import type { BackendAccount, QuotaSnapshot } from "../types.js";
import type { Account, AccountStateView } from "./account.js";
import type { DispatchMode } from "./dispatch-mode.js";
import type { FailureCooldownOptions } from "./failure-cooldown.js";

export interface AccountPoolOptions {
  /** In priority order (what `primary-first` and round-robin follow). Labels must be unique. */
  accounts: readonly Account[];
  /** Default `quota-aware`. */
  mode?: DispatchMode;
  /** Accounts with less remaining quota in their tightest window are skipped, in every mode. Default 5. */
  minRemainingPercent?: number;
  clock?: Clock;
  logger?: Logger;
  /** Default `{ baseMs: 5_000, maxMs: 300_000, afterFailures: 2 }`. */
  failureCooldown?: Partial<FailureCooldownOptions>;
  /** Cooldown after `rate_limited` without a retry-after. Default 10 s. */
  rateLimitCooldownMs?: number;
  /** Cooldown after `quota_exhausted` that says neither `resetsAt` nor `retryAfterMs`. Default 15 min. */
  quotaExhaustedFallbackMs?: number;
  /** How often a dead account's login is looked at again (on acquire). Default 5 s. */
  deadCheckIntervalMs?: number;
}

export interface AcquireOptions {
  /** Labels already tried for this job; they are not handed out again. */
  exclude?: readonly string[];
  /** Stops waiting for a free slot; rejects with `canceled` (or the signal's reason if it is a CodexImgError). */
  signal?: AbortSignal;
}

/** How the attempt on a leased account ended; decides cooldowns, death and backoff. */
export type ReleaseOutcome =
  | { ok: true; quota?: QuotaSnapshot }
  | { ok: false; error: CodexImgError; quota?: QuotaSnapshot };

export interface AccountLease {
  readonly account: BackendAccount;
  /** Frees the slot and records the outcome. Only the first call counts. */
  release(outcome: ReleaseOutcome): void;
}

export type AccountPoolEvent =
  | { type: "account"; account: AccountStateView }
  | { type: "mode"; mode: DispatchMode };

export interface AccountPool {
  /**
   * An account that can serve now, picked per mode. Waits (FIFO) only while every account that could
   * serve is at its concurrency limit; rejects at once with `no_account_available` when none can.
   */
  acquire(options?: AcquireOptions): Promise<AccountLease>;
  /** Records a quota snapshot (reply headers, usage poll); an older snapshot than the stored one is ignored. */
  updateQuota(label: string, snapshot: QuotaSnapshot): void;
  /**
   * Records a reading of the usage endpoint: a snapshot (also applied as `updateQuota`) or why it failed,
   * shown as the account's `quotaPoll`. A failure changes nothing else: image requests decide cooldowns.
   */
  recordQuotaPoll(
    label: string,
    outcome: { at: number } & ({ snapshot: QuotaSnapshot } | { error: CodexImgError }),
  ): void;
  setMode(mode: DispatchMode): void;
  readonly mode: DispatchMode;
  readonly minRemainingPercent: number;
  /** Every account's state, in configuration order. */
  snapshot(): AccountStateView[];
  /** The accounts as backends see them (with credentials), in configuration order. */
  accounts(): BackendAccount[];
  /** Called on every state change of an account and on mode changes. Returns unsubscribe. */
  onChange(listener: (event: AccountPoolEvent) => void): () => void;
  /** Rejects every waiting acquire with `canceled` and every later one too. */
  close(): void;
}
