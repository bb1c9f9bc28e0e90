import { systemClock } from "../clock.js";
import { CodexImgError, isCodexImgError } from "../errors.js";
import { silentLogger } from "../logger.js";
import type { QuotaSnapshot } from "../types.js";
import type { AccountStateView } from "./account.js";
import type { AccountLease, AccountPool, AccountPoolEvent, AccountPoolOptions } from "./account-pool.js";
import type { DispatchMode } from "./dispatch-mode.js";
import { DEFAULT_FAILURE_COOLDOWN } from "./failure-cooldown.js";
import { noAccountError } from "./no-account-error.js";
import {
  applyQuota,
  type Blocker,
  createPoolEntries,
  entryBlocker,
  entryView,
  loginFingerprint,
  type PoolEntry,
  pickEntry,
} from "./pool-entry.js";
import { applyReleaseOutcome, type OutcomeRules } from "./release-outcome.js";

type Decision =
  | { kind: "lease"; entry: PoolEntry }
  | { kind: "wait" }
  | { kind: "none"; error: CodexImgError };

interface Waiter {
  exclude: ReadonlySet<string>;
  resolve(lease: AccountLease): void;
  reject(error: unknown): void;
}

/** The accounts of one process and which of them may take the next attempt. */
export function createAccountPool(options: AccountPoolOptions): AccountPool {
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? silentLogger;
  const minRemainingPercent = options.minRemainingPercent ?? 5;
  const rules: OutcomeRules = {
    logger,
    failureCooldown: { ...DEFAULT_FAILURE_COOLDOWN, ...options.failureCooldown },
    rateLimitCooldownMs: options.rateLimitCooldownMs ?? 10_000,
    quotaExhaustedFallbackMs: options.quotaExhaustedFallbackMs ?? 15 * 60_000,
  };
  const deadCheckIntervalMs = options.deadCheckIntervalMs ?? 5_000;

  let mode: DispatchMode = options.mode ?? "quota-aware";
  let roundRobinLast = -1;
  let closed = false;
  const listeners = new Set<(event: AccountPoolEvent) => void>();
  let waiters: Waiter[] = [];
  let cancelTimer: (() => void) | undefined;
  let pumping = false;
  let pumpAgain = false;

  const entries = createPoolEntries(options.accounts);
  const byLabel = new Map(entries.map((entry) => [entry.config.label, entry]));

  const blocker = (entry: PoolEntry, now: number): Blocker | undefined =>
    entryBlocker(entry, now, minRemainingPercent);
  const view = (entry: PoolEntry, now: number): AccountStateView =>
    entryView(entry, now, minRemainingPercent);

  const emit = (event: AccountPoolEvent): void => {
    for (const listener of listeners) {
      try {
        listener(event);
      } catch (error) {
        logger.warn("account pool listener failed", { error });
      }
    }
  };

  const stateKey = (v: AccountStateView): string =>
    `${v.state}|${v.cooldownReason ?? ""}|${v.cooldownUntil ?? ""}|${v.active}`;

  const changed = (entry: PoolEntry, now = clock.now()): void => {
    const v = view(entry, now);
    entry.reportedState = stateKey(v);
    emit({ type: "account", account: v });
  };

  // Cooldowns end by themselves as time passes; report those transitions when we next look.
  const sweep = (now: number): void => {
    for (const entry of entries) {
      if (entry.cooldown && entry.cooldown.until <= now) entry.cooldown = undefined;
      const v = view(entry, now);
      if (entry.reportedState !== undefined && entry.reportedState !== stateKey(v)) changed(entry, now);
    }
  };

  const decide = (exclude: ReadonlySet<string>, now: number): Decision => {
    const serviceable = entries.filter((e) => !exclude.has(e.config.label) && !blocker(e, now));
    if (serviceable.length === 0) {
      return { kind: "none", error: noAccountError(entries, exclude, now, minRemainingPercent) };
    }
    const free = serviceable.filter((e) => e.active < e.maxConcurrency);
    if (free.length === 0) return { kind: "wait" };
    return {
      kind: "lease",
      entry: pickEntry(free, now, mode, { last: roundRobinLast, count: entries.length }),
    };
  };

  const lease = (entry: PoolEntry, now: number): AccountLease => {
    entry.active++;
    entry.lastUsedAt = now;
    roundRobinLast = entry.index;
    changed(entry, now);
    let released = false;
    return {
      account: entry.backend,
      release(outcome) {
        if (released) return;
        released = true;
        entry.active--;
        applyReleaseOutcome(entry, outcome, clock.now(), rules);
        changed(entry);
        pump();
      },
    };
  };

  // Wakes waiters when the earliest cooldown ends; armed only while someone waits, so that an idle
  // pool holds no timer (a real timer hours long would keep the process alive).
  const armTimer = (now: number): void => {
    cancelTimer?.();
    cancelTimer = undefined;
    if (waiters.length === 0) return;
    const untils = entries.flatMap((e) => {
      const block = blocker(e, now);
      return block?.kind === "cooling" ? [block.until] : [];
    });
    if (untils.length === 0) return;
    cancelTimer = clock.setTimeout(
      () => {
        cancelTimer = undefined;
        pump();
      },
      Math.max(0, Math.min(...untils) - now),
    );
  };

  function pump(): void {
    if (pumping) {
      pumpAgain = true;
      return;
    }
    pumping = true;
    try {
      do {
        pumpAgain = false;
        const now = clock.now();
        sweep(now);
        for (const waiter of [...waiters]) {
          if (!waiters.includes(waiter)) continue;
          const decision = decide(waiter.exclude, now);
          if (decision.kind === "wait") continue;
          waiters = waiters.filter((w) => w !== waiter);
          if (decision.kind === "lease") waiter.resolve(lease(decision.entry, now));
          else waiter.reject(decision.error);
        }
        armTimer(now);
      } while (pumpAgain);
    } finally {
      pumping = false;
    }
  }

  const checkDeadAccounts = async (): Promise<void> => {
    const now = clock.now();
    const pending: Promise<void>[] = [];
    for (const entry of entries) {
      const dead = entry.dead;
      if (!dead || !entry.config.loginFingerprint) continue;
      if (!dead.checking && now - dead.checkedAt >= deadCheckIntervalMs) {
        dead.checkedAt = now;
        dead.checking = (async () => {
          const [before, current] = await Promise.all([dead.baseline, loginFingerprint(entry, logger)]);
          dead.checking = undefined;
          if (entry.dead !== dead || current === undefined || current === before) return;
          entry.dead = undefined;
          entry.consecutiveFailures = 0;
          if (entry.cooldown?.reason === "upstream_failures") entry.cooldown = undefined;
          logger.info("account login changed on disk; using it again", { account: entry.config.label });
          changed(entry);
          pump();
        })();
      }
      if (dead.checking) pending.push(dead.checking);
    }
    await Promise.all(pending);
  };

  const canceledBy = (signal: AbortSignal): CodexImgError =>
    isCodexImgError(signal.reason)
      ? signal.reason
      : new CodexImgError("canceled", "Waiting for an account was canceled.", { cause: signal.reason });

  const closedError = (): CodexImgError => new CodexImgError("canceled", "The account pool was closed.");

  return {
    get mode() {
      return mode;
    },
    minRemainingPercent,

    async acquire(acquireOptions = {}) {
      const { signal } = acquireOptions;
      if (closed) throw closedError();
      if (signal?.aborted) throw canceledBy(signal);
      await checkDeadAccounts();
      if (closed) throw closedError();
      if (signal?.aborted) throw canceledBy(signal);
      const exclude = new Set(acquireOptions.exclude ?? []);
      const now = clock.now();
      sweep(now);
      const decision = decide(exclude, now);
      if (decision.kind === "lease") return lease(decision.entry, now);
      if (decision.kind === "none") throw decision.error;
      return new Promise<AccountLease>((resolve, reject) => {
        const onAbort = (): void => {
          if (!waiters.includes(waiter)) return;
          waiters = waiters.filter((w) => w !== waiter);
          armTimer(clock.now());
          reject(canceledBy(signal as AbortSignal));
        };
        const waiter: Waiter = {
          exclude,
          resolve: (value) => {
            signal?.removeEventListener("abort", onAbort);
            resolve(value);
          },
          reject: (error) => {
            signal?.removeEventListener("abort", onAbort);
            reject(error);
          },
        };
        waiters.push(waiter);
        signal?.addEventListener("abort", onAbort, { once: true });
        armTimer(now);
      });
    },

    updateQuota(label, snapshot) {
      const entry = byLabel.get(label);
      if (!entry) {
        logger.debug("quota for an unknown account ignored", { account: label });
        return;
      }
      if (!applyQuota(entry, snapshot)) return;
      changed(entry);
      pump();
    },

    recordQuotaPoll(label, outcome) {
      const entry = byLabel.get(label);
      if (!entry) return;
      if ("snapshot" in outcome) {
        const snapshot: QuotaSnapshot = { ...outcome.snapshot, source: "poll" };
        entry.quotaPoll = { at: outcome.at, snapshot };
        applyQuota(entry, snapshot);
      } else {
        entry.quotaPoll = {
          at: outcome.at,
          ...(entry.quotaPoll?.snapshot ? { snapshot: entry.quotaPoll.snapshot } : {}),
          error: { code: outcome.error.code, message: outcome.error.message },
        };
      }
      changed(entry);
      pump();
    },

    setMode(next) {
      if (next === mode) return;
      mode = next;
      logger.info("account dispatch mode changed", { mode });
      emit({ type: "mode", mode });
    },

    snapshot() {
      const now = clock.now();
      return entries.map((e) => view(e, now));
    },

    accounts() {
      return entries.map((e) => e.backend);
    },

    onChange(listener) {
      listeners.add(listener);
      return () => {
        listeners.delete(listener);
      };
    },

    close() {
      closed = true;
      cancelTimer?.();
      cancelTimer = undefined;
      const pending = waiters;
      waiters = [];
      for (const waiter of pending) waiter.reject(closedError());
    },
  };
}
