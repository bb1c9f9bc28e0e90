import { CodexImgError } from "../errors.js";
import { isRecord, nonEmptyString } from "../json-values.js";
import { readJwtClaims } from "./jwt-claims.js";
import { parseLastRefresh } from "./last-refresh.js";

/** The tokens of a ChatGPT login. Secrets: never log, never put into a message. */
export interface CodexTokens {
  idToken?: string;
  /** Missing only in damaged files; then the first `get()` refreshes. */
  accessToken?: string;
  refreshToken?: string;
}

/** A usable ChatGPT login read from `$CODEX_HOME/auth.json`. */
export interface CodexLogin {
  tokens: CodexTokens;
  /** `tokens.account_id`, else the `chatgpt_account_id` claim of the id token, else of the access token. */
  accountId: string;
  email?: string;
  plan?: string;
  /** `exp` of the access token, epoch ms. */
  accessTokenExpiresAt?: number;
  /** `last_refresh`, epoch ms. */
  lastRefreshAt?: number;
  /** The whole parsed file, so that a write-back keeps fields codex-img does not know. */
  raw: Record<string, unknown>;
}

export interface ParseAuthFileOptions {
  /** Where the text came from; only used in messages. */
  path?: string;
}

export const CODEX_LOGIN_FIX = "run `codex login` and sign in with ChatGPT";

/**
 * Turns the text of auth.json (undefined when the file does not exist) into a ChatGPT login, or throws
 * `login_required` saying what to do. Messages never quote the file: it holds tokens.
 */
export function parseAuthFile(text: string | undefined, options: ParseAuthFileOptions = {}): CodexLogin {
  const where = options.path ?? "auth.json";
  if (text === undefined) {
    throw loginRequired(
      `No Codex login found (${where} does not exist): ${CODEX_LOGIN_FIX}. If Codex keeps its ` +
        'credentials in the OS keyring, set cli_auth_credentials_store = "file" in config.toml and log in again.',
      "missing",
    );
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    // No cause: V8's SyntaxError quotes a slice of the text, which may be a token.
    throw loginRequired(`${where} is not valid JSON: ${CODEX_LOGIN_FIX} to write it again.`, "malformed");
  }
  if (!isRecord(raw)) {
    throw loginRequired(`${where} does not hold a JSON object: ${CODEX_LOGIN_FIX}.`, "malformed");
  }

  const mode = loginMode(raw);
  if (mode === "apikey") {
    throw loginRequired(
      `${where} holds an API-key login, which cannot use the ChatGPT subscription: ${CODEX_LOGIN_FIX}.`,
      "apikey",
    );
  }
  if (mode !== "chatgpt") {
    // Refreshing tokens of a mode we do not know could break the owner's login; ask for a plain one.
    throw loginRequired(
      `${where} uses auth_mode "${mode.slice(0, 40)}", which codex-img does not support: ${CODEX_LOGIN_FIX}.`,
      "unsupported_mode",
    );
  }

  const rawTokens = isRecord(raw.tokens) ? raw.tokens : {};
  const tokens: CodexTokens = {};
  const idToken = nonEmptyString(rawTokens.id_token);
  const accessToken = nonEmptyString(rawTokens.access_token);
  const refreshToken = nonEmptyString(rawTokens.refresh_token);
  if (idToken) tokens.idToken = idToken;
  if (accessToken) tokens.accessToken = accessToken;
  if (refreshToken) tokens.refreshToken = refreshToken;
  if (!accessToken && !refreshToken) {
    throw loginRequired(`${where} has no ChatGPT tokens: ${CODEX_LOGIN_FIX}.`, "no_tokens");
  }

  const idClaims = readJwtClaims(idToken);
  const accessClaims = readJwtClaims(accessToken);
  const accountId = nonEmptyString(rawTokens.account_id) ?? idClaims.accountId ?? accessClaims.accountId;
  if (!accountId) {
    throw loginRequired(`${where} does not name a ChatGPT account: ${CODEX_LOGIN_FIX}.`, "no_account");
  }
  const email = idClaims.email ?? accessClaims.email;
  const plan = idClaims.plan ?? accessClaims.plan;
  const lastRefreshAt = parseLastRefresh(raw.last_refresh);
  return {
    tokens,
    accountId,
    ...(email === undefined ? {} : { email }),
    ...(plan === undefined ? {} : { plan }),
    ...(accessClaims.expiresAt === undefined ? {} : { accessTokenExpiresAt: accessClaims.expiresAt }),
    ...(lastRefreshAt === undefined ? {} : { lastRefreshAt }),
    raw,
  };
}

/** `auth_mode`, or for old files without it: chatgpt unless an API key is set (upstream.md §1). */
function loginMode(raw: Record<string, unknown>): string {
  const mode = nonEmptyString(raw.auth_mode);
  if (mode !== undefined) return mode.toLowerCase() === "apikey" ? "apikey" : mode.toLowerCase();
  return nonEmptyString(raw.OPENAI_API_KEY) ? "apikey" : "chatgpt";
}

function loginRequired(message: string, reason: string): CodexImgError {
  return new CodexImgError("login_required", message, {
    details: { accountFault: true, reason },
  });
}
