import { type Clock, systemClock } from "../clock.js";
import { CodexImgError, isCodexImgError } from "../errors.js";
import { type Logger, silentLogger } from "../logger.js";
import type { BackendAccount, QuotaSnapshot } from "../types.js";
import type { Account, AccountStateView, CooldownReason } from "./account.js";
import type { DispatchMode } from "./dispatch-mode.js";
import {
  DEFAULT_FAILURE_COOLDOWN,
  type FailureCooldownOptions,
  failureCooldownMs,
} from "./failure-cooldown.js";
import { quotaRecoversAt, quotaRemainingPercent } from "./quota-remaining.js";

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

interface DeadState {
  reason: string;
  /** `login_required` (log in again) or `plan_not_supported` (the plan has no image access). */
  code: "login_required" | "plan_not_supported";
  /** Fingerprint of the login that died; a different one on disk means someone logged in again. */
  baseline: Promise<string | undefined>;
  checkedAt: number;
  checking?: Promise<void>;
}

interface Entry {
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

type Blocker = { kind: "dead"; reason: string } | { kind: "cooling"; until: number; reason: CooldownReason };

type Decision = { kind: "lease"; entry: Entry } | { kind: "wait" } | { kind: "none"; error: CodexImgError };

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
  const backoff: FailureCooldownOptions = { ...DEFAULT_FAILURE_COOLDOWN, ...options.failureCooldown };
  const rateLimitCooldownMs = options.rateLimitCooldownMs ?? 10_000;
  const quotaFallbackMs = options.quotaExhaustedFallbackMs ?? 15 * 60_000;
  const deadCheckIntervalMs = options.deadCheckIntervalMs ?? 5_000;

  let mode: DispatchMode = options.mode ?? "quota-aware";
  let roundRobinLast = -1;
  let closed = false;
  const listeners = new Set<(event: AccountPoolEvent) => void>();
  let waiters: Waiter[] = [];
  let cancelTimer: (() => void) | undefined;
  let pumping = false;
  let pumpAgain = false;

