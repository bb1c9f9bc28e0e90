import type { CodexLogin } from "./parse-auth-file.js";
import { type TokenFreshness, tokenFreshness } from "./token-freshness.js";

/** What a dashboard or log may show about a login. Holds no token by construction. */
export interface CodexLoginSummary {
  email?: string;
  plan?: string;
  accountId: string;
  /** First 8 characters of the account id, as the predecessor's dashboard showed. */
  accountIdShort: string;
  /** Access-token expiry, epoch ms. */
  expiresAt?: number;
  /** `last_refresh`, epoch ms. */
  lastRefreshAt?: number;
  freshness: TokenFreshness;
}

export function summarizeLogin(login: CodexLogin, now: number): CodexLoginSummary {
  return {
    ...(login.email === undefined ? {} : { email: login.email }),
    ...(login.plan === undefined ? {} : { plan: login.plan }),
    accountId: login.accountId,
    accountIdShort: login.accountId.slice(0, 8),
    ...(login.accessTokenExpiresAt === undefined ? {} : { expiresAt: login.accessTokenExpiresAt }),
    ...(login.lastRefreshAt === undefined ? {} : { lastRefreshAt: login.lastRefreshAt }),
    freshness: tokenFreshness(login, now),
  };
}
