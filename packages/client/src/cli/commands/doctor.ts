import { homedir } from "node:os";
import { join } from "node:path";
import { type CodexHomeStatus, createCodexHomeCredentials, parseCodexHomes } from "@codex-img/core";
import { createClient } from "../../client.js";
import { type ClientErrorCode, isCodexImgClientError } from "../../errors.js";
import type { CliContext } from "../context.js";
import { EXIT, EXIT_CODE_BY_ERROR, type ExitCode } from "../exit-codes.js";
import { type GlobalFlags, settingsFor, writeJson } from "./shared.js";

interface Check {
  ok: boolean;
  message: string;
  code?: ClientErrorCode;
}

/**
 * Local Codex logins (informational: the server may run elsewhere with its own), then the server's
 * `/health` and whether it accepts the key. Exits with the code of the first failing server check.
 */
export async function runDoctor(
  ctx: CliContext,
  flags: { json?: boolean },
  global: GlobalFlags,
): Promise<ExitCode> {
  const defaultHome = ctx.env.CODEX_HOME?.trim() || join(ctx.env.HOME?.trim() || homedir(), ".codex");
  let logins: CodexHomeStatus[] = [];
  let loginsError: string | undefined;
  try {
    const homes = parseCodexHomes(ctx.env.CODEX_HOMES, defaultHome);
    logins = await Promise.all(homes.map((entry) => createCodexHomeCredentials(entry).summary()));
  } catch (error) {
    loginsError = error instanceof Error ? error.message : String(error);
  }

  const settings = await settingsFor(ctx, global);
  const client = createClient({
    baseUrl: settings.baseUrl,
    ...(settings.apiKey ? { apiKey: settings.apiKey } : {}),
  });
  const server = await check(async () => {
    const health = await client.health({ signal: AbortSignal.timeout(10_000) });
    // "ok" is already the check's own verdict; any other status is news.
    const detail = `version ${health.version ?? "?"}, backend ${health.backend ?? "?"}`;
    return health.status === "ok" ? detail : `${health.status}, ${detail}`;
  });
  const key: Check = !settings.apiKey
    ? {
        ok: false,
        code: "unauthorized",
        message: "no API key found (CODEX_IMG_API_KEY or ~/.config/codex-img/api-key)",
      }
    : !server.ok
      ? { ok: false, code: server.code ?? "unreachable", message: "not checked: the server is unreachable" }
      : await check(async () => {
          await client.listJobs({ limit: 1, signal: AbortSignal.timeout(10_000) });
          return `accepted (from ${settings.apiKeySource})`;
        });

  const failed = [server, key].find((item) => !item.ok);
  const exitCode: ExitCode = failed ? EXIT_CODE_BY_ERROR[failed.code ?? "internal"] : EXIT.ok;
  if (flags.json) {
    writeJson(ctx, {
      ok: !failed,
      logins: logins.map((login) => ({
        label: login.label,
        home: login.home,
        state: login.state,
        dead: login.dead,
        email: login.login?.email ?? null,
        plan: login.login?.plan ?? null,
        token: login.login
          ? {
              state: login.login.freshness.state,
              expires_at: login.login.freshness.expiresAt ?? null,
              days_since_refresh: login.login.freshness.daysSinceRefresh ?? null,
            }
          : null,
        error: login.error ?? null,
      })),
      ...(loginsError ? { logins_error: loginsError } : {}),
      server: { url: settings.baseUrl, source: settings.baseUrlSource, ...server },
      key,
    });
    return exitCode;
  }
  const out = (line: string): void => {
    ctx.stdout.write(`${line}\n`);
  };
  out("Local Codex logins (used by --local, and by a server on this machine):");
  if (loginsError) out(`  ! ${loginsError}`);
  for (const login of logins) out(`  ${login.state === "ok" ? "ok" : "!!"} ${describeLogin(login)}`);
  out(
    `Server ${settings.baseUrl} (from ${settings.baseUrlSource}): ${server.ok ? "ok" : "!!"} ${server.message}`,
  );
  out(`API key: ${key.ok ? "ok" : "!!"} ${key.message}`);
  return exitCode;
}

function describeLogin(status: CodexHomeStatus): string {
  const where = `${status.label} (${status.home})`;
  if (status.state !== "ok" || !status.login) {
    return `${where}: ${status.error?.message ?? "login required"}${status.dead ? " [refresh failed; run codex login]" : ""}`;
  }
  const { login } = status;
  const freshness = login.freshness;
  const expiry =
    freshness.expiresInMs === undefined
      ? "expiry unknown"
      : freshness.expiresInMs > 0
        ? `token expires in ${formatDuration(freshness.expiresInMs)}`
        : `token expired ${formatDuration(-freshness.expiresInMs)} ago (refreshed on next use)`;
  const refreshed =
    freshness.daysSinceRefresh === undefined ? "" : `, refreshed ${freshness.daysSinceRefresh} d ago`;
  return `${where}: ${login.email ?? login.accountIdShort} ${login.plan ?? ""} ${expiry}${refreshed} [${freshness.state}]`;
}

function formatDuration(ms: number): string {
  const minutes = Math.round(ms / 60_000);
  if (minutes < 120) return `${minutes} min`;
  const hours = Math.round(minutes / 60);
  return hours < 48 ? `${hours} h` : `${Math.round(hours / 24)} d`;
}

async function check(run: () => Promise<string>): Promise<Check> {
  try {
    return { ok: true, message: await run() };
  } catch (error) {
    // Our own 10 s timeout aborts the call; to the user that is a server that does not answer.
    if (isCodexImgClientError(error, "canceled")) {
      return { ok: false, code: "unreachable", message: "no answer within 10 s" };
    }
    if (isCodexImgClientError(error))
      return { ok: false, code: error.code, message: `${error.code}: ${error.message}` };
    return { ok: false, code: "internal", message: error instanceof Error ? error.message : String(error) };
  }
}
