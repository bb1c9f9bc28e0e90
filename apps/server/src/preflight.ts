import { homedir } from "node:os";
import { join } from "node:path";
import {
  type CodexHomeStatus,
  CodexImgError,
  type CredentialProvider,
  compareSemver,
  createCodexHomeCredentials,
  createExactFetch,
  detectCodexOsInfo,
  fetchUsageSnapshot,
  parseCodexHomes,
  type QuotaWindow,
  readCodexLogin,
  readLocalCodexVersions,
  systemClock,
  type TokenFreshnessLevel,
  type TokenFreshnessState,
  toCodexImgError,
} from "@codex-img/core";
import { checkListenSafety, isLoopbackHost } from "./config/listen-safety.js";
import { redactUrl } from "./config/redacted-config.js";
import type { BackendChoice } from "./config/setting-spec.js";
import type { Config } from "./config/settings.js";
import { usageBaseUrl } from "./create-backend.js";

export type SelectedBackend = Exclude<BackendChoice, "auto">;

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

/**
 * Checks what the server is about to run with, without changing anything: reads each Codex home's
 * auth.json (no refresh, no write), decides the backend, and names the database and listen address.
 */
export async function runPreflight(config: Config, options: PreflightOptions = {}): Promise<PreflightReport> {
  const now = options.now ?? Date.now();
  const homes = parseCodexHomes(config.codexHomes, join(homedir(), ".codex"));
  const accounts = await Promise.all(homes.map((entry) => inspectHome(entry, now)));
  const usableAccounts = accounts.filter((account) => account.usable).length;
  if (options.readQuota) {
    await Promise.all(
      accounts.map(async (account) => {
        if (account.usable) account.quota = await readQuota(account.home, config);
      }),
    );
  }

  const warnings = [...(options.configWarnings ?? [])];
  const problems: string[] = [];
  const listen = listenOf(config);
  const safety = checkListenSafety(config);
  if (!safety.safe && safety.reason) problems.push(safety.reason);

  const backend = selectBackend(config, accounts.length, usableAccounts);
  let notice: string | undefined;
  if (backend.selected === "demo") {
    notice = box(
      config.backend === "auto"
        ? [
            "DEMO MODE: no usable Codex login was found.",
            "Every image this server returns is a generated PLACEHOLDER.",
            "To use your ChatGPT subscription: run `codex login` (or point",
            "CODEX_HOMES at logged-in Codex homes), then restart.",
          ]
        : [
            "DEMO MODE: the demo backend was chosen (backend=demo).",
            "Every image is a generated PLACEHOLDER.",
          ],
    );
    if (config.backend === "auto") {
      warnings.push("No usable Codex login: serving placeholder images from the demo backend.");
    }
  }
  if ((backend.selected === "codex-http" || backend.selected === "codex-cli") && usableAccounts === 0) {
    warnings.push(
      `The ${backend.selected} backend was chosen but no Codex home has a usable login: every request ` +
        "will fail with no_account_available until you run `codex login`.",
    );
  }
  const unusable = accounts.filter((account) => !account.usable);
  if (unusable.length > 0 && usableAccounts > 0) {
    warnings.push(
      `${unusable.length} of ${accounts.length} Codex homes cannot be used: ${unusable.map((a) => a.label).join(", ")}.`,
    );
  }
  warnings.push(...sharedAccountWarnings(accounts));

  let cli: PreflightReport["backend"]["cli"];
  const read =
    options.readCliVersion ??
    (async (path: string) => (await readLocalCodexVersions({ executable: path })).installed);
  if (backend.selected === "codex-http") {
    const installed = await read(config.codexCliPath);
    if (installed !== undefined && compareSemver(installed, config.codexVersion) > 0) {
      warnings.push(
        `The installed Codex CLI is ${installed}, newer than the ${config.codexVersion} whose requests codex-http ` +
          "reproduces (codexVersion). Upstream may start to expect the newer client: update codex-img, or " +
          "re-record the CLI's requests and raise codexVersion.",
      );
    }
  }
  if (backend.selected === "codex-cli") {
    const version = await read(config.codexCliPath);
    cli = { path: config.codexCliPath, found: version !== undefined, ...(version ? { version } : {}) };
    if (version === undefined) {
      problems.push(
        `The codex-cli backend needs the Codex CLI, but \`${config.codexCliPath} --version\` did not answer: ` +
          "install @openai/codex or set codexCliPath.",
      );
    }
    if (config.cliSandbox === "bypass") {
      warnings.push(
        "cliSandbox is bypass: `codex exec` runs without its sandbox. Only do this inside a container.",
      );
    }
  }
  if (backend.selected === "openai") warnings.push("The openai backend bills the API key per image.");

  warnings.push(...exposureWarnings(config, listen.loopback));
  const database = databaseOf(config);
  if (database.kind !== "local" && database.authToken === "[not set]" && !isLoopbackUrl(config)) {
    warnings.push(
      "The database is remote but databaseAuthToken is not set; Turso will refuse the connection.",
    );
  }

  return {
    checkedAt: new Date(now).toISOString(),
    ok: problems.length === 0,
    problems,
    listen,
    database,
    backend: { configured: config.backend, ...backend, usableAccounts, ...(cli ? { cli } : {}) },
    accounts,
    warnings,
    ...(notice === undefined ? {} : { notice }),
  };
}

