import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type CodexHomeFixture, createCodexHome, startFakeCodexBackend } from "@codex-img/core/testing";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  type Config,
  formatPreflight,
  loadConfig,
  type PreflightReport,
  preflightJson,
  runPreflight,
} from "../src/index.js";

const NOW = Date.parse("2026-05-20T12:00:00Z");
const DAY_S = 24 * 3600;

let parent: string;
const fixtures: CodexHomeFixture[] = [];
beforeEach(async () => {
  parent = await mkdtemp(join(tmpdir(), "codex-img-preflight-"));
});
afterEach(async () => {
  await Promise.all(fixtures.splice(0).map((fixture) => fixture.cleanup()));
  await rm(parent, { recursive: true, force: true });
});

async function home(options: Parameters<typeof createCodexHome>[0] = {}): Promise<CodexHomeFixture> {
  const fixture = await createCodexHome({ parent, now: NOW, ...options });
  fixtures.push(fixture);
  return fixture;
}

function configWith(env: Record<string, string>): Config {
  return loadConfig({ cwd: parent, env }).config;
}

function expectNoToken(report: PreflightReport, fixture: CodexHomeFixture): void {
  const outputs = [formatPreflight(report), preflightJson(report)];
  for (const output of outputs) {
    for (const secret of [fixture.accessToken, fixture.refreshToken, fixture.idToken]) {
      expect(output).not.toContain(secret);
      // Not even a recognisable piece of one.
      expect(output).not.toContain(secret.slice(-24));
    }
    expect(output).not.toContain("sk-test-platform-key");
  }
}

