import type { QuotaWindow, TokenFreshnessLevel, TokenFreshnessState } from "@codex-img/core";
import type { BackendChoice } from "./config/setting-spec.js";
import type { SelectedBackend } from "./preflight.js";

/** One Codex home as the owner needs to see it. Holds no token by construction. */
export interface PreflightAccount {
  label: string;
  home: string;
  authPath: string;
  state: "ok" | "login_required" | "unreadable";
  /** Whether the pool can use it (a stale access token is fine: it is refreshed on first use). */
  usable: boolean;
  /** What is wrong and what to run, when the state is not `ok`. */
  fix?: string;
  email?: string;
  plan?: string;
  /** First 8 characters of the ChatGPT account id, as the predecessor's dashboard showed. */
  accountIdPrefix?: string;
  token?: {
    state: TokenFreshnessState;
    level: TokenFreshnessLevel;
    /** Where the expiry comes from: the token's `exp`, an estimate from `last_refresh`, or nothing. */
    basis: "exp" | "last_refresh" | "none";
    /** ISO time. */
    expiresAt?: string;
    expiresInMs?: number;
    daysSinceRefresh?: number;
  };
  /** `last_refresh` of auth.json, ISO time. */
  lastRefresh?: string;
  /**
   * The account's usage windows read now from the usage endpoint with the stored token (`doctor` only;
   * no refresh), or why they could not be read. Never fatal.
   */
  quota?: { primary?: QuotaWindow; secondary?: QuotaWindow } | { error: string };
}

export type PreflightDatabase =
  | { kind: "local"; url: string; path: string }
  | { kind: "remote"; url: string; host: string; authToken: "[set]" | "[not set]" }
  | { kind: "replica"; url: string; path: string; syncHost: string; authToken: "[set]" | "[not set]" };

export interface PreflightReport {
  /** ISO time of the check. */
  checkedAt: string;
  /** False when the server would refuse to start; `problems` says why. */
  ok: boolean;
  problems: string[];
  listen: { host: string; port: number; url: string; loopback: boolean };
  database: PreflightDatabase;
  backend: {
    configured: BackendChoice;
    selected: SelectedBackend;
    reason: string;
    usableAccounts: number;
    /** The `codex` executable, when the codex-cli backend is selected. */
    cli?: { path: string; found: boolean; version?: string };
  };
  accounts: PreflightAccount[];
  warnings: string[];
  /** A boxed message to print where nobody can miss it (demo mode). */
  notice?: string;
}

export interface PreflightOptions {
  /** Epoch ms the token freshness is judged at. Default now. */
  now?: number;
  /** Warnings of `loadConfig`, reported with the others. */
  configWarnings?: readonly string[];
  /** Finds the installed `codex` version; default runs `<codexCliPath> --version`. */
  readCliVersion?: (path: string) => Promise<string | undefined>;
  /** Read each usable account's quota from the usage endpoint (`doctor`). Default false. */
  readQuota?: boolean;
}
