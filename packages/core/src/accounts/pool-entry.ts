import { CodexImgError } from "../errors.js";
import type { Logger } from "../logger.js";
import type { BackendAccount, QuotaSnapshot } from "../types.js";
import type { Account, AccountStateView, CooldownReason } from "./account.js";
import type { DispatchMode } from "./dispatch-mode.js";
import { quotaRecoversAt, quotaRemainingPercent } from "./quota-remaining.js";

/** What the pool knows of one account (internal to the pool; `AccountStateView` is what it shows). */
export interface PoolEntry {
  index: number;
  config: Account;
  backend: BackendAccount;
  maxConcurrency: number;
  active: number;
  cooldown?: { until: number; reason: CooldownReason };
  dead?: DeadState;
  quota?: QuotaSnapshot;
  quotaPoll?: AccountStateView["quotaPoll"];
  consecutiveFailures: number;
  lastUsedAt?: number;
  lastError?: { code: CodexImgError["code"]; message: string; at: number };
  /** Last state reported to listeners, so lazily expiring cooldowns are reported once. */
  reportedState?: string;
}

export interface DeadState {
  reason: string;
  /** `login_required` (log in again) or `plan_not_supported` (the plan has no image access). */
  code: "login_required" | "plan_not_supported";
  /** Fingerprint of the login that died; a different one on disk means someone logged in again. */
  baseline: Promise<string | undefined>;
  checkedAt: number;
  checking?: Promise<void>;
}

/** Why an account cannot serve now: dead until its login changes, or cooling down until a time. */
export type Blocker =
  | { kind: "dead"; reason: string }
  | { kind: "cooling"; until: number; reason: CooldownReason };

/** The pool's entries in configuration order; refuses two accounts with one label. */
export function createPoolEntries(accounts: readonly Account[]): PoolEntry[] {
  const entries: PoolEntry[] = accounts.map((config, index) => ({
    index,
    config,
    backend: {
      label: config.label,
      ...(config.credentials ? { credentials: config.credentials } : {}),
      ...(config.codexHome === undefined ? {} : { codexHome: config.codexHome }),
    },
    maxConcurrency: Math.max(1, Math.floor(config.maxConcurrency ?? 1)),
    active: 0,
    consecutiveFailures: 0,
  }));
  const labels = new Set<string>();
  for (const entry of entries) {
    if (labels.has(entry.config.label)) {
      throw new CodexImgError("invalid_request", `Two accounts share the label "${entry.config.label}".`, {
        details: { param: "accounts" },
      });
    }
    labels.add(entry.config.label);
  }
  return entries;
}

/** What keeps `entry` from serving at `now`: death, a cooldown, or quota below `minRemainingPercent`. */
export function entryBlocker(
  entry: PoolEntry,
  now: number,
  minRemainingPercent: number,
): Blocker | undefined {
  if (entry.dead) return { kind: "dead", reason: entry.dead.reason };
  const cooling = entry.cooldown && entry.cooldown.until > now ? entry.cooldown : undefined;
  const recovers = quotaRecoversAt(entry.quota, now, minRemainingPercent);
  if (recovers !== undefined && (!cooling || recovers > cooling.until)) {
    return { kind: "cooling", until: recovers, reason: "quota_low" };
  }
  return cooling ? { kind: "cooling", ...cooling } : undefined;
}

export function entryView(entry: PoolEntry, now: number, minRemainingPercent: number): AccountStateView {
  const block = entryBlocker(entry, now, minRemainingPercent);
  const state =
    block?.kind === "dead"
      ? "dead"
      : block
        ? "cooling_down"
        : entry.active >= entry.maxConcurrency
          ? "busy"
          : "available";
  return {
    label: entry.config.label,
    state,
    active: entry.active,
    maxConcurrency: entry.maxConcurrency,
    ...(block?.kind === "cooling" ? { cooldownUntil: block.until, cooldownReason: block.reason } : {}),
    ...(block?.kind === "dead" ? { deadReason: block.reason } : {}),
    ...(entry.quota ? { quota: entry.quota } : {}),
    ...(entry.quotaPoll ? { quotaPoll: entry.quotaPoll } : {}),
    remainingPercent: quotaRemainingPercent(entry.quota, now),
    consecutiveFailures: entry.consecutiveFailures,
    ...(entry.lastUsedAt === undefined ? {} : { lastUsedAt: entry.lastUsedAt }),
    ...(entry.lastError ? { lastError: entry.lastError } : {}),
  };
}

/**
 * The free entry to lease per `mode`: the first (`primary-first`), the next after `roundRobinLast`
 * (`round-robin`), else the most remaining quota, then the least active, least recently used.
 */
export function pickEntry(
  free: PoolEntry[],
  now: number,
  mode: DispatchMode,
  roundRobin: { last: number; count: number },
): PoolEntry {
  if (mode === "primary-first") return free[0] as PoolEntry;
  if (mode === "round-robin") {
    const n = roundRobin.count;
    const distance = (e: PoolEntry): number => (e.index - roundRobin.last - 1 + n) % n;
    return free.reduce((best, e) => (distance(e) < distance(best) ? e : best));
  }
  const remaining = (entry: PoolEntry): number => quotaRemainingPercent(entry.quota, now);
  return [...free].sort(
    (a, b) =>
      remaining(b) - remaining(a) ||
      a.active - b.active ||
      (a.lastUsedAt ?? Number.NEGATIVE_INFINITY) - (b.lastUsedAt ?? Number.NEGATIVE_INFINITY) ||
      a.index - b.index,
  )[0] as PoolEntry;
}

/** Keeps `snapshot` unless the stored one is newer; whether it was kept. */
export function applyQuota(entry: PoolEntry, snapshot: QuotaSnapshot): boolean {
  if (entry.quota && entry.quota.observedAt > snapshot.observedAt) return false;
  entry.quota = snapshot;
  return true;
}

/** The account's login fingerprint now; undefined (logged) when it cannot be read. */
export function loginFingerprint(entry: PoolEntry, logger: Logger): Promise<string | undefined> {
  const read = entry.config.loginFingerprint;
  if (!read) return Promise.resolve(undefined);
  return read().catch((error: unknown) => {
    logger.warn("could not read the login fingerprint of an account", {
      account: entry.config.label,
      error,
    });
    return undefined;
  });
}