describe("runPreflight", () => {
  it("reports an ok login with its plan, account prefix and a green token, and picks codex-http", async () => {
    const ok = await home({
      email: "owner@example.com",
      plan: "pro",
      accountId: "acct-1234567890",
      accessTokenExpiresInSeconds: 9 * DAY_S,
    });
    const report = await runPreflight(configWith({ CODEX_HOMES: `personal=${ok.home}` }), { now: NOW });

    expect(report.ok).toBe(true);
    expect(report.backend).toMatchObject({ configured: "auto", selected: "codex-http", usableAccounts: 1 });
    expect(report.notice).toBeUndefined();
    expect(report.accounts).toEqual([
      {
        label: "personal",
        home: ok.home,
        authPath: ok.authPath,
        state: "ok",
        usable: true,
        email: "owner@example.com",
        plan: "pro",
        accountIdPrefix: "acct-123",
        token: {
          state: "fresh",
          level: "green",
          basis: "exp",
          expiresAt: new Date(NOW + 9 * DAY_S * 1000).toISOString(),
          expiresInMs: 9 * DAY_S * 1000,
          daysSinceRefresh: 0,
        },
        lastRefresh: new Date(NOW).toISOString(),
      },
    ]);
    expect(report.database).toEqual({
      kind: "local",
      url: `file:${join(parent, "data", "codex-img.db")}`,
      path: join(parent, "data", "codex-img.db"),
    });
    expect(report.listen).toEqual({
      host: "127.0.0.1",
      port: 8000,
      url: "http://127.0.0.1:8000",
      loopback: true,
    });

    const text = formatPreflight(report);
    expect(text).toContain("backend   codex-http (auto: 1 of 1 Codex logins usable)");
    expect(text).toContain("[ok] personal  owner@example.com  pro  account acct-123");
    expect(text).toContain("token expires in 9d 0h [green]");
    expect(text).toContain("preflight: ok");
    expect(JSON.parse(preflightJson(report))).toEqual(report);
    expectNoToken(report, ok);
  });

  it("marks an expired token red but keeps the account usable (it is refreshed on first use)", async () => {
    const expired = await home({ accessTokenExpiresInSeconds: -2 * 3600 });
    const amber = await home({ accessTokenExpiresInSeconds: 2 * DAY_S });
    const report = await runPreflight(configWith({ CODEX_HOMES: `old=${expired.home}:soon=${amber.home}` }), {
      now: NOW,
    });
    const [first, second] = report.accounts;
    expect(first).toMatchObject({ label: "old", usable: true, token: { state: "expired", level: "red" } });
    expect(second).toMatchObject({ label: "soon", token: { state: "fresh", level: "amber" } });
    const text = formatPreflight(report);
    expect(text).toContain("token expired 2h 0m ago (refreshed on first use) [red]");
    expect(text).toContain("[amber]");
    expectNoToken(report, expired);
  });

  it("reports an API-key-only login as login_required with the fix", async () => {
    const good = await home();
    const apikey = await home({ variant: "apikey" });
    const report = await runPreflight(configWith({ CODEX_HOMES: `good=${good.home}:key=${apikey.home}` }), {
      now: NOW,
    });
    const account = report.accounts.find((entry) => entry.label === "key");
    expect(account).toMatchObject({ state: "login_required", usable: false });
    expect(account?.fix).toContain("API-key login");
    expect(account?.fix).toContain("codex login");
    expect(report.backend.selected).toBe("codex-http");
    expect(report.warnings).toContain("1 of 2 Codex homes cannot be used: key.");
    const text = formatPreflight(report);
    expect(text).toContain("[LOGIN REQUIRED] key");
    expect(text).toContain("fix: ");
    expectNoToken(report, apikey);
  });

  it("falls back to the demo backend loudly when no login exists", async () => {
    const missing = await home({ variant: "missing" });
    const report = await runPreflight(configWith({ CODEX_HOME: missing.home }), { now: NOW });
    expect(report.backend).toMatchObject({ selected: "demo", usableAccounts: 0 });
    expect(report.accounts[0]).toMatchObject({ state: "login_required", usable: false });
    expect(report.accounts[0]?.fix).toContain("does not exist");
    expect(report.notice).toContain("DEMO MODE");
    expect(report.notice).toContain("PLACEHOLDER");
    expect(report.notice?.split("\n").length).toBeGreaterThanOrEqual(4);
    expect(report.warnings).toContain(
      "No usable Codex login: serving placeholder images from the demo backend.",
    );
    const text = formatPreflight(report);
    expect(text.startsWith("!!!!")).toBe(true);
    expect(text.match(/DEMO MODE/g)).toHaveLength(2);
    expect(report.ok).toBe(true);
  });

  it("warns when a chosen Codex backend has no usable login", async () => {
    const missing = await home({ variant: "missing" });
    const report = await runPreflight(
      configWith({ CODEX_HOMES: missing.home, CODEX_IMG_BACKEND: "codex-http" }),
      {
        now: NOW,
      },
    );
    expect(report.backend.selected).toBe("codex-http");
    expect(report.notice).toBeUndefined();
    expect(report.warnings.join("\n")).toContain("no_account_available");
  });

  it("checks the Codex CLI when the codex-cli backend is chosen", async () => {
    const ok = await home();
    const config = configWith({
      CODEX_HOMES: ok.home,
      CODEX_IMG_BACKEND: "codex-cli",
      CODEX_IMG_CLI_SANDBOX: "bypass",
    });
    const found = await runPreflight(config, { now: NOW, readCliVersion: async () => "0.169.0" });
    expect(found.backend.cli).toEqual({ path: "codex", found: true, version: "0.169.0" });
    expect(found.warnings.join("\n")).toContain("cliSandbox is bypass");
    const absent = await runPreflight(config, { now: NOW, readCliVersion: async () => undefined });
    expect(absent.ok).toBe(false);
    expect(absent.problems[0]).toContain("needs the Codex CLI");
    expect(formatPreflight(absent)).toContain("preflight: FAILED");
  });

  it("warns when the installed Codex CLI is newer than the version codex-http impersonates", async () => {
    const ok = await home();
    const config = configWith({ CODEX_HOMES: ok.home, CODEX_IMG_BACKEND: "codex-http" });
    expect(config.codexVersion).toBe("0.169.0");
    const newer = await runPreflight(config, { now: NOW, readCliVersion: async () => "0.171.0" });
    expect(newer.warnings.join("\n")).toContain("installed Codex CLI is 0.171.0, newer than the 0.169.0");
    const same = await runPreflight(config, { now: NOW, readCliVersion: async () => "0.169.0" });
    expect(same.warnings.join("\n")).not.toContain("installed Codex CLI");
    const raised = configWith({
      CODEX_HOMES: ok.home,
      CODEX_IMG_BACKEND: "codex-http",
      CODEX_IMG_CODEX_VERSION: "0.171.0",
    });
    const none = await runPreflight(raised, { now: NOW, readCliVersion: async () => "0.171.0" });
    expect(none.warnings.join("\n")).not.toContain("installed Codex CLI");
  });

  it("names a remote database by host only, and flags an unsafe listen address", async () => {
    const ok = await home();
    const config = configWith({
      CODEX_HOMES: ok.home,
      DATABASE_URL: "libsql://codex-img-owner.turso.io",
      DATABASE_AUTH_TOKEN: "turso-secret-token-value",
      CODEX_IMG_HOST: "0.0.0.0",
      ADMIN_PASSWORD: "change-me",
      CODEX_IMG_SIGNED_URLS: "false",
    });
    const report = await runPreflight(config, { now: NOW, configWarnings: ["from loadConfig"] });
    expect(report.database).toEqual({
      kind: "remote",
      url: "libsql://codex-img-owner.turso.io",
      host: "codex-img-owner.turso.io",
      authToken: "[set]",
    });
    expect(report.ok).toBe(false);
    expect(report.problems[0]).toContain("ADMIN_PASSWORD");
    expect(report.warnings[0]).toBe("from loadConfig");
    expect(report.warnings.join("\n")).toContain("signedUrls is off");
    expect(report.warnings.join("\n")).toContain("publicBaseUrl is not set");
    const text = formatPreflight(report);
    expect(text).toContain("database  remote codex-img-owner.turso.io (auth token [set])");
    for (const output of [text, preflightJson(report)]) {
      expect(output).not.toContain("turso-secret-token-value");
      expect(output).not.toContain("change-me");
    }
  });

  it("describes an embedded replica", async () => {
    const ok = await home();
    const report = await runPreflight(
      configWith({
        CODEX_HOMES: ok.home,
        DATABASE_URL: "file:/var/lib/codex-img/replica.db",
        DATABASE_SYNC_URL: "libsql://codex-img-owner.turso.io",
      }),
      { now: NOW },
    );
    expect(report.database).toMatchObject({
      kind: "replica",
      path: "/var/lib/codex-img/replica.db",
      syncHost: "codex-img-owner.turso.io",
      authToken: "[not set]",
    });
    expect(report.warnings.join("\n")).toContain("databaseAuthToken is not set");
  });

  it("notices two homes logged in to the same ChatGPT account", async () => {
    const a = await home({ accountId: "acct-same-0001", email: "one@example.com" });
    const b = await home({ accountId: "acct-same-0001", email: "one@example.com" });
    const report = await runPreflight(configWith({ CODEX_HOMES: `a=${a.home}:b=${b.home}` }), { now: NOW });
    expect(report.warnings.join("\n")).toContain("a and b are logins of the same ChatGPT account");
  });
  it("reads the usable accounts' quotas (doctor) with each one's login, at most four at once", async () => {
    const held: Array<() => void> = [];
    let open = false;
    let inFlight = 0;
    let most = 0;
    const upstream = await startFakeCodexBackend({
      extraHandlers: [
        async (request) => {
          if (!request.url.startsWith("/backend-api/wham/usage")) return false;
          most = Math.max(most, ++inFlight);
          if (!open) await new Promise<void>((resolve) => held.push(resolve));
          inFlight--;
          // The fake's own usage route answers it.
          return false;
        },
      ],
    });
    const logins = await Promise.all(
      [1, 2, 3, 4, 5, 6].map((n) => home({ accountId: `acct-quota-000${n}` })),
    );
    upstream.quotaByAccount = Object.fromEntries(
      logins.map((login, i) => [login.accountId, { primaryUsedPercent: 10 * (i + 1) }]),
    );
    const homes = logins.map((login, i) => `a${i + 1}=${login.home}`).join(":");
    const config = configWith({ CODEX_HOMES: homes, CODEX_IMG_CODEX_BASE_URL: upstream.baseUrl });
    const pending = runPreflight(config, { now: NOW, readQuota: true });
    try {
      for (let i = 0; i < 500 && held.length < 4; i++) await new Promise((r) => setTimeout(r, 10));
      // Four reads are held by the fake; unbounded reads would have sent the other two by now.
      await new Promise((r) => setTimeout(r, 200));
      expect(held.length).toBe(4);
    } finally {
      open = true;
      for (const release of held.splice(0)) release();
    }
    try {
      const report = await pending;
      expect(most).toBe(4);
      expect(
        report.accounts.map((a) =>
          a.quota && "primary" in a.quota ? a.quota.primary?.usedPercent : a.quota,
        ),
      ).toEqual([10, 20, 30, 40, 50, 60]);
    } finally {
      await upstream.close();
    }
  }, 30_000);
});
