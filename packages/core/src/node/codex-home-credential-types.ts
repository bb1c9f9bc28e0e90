import type { CodexLoginSummary } from "../auth/login-summary.js";
import type { CodexClientIdentity } from "../backends/codex-http/codex-headers.js";
import type { Clock } from "../clock.js";
import type { ErrorCode } from "../errors.js";
import type { Logger } from "../logger.js";
import type { CodexCredentials, CredentialProvider } from "../types.js";
import type { FileLockOptions } from "./file-lock.js";

export interface CodexHomeCredentialsOptions {
  /** The Codex home folder (`CODEX_HOME`), holding auth.json. */
  home: string;
  /** Token endpoint; default `https://auth.openai.com/oauth/token`. */
  tokenUrl?: string;
  fetch?: typeof fetch;
  /** Version and OS facts for the refresh request's User-Agent (as the HTTP backend sends them). */
  client?: CodexClientIdentity;
  /** Decides when a token counts as expiring and stamps `last_refresh`. Default the system clock. */
  clock?: Clock;
  logger?: Logger;
  /** Name in logs; default the folder name. */
  label?: string;
  /** The cross-process lock's waiting; it runs on real time whatever `clock` is. */
  lock?: Omit<FileLockOptions, "signal">;
  /**
   * Upper bound for one call to the token endpoint, ms. Default 60 000. Only a hung endpoint hits it:
   * the refresh must otherwise run to its end, because the endpoint may already have spent the old
   * refresh token.
   */
  refreshTimeoutMs?: number;
}

/** What a dashboard shows about one home. Holds no token. */
export interface CodexHomeStatus {
  home: string;
  label: string;
  authPath: string;
  state: "ok" | "login_required";
  /** True when a refresh failed for good and auth.json has not changed since. */
  dead: boolean;
  login?: CodexLoginSummary;
  error?: { code: ErrorCode; message: string };
}

export interface CodexHomeCredentials extends CredentialProvider {
  readonly home: string;
  readonly label: string;
  /** The login for display, without refreshing. Never throws `login_required`: it reports it. */
  summary(): Promise<CodexHomeStatus>;
  /** Refreshes now even if the token is fresh (for a keep-alive job), unless another process just did. */
  refresh(signal?: AbortSignal): Promise<CodexCredentials>;
}
