import { basename } from "node:path";
import { applyRefreshedTokens } from "../auth/apply-refreshed-tokens.js";
import { summarizeLogin } from "../auth/login-summary.js";
import { CODEX_LOGIN_FIX, type CodexLogin, parseAuthFile } from "../auth/parse-auth-file.js";
import { tokenFreshness } from "../auth/token-freshness.js";
import {
  DEFAULT_TOKEN_URL,
  type RefreshedTokens,
  type RefreshReason,
  requestTokenRefresh,
} from "../auth/token-refresh.js";
import { systemClock } from "../clock.js";
import { CodexImgError, isCodexImgError } from "../errors.js";
import { silentLogger } from "../logger.js";
import { secretFingerprint } from "../redact.js";
import type { CodexCredentials } from "../types.js";
import {
  type AuthFileSnapshot,
  authFilePath,
  authFileStamp,
  authLockPath,
  readAuthFile,
  writeAuthFile,
} from "./codex-home.js";
import type { CodexHomeCredentials, CodexHomeCredentialsOptions } from "./codex-home-credential-types.js";
import { withFileLock } from "./file-lock.js";
import { untilAborted } from "./until-aborted.js";

type RefreshTrigger =
  | { kind: "expiring" }
  | { kind: "unauthorized"; failedAccessToken: string }
  | { kind: "forced"; seenRefreshToken: string | undefined };

/**
 * Credentials of one Codex home, refreshed safely: one refresh at a time per home across processes
 * (lock file), auth.json re-read under the lock so that tokens another process refreshed are adopted
 * instead of spending the old refresh token twice, atomic write-back, and one shared in-flight refresh
 * per provider. Create one provider per home and process, and share it.
 */