  const entries: Entry[] = options.accounts.map((config, index) => ({
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
  const byLabel = new Map<string, Entry>();
  for (const entry of entries) {
    if (byLabel.has(entry.config.label)) {
      throw new CodexImgError("invalid_request", `Two accounts share the label "${entry.config.label}".`, {
        details: { param: "accounts" },
      });
    }
    byLabel.set(entry.config.label, entry);
  }

  const blocker = (entry: Entry, now: number): Blocker | undefined => {
    if (entry.dead) return { kind: "dead", reason: entry.dead.reason };
    const cooling = entry.cooldown && entry.cooldown.until > now ? entry.cooldown : undefined;
    const recovers = quotaRecoversAt(entry.quota, now, minRemainingPercent);
    if (recovers !== undefined && (!cooling || recovers > cooling.until)) {
      return { kind: "cooling", until: recovers, reason: "quota_low" };
    }
    return cooling ? { kind: "cooling", ...cooling } : undefined;
  };

  const view = (entry: Entry, now: number): AccountStateView => {
    const block = blocker(entry, now);
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
  };

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

  const changed = (entry: Entry, now = clock.now()): void => {
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

  const remaining = (entry: Entry, now: number): number => quotaRemainingPercent(entry.quota, now);

  const pick = (free: Entry[], now: number): Entry => {
    if (mode === "primary-first") return free[0] as Entry;
    if (mode === "round-robin") {
      const n = entries.length;
      const distance = (e: Entry): number => (e.index - roundRobinLast - 1 + n) % n;
      return free.reduce((best, e) => (distance(e) < distance(best) ? e : best));
    }
    return [...free].sort(
      (a, b) =>
        remaining(b, now) - remaining(a, now) ||
        a.active - b.active ||
        (a.lastUsedAt ?? Number.NEGATIVE_INFINITY) - (b.lastUsedAt ?? Number.NEGATIVE_INFINITY) ||
        a.index - b.index,
    )[0] as Entry;
  };

  const noAccountError = (exclude: ReadonlySet<string>, now: number): CodexImgError => {
    if (entries.length === 0) {
      return new CodexImgError(
        "no_account_available",
        "No account is configured: run `codex login`, or list Codex homes in CODEX_HOMES.",
        { retryable: false },
      );
    }
    const facts = entries.map((e) => ({
      entry: e,
      block: blocker(e, now),
      excluded: exclude.has(e.config.label),
    }));
    const untils = facts.flatMap((f) => (f.block?.kind === "cooling" ? [f.block.until] : []));
    const accounts = facts.map((f) => ({
      label: f.entry.config.label,
      state: f.excluded && !f.block ? "already_tried" : (f.block?.kind ?? "available"),
      ...(f.block?.kind === "cooling" ? { until: f.block.until, reason: f.block.reason } : {}),
      ...(f.block?.kind === "dead" ? { reason: f.block.reason } : {}),
    }));
    if (facts.every((f) => f.block?.kind === "dead")) {
      // Accounts are named by label, never by their folder: this message reaches API callers, and the
      // dashboard shows each label's Codex home to the owner.
      const needLogin = entries.filter((e) => e.dead?.code === "login_required").map((e) => e.config.label);
      if (needLogin.length > 0) {
        return new CodexImgError(
          "login_required",
          `Every account is unusable and ${needLogin.length === 1 ? "account" : "accounts"} ${needLogin.map((l) => `"${l}"`).join(", ")} ` +
            "need a new login: the owner must run `codex login` again for that Codex home (the dashboard names it).",
          { retryable: false, details: { accounts, loginRequired: needLogin } },
        );
      }
      return new CodexImgError(
        "no_account_available",
        "No account's plan includes image generation (usage_not_included).",
        { retryable: false, details: { accounts } },
      );
    }
    const earliest = untils.length > 0 ? Math.min(...untils) : undefined;
    const tried = facts.some((f) => f.excluded && !f.block);
    const message =
      earliest === undefined
        ? "Every account that could serve was already tried for this request."
        : `No account can take this request now${tried ? " (the others were already tried)" : ""}; the earliest is free again at ${new Date(earliest).toISOString()}.`;
    return new CodexImgError("no_account_available", message, {
      ...(earliest === undefined ? {} : { retryAfterMs: Math.max(0, earliest - now) }),
      details: { ...(earliest === undefined ? {} : { resetsAt: earliest }), accounts },
    });
  };

  const decide = (exclude: ReadonlySet<string>, now: number): Decision => {
    const serviceable = entries.filter((e) => !exclude.has(e.config.label) && !blocker(e, now));
    if (serviceable.length === 0) return { kind: "none", error: noAccountError(exclude, now) };
    const free = serviceable.filter((e) => e.active < e.maxConcurrency);
    if (free.length === 0) return { kind: "wait" };
    return { kind: "lease", entry: pick(free, now) };
  };

  const lease = (entry: Entry, now: number): AccountLease => {
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
        applyOutcome(entry, outcome);
        changed(entry);
        pump();
      },
    };
  };

  const setCooldown = (entry: Entry, until: number, reason: CooldownReason): void => {
    // A later cooldown already running is never shortened by a shorter one.
    if (entry.cooldown && entry.cooldown.until >= until) return;
    entry.cooldown = { until, reason };
    logger.info("account cooling down", {
      account: entry.config.label,
      reason,
      until: new Date(until).toISOString(),
    });
  };

  const fingerprint = (entry: Entry): Promise<string | undefined> => {
    const read = entry.config.loginFingerprint;
    if (!read) return Promise.resolve(undefined);
    return read().catch((error: unknown) => {
      logger.warn("could not read the login fingerprint of an account", {
        account: entry.config.label,
        error,
      });
      return undefined;
    });
  };

  const markDead = (entry: Entry, code: DeadState["code"], reason: string, now: number): void => {
    if (entry.dead) return;
    entry.dead = { reason, code, baseline: fingerprint(entry), checkedAt: now };
    logger.warn("account is dead until its login changes", { account: entry.config.label, reason });
  };

  const applyQuota = (entry: Entry, snapshot: QuotaSnapshot): boolean => {
    if (entry.quota && entry.quota.observedAt > snapshot.observedAt) return false;
    entry.quota = snapshot;
    return true;
  };

  const applyOutcome = (entry: Entry, outcome: ReleaseOutcome): void => {
    const now = clock.now();
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
          (error.retryAfterMs === undefined ? now + quotaFallbackMs : now + error.retryAfterMs);
        // A reset time already past is upstream being confused; still keep the account off briefly.
        setCooldown(entry, until > now ? until : now + rateLimitCooldownMs, "quota_exhausted");
        return;
      }
      case "rate_limited":
        record();
        setCooldown(entry, now + (error.retryAfterMs ?? rateLimitCooldownMs), "rate_limited");
        return;
      case "plan_not_supported":
      case "login_required":
        record();
        markDead(entry, error.code, error.message, now);
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
        const ms = failureCooldownMs(entry.consecutiveFailures, backoff);
        if (ms > 0) setCooldown(entry, now + ms, "upstream_failures");
      }
    }
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
          const [before, current] = await Promise.all([dead.baseline, fingerprint(entry)]);
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
