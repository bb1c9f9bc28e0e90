import type { CodexHomeStatus, QuotaSnapshot } from "@codex-img/core";
import { type AccountActivity, utcDay } from "@codex-img/db";
import type { ApiServices } from "../services.js";
import type {
  AccountLoginView,
  AccountOverview,
  CodexHomeView,
  QuotaWindowView,
  SystemOverview,
} from "./admin-views.js";
import { wallView } from "./wall-view.js";

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
const NO_ACTIVITY: AccountActivity = { images: 0, succeeded: 0, failed: 0 };

/**
 * Everything the dashboard's overview shows in one read: the pool's live state, the last quota seen per
 * account, the logins' token freshness, rolling activity from the jobs, day totals from `usage_daily`.
 */
export async function buildSystemOverview(services: ApiServices): Promise<SystemOverview> {
  const now = services.clock.now();
  const settings = await services.settings.getAll();
  const wallSince = now - settings.usageWall.windowHours * HOUR_MS;
  const activityIn = (since: number) => services.accountUsage.accountActivity({ since, until: now + 1 });
  const views = services.pool?.snapshot() ?? [];
  const [queue, quotas, logins, h5, h24, h48, wallWindow, last30d, daily] = await Promise.all([
    activeJobCounts(services),
    services.accountUsage.loadQuotaSnapshots(),
    services.accountLogins?.() ?? Promise.resolve(undefined),
    activityIn(now - 5 * HOUR_MS),
    activityIn(now - DAY_MS),
    activityIn(now - 2 * DAY_MS),
    activityIn(wallSince),
    services.accountUsage.usageByAccount({ fromDay: utcDay(now - 29 * DAY_MS), toDay: utcDay(now) }),
    dailyByAccount(
      services,
      now,
      views.map((view) => view.label),
    ),
  ]);
  const accounts = views.map((view): AccountOverview => {
    const day = h24[view.label] ?? NO_ACTIVITY;
    const finished24h = day.succeeded + day.failed;
    const login = logins?.[view.label];
    return {
      label: view.label,
      state: view.state,
      active: view.active,
      maxConcurrency: view.maxConcurrency,
      cooldownUntil: view.cooldownUntil ?? null,
      cooldownReason: view.cooldownReason ?? null,
      deadReason: view.deadReason ?? null,
      remainingPercent: view.remainingPercent,
      quota: quotaView(view.quota ?? quotas[view.label]),
      quotaPoll: view.quotaPoll
        ? { at: view.quotaPoll.at, error: view.quotaPoll.error?.message ?? null }
        : null,
      login: login ? loginView(login) : null,
      lastError: view.lastError ?? null,
      images: {
        h5: (h5[view.label] ?? NO_ACTIVITY).images,
        h24: day.images,
        h48: (h48[view.label] ?? NO_ACTIVITY).images,
      },
      last30d: last30d[view.label] ?? { requests: 0, succeeded: 0, failed: 0, images: 0 },
      successRate24h: finished24h === 0 ? null : day.succeeded / finished24h,
      wall: wallView((wallWindow[view.label] ?? NO_ACTIVITY).images, day.images, settings.usageWall, now),
      daily: daily[view.label] ?? [],
    };
  });
  const inPool = new Set(views.map((view) => view.label));
  const homes = Object.entries(logins ?? {})
    .filter(([label]) => !inPool.has(label))
    .map(([label, status]): CodexHomeView => {
      const login = loginView(status);
      const needs =
        login.state === "login_required" || status.dead
          ? "login"
          : login.freshness === "expired"
            ? "refresh"
            : null;
      return { label, login, needs };
    });
  return {
    now,
    version: services.options.version,
    backend: services.backend,
    demo: services.backend === "demo",
    dispatchMode: services.pool?.mode ?? settings.dispatchMode,
    queue,
    wall: settings.usageWall,
    accounts,
    homes,
    needsLogin: [
      ...accounts
        .filter((account) => account.state === "dead" || account.login?.state === "login_required")
        .map((account) => ({ label: account.label, home: account.login?.home ?? null })),
      ...homes
        .filter((home) => home.needs === "login")
        .map((home) => ({ label: home.label, home: home.login.home })),
    ],
  };
}

function quotaView(snapshot: QuotaSnapshot | undefined): AccountOverview["quota"] {
  if (!snapshot) return null;
  const windows: QuotaWindowView[] = [];
  for (const name of ["primary", "secondary"] as const) {
    const window = snapshot[name];
    if (!window) continue;
    windows.push({
      name,
      usedPercent: window.usedPercent,
      remainingPercent: Math.max(0, 100 - window.usedPercent),
      windowMinutes: window.windowMinutes ?? null,
      resetsAt: window.resetsAt ?? null,
    });
  }
  return {
    observedAt: snapshot.observedAt,
    planType: snapshot.planType ?? null,
    source: snapshot.source === "poll" ? "poll" : "reply",
    windows,
  };
}

function loginView(status: CodexHomeStatus): AccountLoginView {
  const login = status.login;
  return {
    state: status.state,
    home: status.home,
    plan: login?.plan ?? null,
    email: login?.email ?? null,
    accountIdShort: login?.accountIdShort ?? null,
    expiresAt: login?.freshness.expiresAt ?? null,
    freshness: login?.freshness.state ?? "unknown",
    level: status.state === "login_required" || status.dead ? "red" : (login?.freshness.level ?? "red"),
    basis: login?.freshness.basis ?? "none",
    lastRefreshAt: login?.lastRefreshAt ?? null,
    error:
      status.error?.message ??
      (status.dead ? "The login can no longer be refreshed: run `codex login`." : null),
  };
}

/** Queued and running jobs, from the database so every instance's work counts. */
async function activeJobCounts(services: ApiServices): Promise<{ queued: number; running: number }> {
  const result = await services.database.client.execute(
    "SELECT state, count(*) AS n FROM jobs WHERE state IN ('queued', 'running') GROUP BY state",
  );
  const counts = { queued: 0, running: 0 };
  for (const row of result.rows) {
    if (row.state === "queued" || row.state === "running") counts[row.state] = Number(row.n);
  }
  return counts;
}

/** The last 7 UTC days per account (the chart), from `usage_daily`. */
async function dailyByAccount(
  services: ApiServices,
  now: number,
  labels: readonly string[],
): Promise<Record<string, AccountOverview["daily"]>> {
  const range = { fromDay: utcDay(now - 6 * DAY_MS), toDay: utcDay(now) };
  const entries = await Promise.all(
    labels.map(async (label) => {
      const days = await services.accountUsage.usageByDay({ ...range, account: label });
      return [
        label,
        days.map(({ day, images, succeeded, failed }) => ({ day, images, succeeded, failed })),
      ] as const;
    }),
  );
  return Object.fromEntries(entries);
}