export function createCodexHomeCredentials(options: CodexHomeCredentialsOptions): CodexHomeCredentials {
  const { home } = options;
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? silentLogger;
  const label = options.label ?? basename(home);
  const tokenUrl = options.tokenUrl ?? DEFAULT_TOKEN_URL;
  const refreshTimeoutMs = options.refreshTimeoutMs ?? 60_000;

  let cached: { text: string; login: CodexLogin } | undefined;
  // A permanent refresh failure, remembered with the file text it happened on: retrying the same
  // refresh token could only repeat it (or look like reuse), so wait until someone logs in again.
  let dead: { error: CodexImgError; text: string | undefined } | undefined;
  let inflight: Promise<CodexLogin> | undefined;

  const needsRefresh = (login: CodexLogin): boolean =>
    !login.tokens.accessToken || tokenFreshness(login, clock.now()).needsRefresh;

  const stillUsable = (login: CodexLogin): boolean =>
    login.tokens.accessToken !== undefined &&
    (login.accessTokenExpiresAt === undefined || login.accessTokenExpiresAt > clock.now());

  // Messages name the account, never the server path of its home: they can reach API callers.
  const where = `the auth.json of account "${label}"`;

  const parse = (snapshot: AuthFileSnapshot): CodexLogin => {
    if (dead) {
      if (dead.text === snapshot.text) throw dead.error;
      dead = undefined;
      logger.info("codex login changed on disk; trying it again", { home, account: label });
    }
    if (cached && snapshot.text !== undefined && cached.text === snapshot.text) return cached.login;
    const login = parseAuthFile(snapshot.text, { path: where });
    cached = snapshot.text === undefined ? undefined : { text: snapshot.text, login };
    return login;
  };

  // Every upstream call asks for the login, and another process (the CLI, another instance) may have
  // refreshed it on disk: the file is read again only when its stamp changed since the last read. The
  // stamp is taken before the read, so a change racing the read is seen on the next call.
  let lastRead: { stamp: string; snapshot: AuthFileSnapshot } | undefined;
  const load = async (): Promise<CodexLogin> => {
    const stamp = await authFileStamp(home);
    if (stamp !== undefined && lastRead?.stamp === stamp) return parse(lastRead.snapshot);
    const snapshot = await readAuthFile(home);
    lastRead = stamp === undefined ? undefined : { stamp, snapshot };
    return parse(snapshot);
  };

  const otherProcessRefreshed = (trigger: RefreshTrigger, current: CodexLogin): boolean => {
    switch (trigger.kind) {
      case "expiring":
        return !needsRefresh(current);
      case "unauthorized":
        return current.tokens.accessToken !== trigger.failedAccessToken && !needsRefresh(current);
      case "forced":
        return current.tokens.refreshToken !== trigger.seenRefreshToken;
    }
  };

  const refreshUnderLock = (trigger: RefreshTrigger): Promise<CodexLogin> =>
    withFileLock(
      authLockPath(home),
      async () => {
        // Re-read under the lock: the refresh token must be the newest one on disk, never a cached one.
        const snapshot = await readAuthFile(home);
        const current = parse(snapshot);
        if (otherProcessRefreshed(trigger, current)) {
          logger.info("codex login was refreshed elsewhere; adopted the tokens on disk", {
            home,
            account: label,
          });
          return current;
        }
        const refreshToken = current.tokens.refreshToken;
        if (!refreshToken) {
          throw new CodexImgError("login_required", `${where} has no refresh token: ${CODEX_LOGIN_FIX}.`, {
            details: { accountFault: true, account: label },
          });
        }
        const reason: RefreshReason =
          trigger.kind === "unauthorized" ? "unauthorized_recovery" : "proactive_expiry";
        const spend = (token: string): Promise<RefreshedTokens> =>
          requestTokenRefresh({
            refreshToken: token,
            tokenUrl,
            reason,
            ...(options.client ? { client: options.client } : {}),
            ...(options.fetch ? { fetch: options.fetch } : {}),
            signal: AbortSignal.timeout(refreshTimeoutMs),
          });
        let refreshed: RefreshedTokens;
        let base = current;
        let spentSnapshot = snapshot;
        try {
          try {
            refreshed = await spend(refreshToken);
          } catch (error) {
            // The official CLI refreshes the same home without our lock: if it spent the token between our
            // read and our request, auth.json now holds its rotated tokens. Re-read once and use them.
            if (
              !(
                isCodexImgError(error, "login_required") &&
                error.details.upstreamCode === "refresh_token_reused"
              )
            )
              throw error;
            const again = await readAuthFile(home);
            const onDisk = parse(again);
            const newer = onDisk.tokens.refreshToken;
            if (!newer || newer === refreshToken) throw error;
            logger.info("codex refresh token was spent by another writer; using the tokens on disk", {
              home,
              account: label,
            });
            if (!needsRefresh(onDisk) && onDisk.tokens.accessToken !== failedTokenOf(trigger)) return onDisk;
            base = onDisk;
            spentSnapshot = again;
            refreshed = await spend(newer);
          }
        } catch (error) {
          if (isCodexImgError(error, "login_required")) {
            dead = { error, text: spentSnapshot.text };
            error.details.account = label;
            logger.warn("codex login can no longer be refreshed", { home, account: label, error });
          }
          throw error;
        }
        const content = applyRefreshedTokens(base.raw, refreshed, clock.now());
        const text = `${JSON.stringify(content, null, 2)}\n`;
        const next = parseAuthFile(text, { path: where });
        try {
          await writeAuthFile(home, content);
        } catch (error) {
          // The old refresh token is spent; keep the new tokens in memory so this process goes on working.
          logger.error("could not write refreshed codex tokens to auth.json", {
            home,
            account: label,
            error,
          });
        }
        cached = { text, login: next };
        logger.info("codex tokens rotated", {
          home,
          account: label,
          accessToken: next.tokens.accessToken ? await secretFingerprint(next.tokens.accessToken) : undefined,
          refreshTokenRotated:
            refreshed.refreshToken !== undefined && refreshed.refreshToken !== refreshToken,
        });
        return next;
      },
      options.lock ?? {},
    );

  const refreshShared = (trigger: RefreshTrigger, signal?: AbortSignal): Promise<CodexLogin> => {
    // One refresh per process at a time; the caller's signal only stops its wait, never the refresh.
    inflight ??= refreshUnderLock(trigger).finally(() => {
      inflight = undefined;
    });
    return untilAborted(inflight, signal);
  };

  const credentialsOf = (login: CodexLogin): CodexCredentials => {
    const accessToken = login.tokens.accessToken;
    if (!accessToken) {
      throw new CodexImgError(
        "login_required",
        `The Codex login of ${label} has no access token: ${CODEX_LOGIN_FIX}.`,
        {
          details: { accountFault: true, account: label },
        },
      );
    }
    return { accessToken, accountId: login.accountId };
  };

  return {
    home,
    label,

    async get(signal) {
      signal?.throwIfAborted();
      const login = await load();
      if (!needsRefresh(login)) return credentialsOf(login);
      try {
        return credentialsOf(await refreshShared({ kind: "expiring" }, signal));
      } catch (error) {
        // A passing outage of the token endpoint should not stop a token that still has minutes left.
        if (!isCodexImgError(error, "login_required") && !signal?.aborted && stillUsable(login)) {
          logger.warn("codex token refresh failed; using the current token until it expires", {
            home,
            account: label,
            error,
          });
          return credentialsOf(login);
        }
        throw error;
      }
    },

    async recoverFromUnauthorized(failedAccessToken, signal) {
      signal?.throwIfAborted();
      const login = await load();
      if (
        login.tokens.accessToken &&
        login.tokens.accessToken !== failedAccessToken &&
        !needsRefresh(login)
      ) {
        return credentialsOf(login);
      }
      return credentialsOf(await refreshShared({ kind: "unauthorized", failedAccessToken }, signal));
    },

    async refresh(signal) {
      signal?.throwIfAborted();
      const login = await load();
      return credentialsOf(
        await refreshShared({ kind: "forced", seenRefreshToken: login.tokens.refreshToken }, signal),
      );
    },

    async summary() {
      const base = { home, label, authPath: authFilePath(home) };
      try {
        const login = await load();
        return { ...base, state: "ok", dead: false, login: summarizeLogin(login, clock.now()) };
      } catch (error) {
        if (!isCodexImgError(error, "login_required")) throw error;
        return {
          ...base,
          state: "login_required",
          dead: dead?.error === error,
          error: { code: error.code, message: error.message },
        };
      }
    },
  };
}

function failedTokenOf(trigger: RefreshTrigger): string | undefined {
  return trigger.kind === "unauthorized" ? trigger.failedAccessToken : undefined;
}