async function inspectHome(entry: { label: string; home: string }, now: number): Promise<PreflightAccount> {
  const credentials = createCodexHomeCredentials({
    home: entry.home,
    label: entry.label,
    clock: { now: () => now, setTimeout: (fn, ms) => systemClock.setTimeout(fn, ms) },
  });
  let status: CodexHomeStatus;
  try {
    status = await credentials.summary();
  } catch (error) {
    const code = (error as { code?: string }).code ?? "error";
    const authPath = join(entry.home, "auth.json");
    return {
      label: entry.label,
      home: entry.home,
      authPath,
      state: "unreadable",
      usable: false,
      fix: `${authPath} cannot be read (${code}): check the folder and its permissions.`,
    };
  }
  const base = { label: status.label, home: status.home, authPath: status.authPath };
  if (status.state !== "ok" || !status.login) {
    return {
      ...base,
      state: "login_required",
      usable: false,
      fix: status.error?.message ?? "run `codex login` and sign in with ChatGPT",
    };
  }
  const { login } = status;
  const freshness = login.freshness;
  return {
    ...base,
    state: "ok",
    usable: true,
    ...(login.email === undefined ? {} : { email: login.email }),
    ...(login.plan === undefined ? {} : { plan: login.plan }),
    accountIdPrefix: login.accountIdShort,
    token: {
      state: freshness.state,
      level: freshness.level,
      basis: freshness.basis,
      ...(freshness.expiresAt === undefined
        ? {}
        : { expiresAt: new Date(freshness.expiresAt).toISOString() }),
      ...(freshness.expiresInMs === undefined ? {} : { expiresInMs: freshness.expiresInMs }),
      ...(freshness.daysSinceRefresh === undefined ? {} : { daysSinceRefresh: freshness.daysSinceRefresh }),
    },
    ...(login.lastRefreshAt === undefined
      ? {}
      : { lastRefresh: new Date(login.lastRefreshAt).toISOString() }),
  };
}

function selectBackend(
  config: Config,
  homes: number,
  usable: number,
): { selected: SelectedBackend; reason: string } {
  if (config.backend !== "auto") return { selected: config.backend, reason: "chosen in the configuration" };
  if (usable > 0) {
    return { selected: "codex-http", reason: `auto: ${usable} of ${homes} Codex logins usable` };
  }
  return { selected: "demo", reason: `auto: none of ${homes} Codex homes has a usable login` };
}

function listenOf(config: Config): PreflightReport["listen"] {
  const loopback = isLoopbackHost(config.host);
  const host = config.host.includes(":") && !config.host.startsWith("[") ? `[${config.host}]` : config.host;
  const url = config.publicBaseUrl ?? `http://${host}:${config.port}${config.basePath}`;
  return { host: config.host, port: config.port, url, loopback };
}

