import { join } from "node:path";
import { type CodexHomeStatus, createCodexHomeCredentials, systemClock } from "@codex-img/core";
import type { PreflightAccount } from "./preflight-report.js";

/** One Codex home's login as `doctor` shows it, read from its auth.json at `now` (no refresh, no write). */
export async function inspectCodexHome(
  entry: { label: string; home: string },
  now: number,
): Promise<PreflightAccount> {
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
