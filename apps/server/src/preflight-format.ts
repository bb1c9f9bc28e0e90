import type { PreflightAccount, PreflightReport } from "./preflight-report.js";

/** The report as people read it: the start banner and `doctor`. */
export function formatPreflight(report: PreflightReport): string {
  const lines: string[] = [];
  if (report.notice) lines.push(report.notice, "");
  lines.push(`codex-img preflight at ${report.checkedAt}`);
  const { listen, database, backend } = report;
  lines.push(
    `  listen    ${listen.url} (${listen.loopback ? "loopback only" : `reachable on ${listen.host}`})`,
  );
  lines.push(`  database  ${describeDatabase(database)}`);
  lines.push(`  backend   ${backend.selected} (${backend.reason})`);
  if (backend.cli) {
    const found = backend.cli.found ? `version ${backend.cli.version ?? "unknown"}` : "NOT FOUND";
    lines.push(`  codex cli ${backend.cli.path}: ${found}`);
  }
  lines.push(`  accounts  ${report.accounts.length} Codex home(s), ${backend.usableAccounts} usable`);
  for (const account of report.accounts) lines.push(...describeAccount(account));
  if (report.warnings.length > 0) {
    lines.push("warnings");
    for (const warning of report.warnings) lines.push(`  ! ${warning}`);
  }
  if (report.problems.length > 0) {
    lines.push("problems (the server will not start)");
    for (const problem of report.problems) lines.push(`  x ${problem}`);
  }
  lines.push(report.ok ? "preflight: ok" : "preflight: FAILED");
  if (report.notice) lines.push("", report.notice);
  return lines.join("\n");
}

/** The report for machines (`doctor --json`); the same fields, none of them a token. */
export function preflightJson(report: PreflightReport): string {
  return JSON.stringify(report, null, 2);
}

function describeDatabase(database: PreflightReport["database"]): string {
  switch (database.kind) {
    case "local":
      return `local file ${database.path}`;
    case "remote":
      return `remote ${database.host} (auth token ${database.authToken})`;
    case "replica":
      return `embedded replica ${database.path}, synced with ${database.syncHost} (auth token ${database.authToken})`;
  }
}

function describeAccount(account: PreflightAccount): string[] {
  if (account.state !== "ok") {
    const tag = account.state === "login_required" ? "LOGIN REQUIRED" : "UNREADABLE";
    return [`    [${tag}] ${account.label}  ${account.home}`, `        fix: ${account.fix ?? ""}`];
  }
  const who = [account.email, account.plan, account.accountIdPrefix && `account ${account.accountIdPrefix}`]
    .filter(Boolean)
    .join("  ");
  const token = account.token;
  const expiry =
    token?.expiresInMs === undefined
      ? "token expiry unknown"
      : token.expiresInMs > 0
        ? `token expires in ${formatDuration(token.expiresInMs)}`
        : `token expired ${formatDuration(-token.expiresInMs)} ago (refreshed on first use)`;
  const estimate = token?.basis === "last_refresh" ? " (estimated from last refresh)" : "";
  const level = token ? ` [${token.level}]` : "";
  const refreshed = account.lastRefresh ? `  last refresh ${account.lastRefresh}` : "";
  return [
    `    [ok] ${account.label}  ${who}`,
    `        ${expiry}${estimate}${level}${refreshed}`,
    ...(account.quota ? [`        quota: ${describeQuota(account.quota)}`] : []),
    `        ${account.home}`,
  ];
}

function describeQuota(quota: NonNullable<PreflightAccount["quota"]>): string {
  if ("error" in quota) return `unavailable (${quota.error})`;
  const windows = (["primary", "secondary"] as const).flatMap((name) => {
    const window = quota[name];
    if (!window) return [];
    const resets =
      window.resetsAt === undefined
        ? ""
        : `, resets in ${formatDuration(Math.max(0, window.resetsAt - Date.now()))}`;
    return [`${name} ${Math.round(window.usedPercent)}% used${resets}`];
  });
  return windows.join("; ") || "no windows reported";
}

/** `9d 23h`, `2h 5m`, `4m`: two units are enough to act on. */
export function formatDuration(ms: number): string {
  const minutes = Math.floor(ms / 60_000);
  const days = Math.floor(minutes / 1440);
  const hours = Math.floor((minutes % 1440) / 60);
  const mins = minutes % 60;
  if (days > 0) return `${days}d ${hours}h`;
  if (hours > 0) return `${hours}h ${mins}m`;
  return `${mins}m`;
}
