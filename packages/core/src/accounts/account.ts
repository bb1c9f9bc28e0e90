import type { ErrorCode } from "../errors.js";
import type { BackendKind, CredentialProvider, QuotaSnapshot } from "../types.js";

/**
 * How many requests one account runs at once when its configuration does not say.
 * `codex-cli`: one, because the CLI may rotate the login's tokens and two runs refreshing the same
 * refresh token can get every session of that user revoked (predecessor.md, "Incidents").
 * `codex-http`: four, because four parallel requests on one Plus account were observed to succeed
 * (upstream.md §4) and refreshes go through our own cross-process lock.
 */
export const DEFAULT_MAX_CONCURRENCY: Readonly<Record<BackendKind, number>> = {
  "codex-cli": 1,
  "codex-http": 4,
  openai: 4,
  demo: 4,
};

/** One login the pool can hand out. Built from a Codex home by `accountsFromCodexHomes` (node). */
export interface Account {
  /** Unique within a pool; shown in logs, jobs and the dashboard. */
  label: string;
  credentials?: CredentialProvider;
  /** The Codex home folder, for backends that run the CLI. */
  codexHome?: string;
  /** Requests at once; default 1 (the safe value for `codex-cli`, see `DEFAULT_MAX_CONCURRENCY`). */
  maxConcurrency?: number;
  /**
   * Identifies the stored login (for example a hash of auth.json). A dead account comes back when this
   * changes, such as after `codex login`. Undefined when there is no login on disk.
   */
  loginFingerprint?: () => Promise<string | undefined>;
}

export type AccountState = "available" | "busy" | "cooling_down" | "dead";

/** Why an account is cooling down. `quota_low` means under the pool's minimum remaining percentage. */
export type CooldownReason = "quota_exhausted" | "rate_limited" | "upstream_failures" | "quota_low";

/** What a dashboard or metrics exporter sees of one account. Holds no credentials. */
export interface AccountStateView {
  label: string;
  state: AccountState;
  /** Requests running on it now. */
  active: number;
  maxConcurrency: number;
  /** Epoch ms; set while cooling down (for `quota_low`: when the window that is used up resets). */
  cooldownUntil?: number;
  cooldownReason?: CooldownReason;
  deadReason?: string;
  quota?: QuotaSnapshot;
  /**
   * The last reading of the usage endpoint (`startUsagePolling`), kept beside `quota`, which holds the
   * newest snapshot from any source: when it was read, what it said, or why it failed.
   */
  quotaPoll?: { at: number; snapshot?: QuotaSnapshot; error?: { code: ErrorCode; message: string } };
  /** Remaining percent of the tightest live window (100 when unknown). */
  remainingPercent: number;
  consecutiveFailures: number;
  /** Epoch ms of the last lease. */
  lastUsedAt?: number;
  lastError?: { code: ErrorCode; message: string; at: number };
}
