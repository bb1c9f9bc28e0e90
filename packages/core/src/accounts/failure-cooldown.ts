/** Brief cooldowns after repeated upstream failures (5xx, timeouts) on one account. */
export interface FailureCooldownOptions {
  /** Cooldown after the `afterFailures`-th consecutive failure. */
  baseMs: number;
  /** Upper bound of the doubling. */
  maxMs: number;
  /** Consecutive failures tolerated before the first cooldown; a single blip should not bench an account. */
  afterFailures: number;
}

export const DEFAULT_FAILURE_COOLDOWN: Readonly<FailureCooldownOptions> = {
  baseMs: 5_000,
  maxMs: 300_000,
  afterFailures: 2,
};

/**
 * Cooldown in ms after `consecutiveFailures` failures in a row: 0 below `afterFailures`, then
 * `baseMs`, doubling with each further failure, capped at `maxMs`.
 */
export function failureCooldownMs(
  consecutiveFailures: number,
  options: FailureCooldownOptions = DEFAULT_FAILURE_COOLDOWN,
): number {
  if (consecutiveFailures < Math.max(1, options.afterFailures)) return 0;
  const doublings = consecutiveFailures - Math.max(1, options.afterFailures);
  // Cap the exponent so huge failure counts cannot overflow to Infinity before the cap applies.
  return Math.min(options.maxMs, options.baseMs * 2 ** Math.min(doublings, 30));
}