function databaseOf(config: Config): PreflightDatabase {
  const url = redactUrl(config.databaseUrl);
  const token = config.databaseAuthToken ? "[set]" : "[not set]";
  if (config.databaseUrl.startsWith("file:")) {
    const path = config.databaseUrl
      .slice("file:".length)
      .replace(/\?.*$/, "")
      .replace(/^\/\/(?=\/)/, "");
    if (config.databaseSyncUrl === undefined) return { kind: "local", url, path };
    return { kind: "replica", url, path, syncHost: hostOf(config.databaseSyncUrl), authToken: token };
  }
  return { kind: "remote", url, host: hostOf(config.databaseUrl), authToken: token };
}

function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return "(unparsable URL)";
  }
}

function isLoopbackUrl(config: Config): boolean {
  const target = config.databaseSyncUrl ?? config.databaseUrl;
  try {
    return isLoopbackHost(new URL(target).hostname);
  } catch {
    return false;
  }
}

function exposureWarnings(config: Config, loopback: boolean): string[] {
  if (loopback) return [];
  const warnings: string[] = [];
  if (!config.signedUrls) {
    warnings.push(
      `The server listens on ${config.host} and signedUrls is off: anyone with an image URL can fetch it.`,
    );
  }
  if (config.publicBaseUrl === undefined) {
    warnings.push(
      `publicBaseUrl is not set while listening on ${config.host}: image URLs will name http://${config.host}:${config.port}, which callers may not reach.`,
    );
  } else if (config.publicBaseUrl.startsWith("http://")) {
    warnings.push(
      "publicBaseUrl is plain http: passwords and session cookies cross the network unencrypted; put TLS in front.",
    );
  }
  return warnings;
}

function sharedAccountWarnings(accounts: readonly PreflightAccount[]): string[] {
  const byAccount = new Map<string, string[]>();
  for (const account of accounts) {
    if (!account.accountIdPrefix || !account.email) continue;
    const key = `${account.accountIdPrefix}|${account.email}`;
    byAccount.set(key, [...(byAccount.get(key) ?? []), account.label]);
  }
  return [...byAccount.values()]
    .filter((labels) => labels.length > 1)
    .map(
      (labels) =>
        `${labels.join(" and ")} are logins of the same ChatGPT account: they share one quota, so they add no capacity.`,
    );
}

function box(lines: readonly string[]): string {
  const width = Math.max(...lines.map((line) => line.length));
  const bar = "!".repeat(width + 8);
  return [bar, ...lines.map((line) => `!!  ${line.padEnd(width)}  !!`), bar].join("\n");
}

/**
 * One account's usage windows with the token on disk, as the server's poll reads them; an expired or
 * refused token is reported, not refreshed (doctor changes nothing), and nothing here is fatal.
 */
async function readQuota(home: string, config: Config): Promise<NonNullable<PreflightAccount["quota"]>> {
  try {
    const login = await readCodexLogin(home);
    const accessToken = login.tokens.accessToken ?? "";
    const credentials: CredentialProvider = {
      get: async () => ({ accessToken, accountId: login.accountId }),
      recoverFromUnauthorized: async () => {
        throw new CodexImgError(
          "login_required",
          "the stored token was refused (the server refreshes it on first use)",
        );
      },
    };
    // What the server's poll sends: the CLI's wham headers, in its order.
    const snapshot = await fetchUsageSnapshot({
      credentials,
      baseUrl: usageBaseUrl(config.codexBaseUrl),
      client: { version: config.codexVersion, osInfo: detectCodexOsInfo() },
      fetch: createExactFetch(),
      signal: AbortSignal.timeout(10_000),
    });
    return {
      ...(snapshot.primary ? { primary: snapshot.primary } : {}),
      ...(snapshot.secondary ? { secondary: snapshot.secondary } : {}),
    };
  } catch (error) {
    return { error: toCodexImgError(error, "upstream_failed").message };
  }
}
