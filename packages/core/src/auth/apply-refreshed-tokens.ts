import { isRecord } from "../json-values.js";
import { readJwtClaims } from "./jwt-claims.js";
import type { RefreshedTokens } from "./token-refresh.js";

/**
 * The new content of auth.json after a refresh: the returned tokens replace the old ones, everything
 * else (unknown fields included) stays, and `last_refresh` becomes `now` in RFC 3339 with `Z`.
 */
export function applyRefreshedTokens(
  raw: Record<string, unknown>,
  refreshed: RefreshedTokens,
  now: number,
): Record<string, unknown> {
  const tokens: Record<string, unknown> = isRecord(raw.tokens) ? { ...raw.tokens } : {};
  if (refreshed.idToken) tokens.id_token = refreshed.idToken;
  if (refreshed.accessToken) tokens.access_token = refreshed.accessToken;
  if (refreshed.refreshToken) tokens.refresh_token = refreshed.refreshToken;
  // Old files lack account_id; fill it in from the new id token but never overwrite a chosen workspace.
  if (typeof tokens.account_id !== "string" || tokens.account_id.length === 0) {
    const accountId = readJwtClaims(refreshed.idToken).accountId;
    if (accountId) tokens.account_id = accountId;
  }
  return { ...raw, tokens, last_refresh: new Date(now).toISOString() };
}
