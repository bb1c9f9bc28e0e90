import {
  buildRefreshHeaders,
  type CodexClientIdentity,
  DEFAULT_CODEX_CLIENT,
} from "../backends/codex-http/codex-headers.js";
import { CodexImgError } from "../errors.js";
import { isRecord, nonEmptyString } from "../json-values.js";

/** The OAuth client id of the Codex CLI (upstream.md §1). */
export const CODEX_CLIENT_ID = "app_EMoamEEZ73f0CkXaXp7hrann";
export const DEFAULT_TOKEN_URL = "https://auth.openai.com/oauth/token";

/** Upstream codes that mean the refresh token is gone for good: only a new `codex login` helps. */
export const PERMANENT_REFRESH_ERRORS = [
  "refresh_token_reused",
  "refresh_token_expired",
  "refresh_token_invalidated",
  "invalid_grant",
] as const;

/** Whatever the token endpoint returned; any field may be missing (then the old value stays). */
export interface RefreshedTokens {
  idToken?: string;
  accessToken?: string;
  refreshToken?: string;
}

/** Why a refresh happens, as the CLI tells the token endpoint (`refresh_reason`). */
export type RefreshReason = "proactive_expiry" | "unauthorized_recovery";

export interface TokenRefreshOptions {
  refreshToken: string;
  /** `proactive_expiry` (the token expires soon; default) or `unauthorized_recovery` (after a 401). */
  reason?: RefreshReason;
  /** Version and OS facts for the User-Agent. Default `DEFAULT_CODEX_CLIENT`. */
  client?: CodexClientIdentity;
  /** Default `DEFAULT_TOKEN_URL`. */
  tokenUrl?: string;
  fetch?: typeof fetch;
  /**
   * Aborting may lose the rotated tokens if the endpoint already answered, so callers should only pass
   * a timeout here, never a caller's cancel signal.
   */
  signal?: AbortSignal;
}

/**
 * `POST <tokenUrl>` with the refresh grant, headers and body as the CLI sends them (upstream.md
 * Appendix A); throws a classified `CodexImgError` on failure.
 */
export async function requestTokenRefresh(options: TokenRefreshOptions): Promise<RefreshedTokens> {
  const doFetch = options.fetch ?? fetch;
  const reason = options.reason ?? "proactive_expiry";
  let response: Response;
  try {
    response = await doFetch(options.tokenUrl ?? DEFAULT_TOKEN_URL, {
      method: "POST",
      headers: buildRefreshHeaders(options.client ?? DEFAULT_CODEX_CLIENT, reason),
      body: JSON.stringify({
        client_id: CODEX_CLIENT_ID,
        grant_type: "refresh_token",
        refresh_reason: reason,
        refresh_token: options.refreshToken,
      }),
      ...(options.signal ? { signal: options.signal } : {}),
    });
  } catch (error) {
    throw new CodexImgError(
      "upstream_failed",
      "Could not reach the Codex token endpoint to refresh the login.",
      {
        cause: error,
        details: { accountFault: true },
      },
    );
  }
  const text = await response.text().catch(() => "");
  const body = parseJsonLeniently(text);
  if (!response.ok) throw classifyRefreshFailure(response.status, body);

  const tokens = isRecord(body) ? body : {};
  const refreshed: RefreshedTokens = {};
  const idToken = nonEmptyString(tokens.id_token);
  const accessToken = nonEmptyString(tokens.access_token);
  const refreshToken = nonEmptyString(tokens.refresh_token);
  if (idToken) refreshed.idToken = idToken;
  if (accessToken) refreshed.accessToken = accessToken;
  if (refreshToken) refreshed.refreshToken = refreshToken;
  if (!idToken && !accessToken && !refreshToken) {
    throw new CodexImgError("upstream_failed", "The Codex token endpoint answered without any token.", {
      details: { upstreamStatus: response.status, accountFault: true },
    });
  }
  return refreshed;
}

/**
 * Maps a failed refresh reply to an error. `login_required` means permanent: the refresh token is dead
 * and retrying (here or in another process) can only make things worse.
 */
export function classifyRefreshFailure(status: number, body: unknown): CodexImgError {
  const codes = errorCodesOf(body);
  const permanent = codes.find((code) => (PERMANENT_REFRESH_ERRORS as readonly string[]).includes(code));
  const upstreamCode = permanent ?? codes[0];
  const details = {
    upstreamStatus: status,
    accountFault: true,
    ...(upstreamCode === undefined ? {} : { upstreamCode }),
  };
  if (permanent !== undefined || status === 401) {
    const why = permanent ? ` (${permanent})` : "";
    return new CodexImgError(
      "login_required",
      `The Codex login can no longer be refreshed${why}: run \`codex login\` again and sign in with ChatGPT.`,
      { details: { ...details, permanent: true } },
    );
  }
  if (status === 429) {
    return new CodexImgError("rate_limited", "The Codex token endpoint is throttling refreshes.", {
      details,
    });
  }
  if (status >= 500) {
    return new CodexImgError("upstream_failed", `The Codex token endpoint failed (HTTP ${status}).`, {
      details,
    });
  }
  return new CodexImgError(
    "upstream_failed",
    `The Codex token endpoint refused the refresh (HTTP ${status}${upstreamCode ? `, ${upstreamCode}` : ""}).`,
    { retryable: false, details },
  );
}

// Error replies come in several shapes: `{"error":"invalid_grant","error_description":…}`,
// `{"error":{"code":"refresh_token_reused","message":…}}`, `{"code":…}`, or only a sentence.
function errorCodesOf(body: unknown): string[] {
  const codes: string[] = [];
  const push = (value: unknown): void => {
    if (typeof value === "string" && /^[a-z0-9_.-]{1,80}$/i.test(value)) codes.push(value);
  };
  if (isRecord(body)) {
    if (isRecord(body.error)) {
      push(body.error.code);
      push(body.error.type);
    } else {
      push(body.error);
    }
    push(body.code);
  }
  // Free text (descriptions, messages, non-JSON bodies) is only searched for the permanent codes.
  const text = typeof body === "string" ? body : JSON.stringify(body ?? "");
  for (const code of PERMANENT_REFRESH_ERRORS) if (text.includes(code)) codes.push(code);
  return codes;
}

function parseJsonLeniently(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
