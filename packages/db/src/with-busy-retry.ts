import { CodexImgError } from "@codex-img/core";

export interface BusyRetryOptions {
  /** How long to keep retrying a busy database before giving up, in ms. Default 5000. */
  maxWaitMs?: number;
  /** First delay after a busy answer, in ms; doubles per retry up to `maxDelayMs`. Default 2. */
  initialDelayMs?: number;
  /** Longest single delay, in ms. Default 100. */
  maxDelayMs?: number;
  /** Epoch ms; default `Date.now`. Injected by tests that must not wait for real. */
  now?: () => number;
  /** Default a `setTimeout` promise. */
  sleep?: (ms: number) => Promise<void>;
  /** Default `Math.random`. */
  random?: () => number;
}

/** What the caller is told after the bound: a transient condition worth a retry, never SQL text or paths. */
export const DATABASE_BUSY_MESSAGE = "The database is busy; try again shortly.";

const BUSY_CODES = new Set(["SQLITE_BUSY", "SQLITE_LOCKED"]);

/**
 * Whether an error (or anything in its `cause` chain, as Drizzle wraps driver errors) is SQLite's
 * "another connection holds the lock". `LibsqlError.code` carries the base code, so the extended ones
 * (`SQLITE_BUSY_SNAPSHOT`, `SQLITE_BUSY_RECOVERY`, `SQLITE_LOCKED_SHAREDCACHE`) arrive as these two;
 * `extendedCode` and the raw number are checked too for errors that come through another layer.
 */
export function isBusyError(error: unknown): boolean {
  for (let current = error, depth = 0; current instanceof Error && depth < 8; depth++) {
    const { code, extendedCode, rawCode } = current as Error & {
      code?: unknown;
      extendedCode?: unknown;
      rawCode?: unknown;
    };
    if (typeof code === "string" && BUSY_CODES.has(code)) return true;
    if (typeof extendedCode === "string" && /^SQLITE_(BUSY|LOCKED)(_|$)/.test(extendedCode)) return true;
    if (typeof rawCode === "number" && ((rawCode & 0xff) === 5 || (rawCode & 0xff) === 6)) return true;
    current = current.cause;
  }
  return false;
}

/**
 * Runs `operation`, and runs it again after a jittered, growing delay while it fails because the database
 * is locked by another connection or process. SQLite allows one writer at a time, so this is contention,
 * not failure; past `maxWaitMs` it becomes `rate_limited` (429, retryable, with `retryAfterMs`) so callers
 * back off instead of seeing a 500. The operation must be safe to repeat: a whole transaction, not a piece.
 */
export async function withBusyRetry<T>(
  operation: () => Promise<T>,
  options: BusyRetryOptions = {},
): Promise<T> {
  const maxWaitMs = options.maxWaitMs ?? 5000;
  const initialDelayMs = options.initialDelayMs ?? 2;
  const maxDelayMs = options.maxDelayMs ?? 100;
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const random = options.random ?? Math.random;
  const started = now();
  for (let retry = 0; ; retry++) {
    try {
      return await operation();
    } catch (error) {
      if (!isBusyError(error)) throw error;
      const waited = now() - started;
      if (waited >= maxWaitMs) {
        throw new CodexImgError("rate_limited", DATABASE_BUSY_MESSAGE, {
          retryable: true,
          retryAfterMs: 1000,
          details: { reason: "database_busy", waitedMs: waited, retries: retry },
          cause: error,
        });
      }
      const ceiling = Math.min(maxDelayMs, initialDelayMs * 2 ** Math.min(retry, 20));
      // Full jitter: processes that collided once must not wake in step and collide again.
      const delay = Math.min(maxWaitMs - waited, Math.max(1, Math.round(ceiling * random())));
      await sleep(delay);
    }
  }
}
