import { buildWhamHeaders, type CodexClientIdentity } from "../backends/codex-http/codex-headers.js";
import { parseWhamUsage } from "../backends/codex-http/quota-snapshot.js";
import { type Clock, systemClock } from "../clock.js";
import { CodexImgError, isCodexImgError, toCodexImgError } from "../errors.js";
import { type Logger, silentLogger } from "../logger.js";
import type { CodexCredentials, CredentialProvider, QuotaSnapshot } from "../types.js";
import type { AccountPool } from "./account-pool.js";

export const DEFAULT_USAGE_BASE_URL = "https://chatgpt.com/backend-api";

export interface FetchUsageSnapshotOptions {
  credentials: CredentialProvider;
  /** Default `https://chatgpt.com/backend-api`; the request goes to `{baseUrl}/wham/usage`. */
  baseUrl?: string;
  fetch?: typeof fetch;
  clock?: Clock;
  signal?: AbortSignal;
  /**
   * Who we say we are in the User-Agent (the CLI version and this machine). Default
   * `DEFAULT_CODEX_CLIENT`. Pair it with an exact fetch (`createExactFetch`) for the CLI's header order.
   */
  client?: CodexClientIdentity;
}

/**
 * Reads one account's usage windows from `GET {baseUrl}/wham/usage` (upstream.md §3) with the headers
 * of the CLI's `wham` requests (`buildWhamHeaders`). A 401 gets one credential recovery, as on the
 * image routes. Throws `CodexImgError` (`login_required`, `rate_limited`,
 * `upstream_failed`, `canceled`).
 */
export async function fetchUsageSnapshot(options: FetchUsageSnapshotOptions): Promise<QuotaSnapshot> {
  const doFetch = options.fetch ?? fetch;
  const clock = options.clock ?? systemClock;
  const url = `${(options.baseUrl ?? DEFAULT_USAGE_BASE_URL).replace(/\/+$/, "")}/wham/usage`;
  const call = (credentials: CodexCredentials): Promise<Response> =>
    doFetch(url, {
      method: "GET",
      headers: buildWhamHeaders(credentials, options.client),
      ...(options.signal ? { signal: options.signal } : {}),
    });

  try {
    let credentials = await options.credentials.get(options.signal);
    let response = await call(credentials);
    if (response.status === 401) {
      await response.body?.cancel();
      credentials = await options.credentials.recoverFromUnauthorized(
        credentials.accessToken,
        options.signal,
      );
      response = await call(credentials);
    }
    const text = await response.text();
    if (!response.ok) throw usageHttpError(response, text);
    const snapshot = parseUsageBody(text, clock.now());
    if (!snapshot) {
      throw new CodexImgError("upstream_failed", "The usage reply held no rate limit windows.", {
        details: { upstreamStatus: response.status },
      });
    }
    return snapshot;
  } catch (error) {
    if (options.signal?.aborted && !isCodexImgError(error)) {
      throw new CodexImgError("canceled", "Reading usage was canceled.", { cause: error });
    }
    throw toCodexImgError(error, "upstream_failed");
  }
}

// Lenient: the windows may sit under `rate_limit`, `rate_limits` or at the top level.
function parseUsageBody(text: string, now: number): QuotaSnapshot | undefined {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof body !== "object" || body === null || Array.isArray(body)) return undefined;
  const record = body as Record<string, unknown>;
  const limit = record.rate_limit ?? record.rate_limits ?? record;
  return parseWhamUsage({ ...record, rate_limit: limit }, now);
}

function usageHttpError(response: Response, text: string): CodexImgError {
  const status = response.status;
  const details = { upstreamStatus: status };
  if (status === 401 || status === 403) {
    return new CodexImgError("login_required", `The usage endpoint refused the login (HTTP ${status}).`, {
      details: { ...details, accountFault: true },
    });
  }
  if (status === 429) {
    const seconds = Number(response.headers.get("retry-after"));
    return new CodexImgError("rate_limited", "The usage endpoint is throttling.", {
      ...(Number.isFinite(seconds) && seconds > 0 ? { retryAfterMs: seconds * 1000 } : {}),
      details,
    });
  }
  return new CodexImgError(
    "upstream_failed",
    `The usage endpoint answered HTTP ${status}: ${text.slice(0, 200)}`,
    {
      details,
    },
  );
}

