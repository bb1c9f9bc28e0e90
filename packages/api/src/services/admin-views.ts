import type {
  AccountState,
  BackendKind,
  BackendRoute,
  CooldownReason,
  DispatchMode,
  ErrorCode,
  JobState,
  TokenFreshnessLevel,
  TokenFreshnessState,
} from "@codex-img/core";
import type { ApiKeyRecord, UsageTotals, UsageWallSetting } from "@codex-img/db";

/**
 * What the dashboard shows. Plain JSON (epoch-ms numbers, nulls rather than absent fields) so the page
 * formats times in the viewer's zone and TypeScript gives it exact shapes through `AppRouter`.
 */

/** One quota window as upstream last reported it. */
export interface QuotaWindowView {
  /** `primary` (the short, ~5 h window) or `secondary` (the weekly one). */
  name: "primary" | "secondary";
  usedPercent: number;
  remainingPercent: number;
  windowMinutes: number | null;
  resetsAt: number | null;
}

/** The Codex login behind an account, read from its auth.json without refreshing. No token. */
export interface AccountLoginView {
  state: "ok" | "login_required";
  /** The account's Codex home on the server, where `codex login` must be run again. */
  home: string;
  plan: string | null;
  email: string | null;
  /** First 8 characters of the ChatGPT account id. */
  accountIdShort: string | null;
  /** Access-token expiry, epoch ms (estimated from `last_refresh` when `basis` says so). */
  expiresAt: number | null;
  freshness: TokenFreshnessState;
  /** green = more than 3 days left, amber = within 3 days, red = within a day or expired. */
  level: TokenFreshnessLevel;
  basis: "exp" | "last_refresh" | "none";
  lastRefreshAt: number | null;
  /** Why the login cannot be used, with the fix (`codex login`). */
  error: string | null;
}

/** The rolling-window image wall of one account (settings `usageWall`). */
export interface AccountWallView {
  /** Images delivered in the last `windowHours`. */
  used: number;
  limit: number;
  percent: number;
  level: "ok" | "warn" | "danger";
  /** Images per hour over the last 24 h. */
  ratePerHour: number;
  /** Images the rolling window holds once this rate has gone on for a whole window (rate × window). */
  settlesAt: number;
  /**
   * When the window reaches `limit` if the last 24 h rate goes on (epoch ms); null when it never does at
   * this rate (`settlesAt` below the limit) or the wall is already reached (then `level` is danger).
   */
  forecastAt: number | null;
}

/**
 * A configured Codex home the pool does not use (the demo backend serves): shown so the owner sees what
 * each needs before it can serve.
 */
export interface CodexHomeView {
  label: string;
  login: AccountLoginView;
  /** `login`: run `codex login` for it; `refresh`: its token has expired (refreshed on first use). */
  needs: "login" | "refresh" | null;
}

export interface AccountOverview {
  label: string;
  state: AccountState;
  /** Requests running on it now. */
  active: number;
  maxConcurrency: number;
  cooldownUntil: number | null;
  cooldownReason: CooldownReason | null;
  deadReason: string | null;
  /** Remaining percent of the tightest live quota window (100 when unknown). */
  remainingPercent: number;
  quota: {
    observedAt: number;
    planType: string | null;
    /** `poll`: read from the usage endpoint; `reply`: from a reply's headers or events. */
    source: "poll" | "reply";
    windows: QuotaWindowView[];
  } | null;
  /** The last reading of the usage endpoint, when the server polls it; `error` when it failed. */
  quotaPoll: { at: number; error: string | null } | null;
  /** Null for backends whose accounts are not Codex homes. */
  login: AccountLoginView | null;
  lastError: { code: ErrorCode; message: string; at: number } | null;
  /** Images of jobs that finished successfully in the last 5, 24 and 48 hours. */
  images: { h5: number; h24: number; h48: number };
  /** The last 30 days (UTC days, today included). */
  last30d: UsageTotals;
  /** Succeeded / (succeeded + failed) over the last 24 h; null without finished jobs. */
  successRate24h: number | null;
  wall: AccountWallView;
  /** The last 7 UTC days, oldest first, zeros included. */
  daily: Array<{ day: string; images: number; succeeded: number; failed: number }>;
}

export interface SystemOverview {
  now: number;
  version: string;
  backend: BackendKind;
  /** The demo backend makes placeholder images: the dashboard shows a banner. */
  demo: boolean;
  dispatchMode: DispatchMode;
  queue: { queued: number; running: number };
  wall: UsageWallSetting;
  accounts: AccountOverview[];
  /** Configured Codex homes outside the pool (with the demo backend: all of them). */
  homes: CodexHomeView[];
  /**
   * Accounts and configured homes that need `codex login` (dead or without a usable login), with the
   * Codex home to log in again (admin-only: error messages that reach API callers name the label only).
   */
  needsLogin: Array<{ label: string; home: string | null }>;
}

/**
 * One key's use of its limits right now. `limit` null = unlimited; then `used` is null too for the
 * counted windows (minute, day, month), because only limited windows are counted.
 */
export interface KeyUsageView {
  minute: { used: number | null; limit: number | null };
  day: { used: number | null; limit: number | null };
  month: { used: number | null; limit: number | null };
  /** Vision requests (questions about images) today and this month, counted apart from images. */
  visionDay: { used: number | null; limit: number | null };
  visionMonth: { used: number | null; limit: number | null };
  concurrent: { used: number; limit: number | null };
  /** The last 30 days from history. */
  last30d: UsageTotals;
}

export type KeyWithUsage = ApiKeyRecord & { usage: KeyUsageView };

export interface AttemptView {
  number: number;
  /** Comma-separated when n > 1 ran on several accounts. */
  account: string | null;
  backend: BackendKind | null;
  route: BackendRoute | null;
  upstreamIds: Record<string, string>;
  startedAt: number;
  finishedAt: number | null;
  durationMs: number | null;
  error: ErrorView | null;
  /** What the backend reported besides images: the CLI's stdout and stderr tails (redacted), etc. */
  diagnostics: Record<string, string>;
}

export interface ErrorView {
  code: ErrorCode;
  message: string;
  retryAfterMs: number | null;
  /** Error details without secrets (for the CLI: exit code, stderr tail). */
  details: Record<string, unknown>;
}

export interface ImageView {
  url: string;
  width: number;
  height: number;
  format: string;
  bytes: number;
  revisedPrompt: string | null;
}

/** Everything the owner may know about a job, accounts and attempts included. */
export interface AdminJobView {
  id: string;
  state: JobState;
  keyId: string | null;
  keyName: string | null;
  request: {
    prompt: string;
    size: string;
    quality: string;
    background: string;
    outputFormat: string;
    n: number;
    model: string;
    referenceImages: number;
  };
  priority: number;
  images: ImageView[];
  error: ErrorView | null;
  attempts: AttemptView[];
  maxAttempts: number;
  progress: { stage: string; at: number } | null;
  cancelRequested: boolean;
  idempotencyKey: string | null;
  createdAt: number;
  startedAt: number | null;
  finishedAt: number | null;
  expiresAt: number | null;
}

/** What "run cleanup now" freed. */
export interface CleanupReport {
  /** Finished jobs older than the retention whose images were deleted (rows stay as `expired`). */
  expiredJobs: number;
  deletedFiles: number;
  freedBytes: number;
  sweptCounters: number;
  sweptSessions: number;
  temporaryFiles: number;
  /** Files older than a day that no job refers to (left by a crash or a failed delete), deleted. */
  orphanFiles: number;
  /** Their size. */
  orphanBytes: number;
  retentionDays: number;
}
