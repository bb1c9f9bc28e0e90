export interface BackoffOptions {
  /** Delay before the second attempt, in ms. Default 1000. */
  baseMs?: number;
  /** Growth per attempt. Default 2. */
  factor?: number;
  /** Upper bound, in ms. Default 60_000. */
  maxMs?: number;
  /**
   * A random source in [0, 1). When given, the delay is spread uniformly over [delay/2, delay] so retries
   * of many jobs that failed together do not line up, while keeping half the delay as a floor.
   */
  jitter?: () => number;
}

/** Delay in ms before retrying after failed attempt number `attempt` (1-based). Pure. */
export function backoffDelayMs(attempt: number, options: BackoffOptions = {}): number {
  const { baseMs = 1000, factor = 2, maxMs = 60_000, jitter } = options;
  const exponent = Math.max(0, Math.floor(attempt) - 1);
  const delay = Math.min(maxMs, baseMs * factor ** exponent);
  if (!jitter) return delay;
  return Math.round(delay / 2 + (jitter() * delay) / 2);
}
