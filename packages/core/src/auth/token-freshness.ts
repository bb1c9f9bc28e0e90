/** Refresh when the access token expires within this margin (upstream.md §1). */
export const REFRESH_MARGIN_MS = 5 * 60_000;

const DAY_MS = 24 * 3_600_000;
// Only for files whose access token carries no `exp`: the Codex CLI refreshes logins every 8 days and
// access tokens live about 10, so the age of `last_refresh` stands in for the time left.
const ASSUMED_TOKEN_LIFETIME_MS = 10 * DAY_MS;

export type TokenFreshnessState = "fresh" | "expiring" | "expired" | "unknown";
/** The predecessor's dashboard colours: red within 1 day or expired, amber within 3 days. */
export type TokenFreshnessLevel = "green" | "amber" | "red";

export interface TokenFreshness {
  /** Epoch ms; estimated from `last_refresh` when `basis` says so. */
  expiresAt?: number;
  expiresInMs?: number;
  /** True when the access token expires within `REFRESH_MARGIN_MS` (only from a real `exp`). */
  needsRefresh: boolean;
  state: TokenFreshnessState;
  level: TokenFreshnessLevel;
  basis: "exp" | "last_refresh" | "none";
  /** Whole days since `last_refresh`, when known. */
  daysSinceRefresh?: number;
}

export function tokenFreshness(
  login: { accessTokenExpiresAt?: number; lastRefreshAt?: number },
  now: number,
): TokenFreshness {
  const daysSinceRefresh =
    login.lastRefreshAt === undefined
      ? undefined
      : Math.max(0, Math.floor((now - login.lastRefreshAt) / DAY_MS));
  const since = daysSinceRefresh === undefined ? {} : { daysSinceRefresh };
  const basis =
    login.accessTokenExpiresAt !== undefined
      ? "exp"
      : login.lastRefreshAt !== undefined
        ? "last_refresh"
        : "none";
  if (basis === "none") return { needsRefresh: false, state: "unknown", level: "red", basis };

  const expiresAt = login.accessTokenExpiresAt ?? (login.lastRefreshAt as number) + ASSUMED_TOKEN_LIFETIME_MS;
  const expiresInMs = expiresAt - now;
  const needsRefresh = basis === "exp" && expiresInMs <= REFRESH_MARGIN_MS;
  const state = expiresInMs <= 0 ? "expired" : expiresInMs <= REFRESH_MARGIN_MS ? "expiring" : "fresh";
  const level = expiresInMs <= DAY_MS ? "red" : expiresInMs <= 3 * DAY_MS ? "amber" : "green";
  return { expiresAt, expiresInMs, needsRefresh, state, level, basis, ...since };
}