export interface UsagePollingOptions {
  /** Between two rounds. Default 120 000 (what the predecessor cached). */
  intervalMs?: number;
  /**
   * Each wait is `intervalMs` times a factor from `1 - jitter` to `1 + jitter`, so servers started
   * together do not poll in step. Default 0.2.
   */
  jitter?: number;
  /** Source of the jitter, 0 to 1. Default `Math.random`. */
  random?: () => number;
  /** Before the first round. Default 0. */
  initialDelayMs?: number;
  /** Upper bound of one account's request. Default 30 000. */
  timeoutMs?: number;
  baseUrl?: string;
  fetch?: typeof fetch;
  clock?: Clock;
  logger?: Logger;
  /** See `FetchUsageSnapshotOptions.client`. */
  client?: CodexClientIdentity;
}

export interface UsagePolling {
  /** Polls every eligible account now (also what each timer tick does). */
  pollNow(): Promise<void>;
  /** Stops the timer and aborts requests in flight. */
  stop(): void;
}

/**
 * Keeps the pool's quota snapshots fresh between requests, so quota-aware dispatch and the dashboard
 * see accounts nobody used lately. Skips dead accounts, accounts without credentials, accounts with
 * a request running (their replies carry quota headers anyway, and for `codex-cli` accounts it keeps
 * this process from refreshing a token while the CLI may be rotating it) and accounts cooling down
 * until a known reset (a used-up window says nothing new until then). Every reading, or why it failed,
 * is recorded on the account (`pool.recordQuotaPoll`); a failure is logged and never fatal.
 */
export function startUsagePolling(pool: AccountPool, options: UsagePollingOptions = {}): UsagePolling {
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? silentLogger;
  const intervalMs = options.intervalMs ?? 120_000;
  const jitter = Math.min(1, Math.max(0, options.jitter ?? 0.2));
  const random = options.random ?? Math.random;
  const jittered = (): number => Math.round(intervalMs * (1 - jitter + 2 * jitter * random()));
  const timeoutMs = options.timeoutMs ?? 30_000;
  let stopped = false;
  let cancelTimer: (() => void) | undefined;
  const inflight = new Set<AbortController>();

  const pollOne = async (label: string, credentials: CredentialProvider): Promise<void> => {
    const controller = new AbortController();
    inflight.add(controller);
    const cancelTimeout = clock.setTimeout(() => controller.abort(), timeoutMs);
    try {
      const snapshot = await fetchUsageSnapshot({
        credentials,
        clock,
        signal: controller.signal,
        ...(options.baseUrl ? { baseUrl: options.baseUrl } : {}),
        ...(options.fetch ? { fetch: options.fetch } : {}),
        ...(options.client ? { client: options.client } : {}),
      });
      if (!stopped) pool.recordQuotaPoll(label, { at: clock.now(), snapshot });
    } catch (error) {
      // A failed poll says little about the account; image requests decide cooldowns and death.
      if (stopped) return;
      logger.warn("usage poll failed", { account: label, error });
      pool.recordQuotaPoll(label, { at: clock.now(), error: toCodexImgError(error, "upstream_failed") });
    } finally {
      cancelTimeout();
      inflight.delete(controller);
    }
  };

  const pollNow = async (): Promise<void> => {
    if (stopped) return;
    const views = new Map(pool.snapshot().map((v) => [v.label, v]));
    const due = pool.accounts().filter((account) => {
      const v = views.get(account.label);
      const knownReset =
        v?.state === "cooling_down" &&
        (v.cooldownReason === "quota_exhausted" || v.cooldownReason === "quota_low");
      return account.credentials && v && v.state !== "dead" && v.active === 0 && !knownReset;
    });
    await Promise.all(
      due.map((account) => pollOne(account.label, account.credentials as CredentialProvider)),
    );
  };

  const schedule = (ms: number): void => {
    if (stopped) return;
    cancelTimer = clock.setTimeout(() => {
      cancelTimer = undefined;
      void pollNow().finally(() => schedule(jittered()));
    }, ms);
  };

  schedule(options.initialDelayMs ?? 0);

  return {
    pollNow,
    stop() {
      stopped = true;
      cancelTimer?.();
      cancelTimer = undefined;
      for (const controller of inflight) controller.abort();
    },
  };
}
