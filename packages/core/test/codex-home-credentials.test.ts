import { readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import {
  type CodexHomeCredentialsOptions,
  createCodexHomeCredentials,
  jsonLogger,
  requestTokenRefresh,
} from "@codex-img/core";
import {
  type CodexHomeFixture,
  type CreateCodexHomeOptions,
  createCodexHome,
  createFakeTokenEndpoint,
  type FakeTokenEndpoint,
  type FakeUpstreamServer,
  ManualClock,
  mintFakeTokens,
  rejection,
  startFakeUpstreamServer,
} from "@codex-img/core/testing";
import { afterEach, describe, expect, it } from "vitest";

interface Setup {
  clock: ManualClock;
  fixture: CodexHomeFixture;
  endpoint: FakeTokenEndpoint;
  server: FakeUpstreamServer;
  logLines: string[];
  credentials: ReturnType<typeof createCodexHomeCredentials>;
}

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

async function setup(
  home: CreateCodexHomeOptions = {},
  extra: Partial<CodexHomeCredentialsOptions> = {},
): Promise<Setup> {
  const clock = new ManualClock();
  const fixture = await createCodexHome({ now: clock.now(), ...home });
  const endpoint = createFakeTokenEndpoint({ now: () => clock.now(), acceptUnknownTokens: false });
  endpoint.trust(fixture.refreshToken, { accountId: fixture.accountId, email: "user@example.com" });
  const server = await startFakeUpstreamServer({ handlers: [endpoint.handler] });
  cleanups.push(fixture.cleanup, server.close);
  const logLines: string[] = [];
  const credentials = createCodexHomeCredentials({
    home: fixture.home,
    tokenUrl: `${server.origin}/oauth/token`,
    clock,
    logger: jsonLogger({ level: "debug", write: (line) => logLines.push(line) }),
    ...extra,
  });
  return { clock, fixture, endpoint, server, logLines, credentials };
}

async function readAuth(path: string): Promise<{ tokens: Record<string, string>; [key: string]: unknown }> {
  return JSON.parse(await readFile(path, "utf8"));
}

/** Every token the test has seen, for the "never leaks" checks. */
function secretsOf(s: Setup, extra: string[] = []): string[] {
  const latest = s.endpoint.latest(s.fixture.accountId);
  return [
    s.fixture.accessToken,
    s.fixture.refreshToken,
    s.fixture.idToken,
    ...(latest ? [latest.accessToken, latest.refreshToken, latest.idToken] : []),
    ...extra,
  ];
}

function expectNoSecrets(texts: string[], secrets: string[]): void {
  for (const text of texts) for (const secret of secrets) expect(text).not.toContain(secret);
}

describe("createCodexHomeCredentials", () => {
  it("returns the stored tokens without refreshing while they are fresh", async () => {
    const s = await setup();
    await expect(s.credentials.get()).resolves.toEqual({
      accessToken: s.fixture.accessToken,
      accountId: s.fixture.accountId,
    });
    expect(s.endpoint.requests).toHaveLength(0);
  });

  it("refreshes proactively once the access token expires within 5 minutes", async () => {
    const s = await setup({ accessTokenExpiresInSeconds: 10 * 60 });
    expect((await s.credentials.get()).accessToken).toBe(s.fixture.accessToken);

    await s.clock.advance(4 * 60_000);
    expect((await s.credentials.get()).accessToken).toBe(s.fixture.accessToken);
    expect(s.endpoint.refreshes).toBe(0);

    await s.clock.advance(60_000 + 1);
    const fresh = await s.credentials.get();
    expect(s.endpoint.refreshes).toBe(1);
    expect(fresh.accessToken).not.toBe(s.fixture.accessToken);
    expect(fresh.accountId).toBe(s.fixture.accountId);

    const onDisk = await readAuth(s.fixture.authPath);
    expect(onDisk.tokens.access_token).toBe(fresh.accessToken);
    expect(onDisk.tokens.refresh_token).toBe(s.endpoint.latest(s.fixture.accountId)?.refreshToken);
    expect(onDisk.last_refresh).toBe(new Date(s.clock.now()).toISOString());
    expect(s.endpoint.requests[0]).toMatchObject({
      encoding: "json",
      clientId: "app_EMoamEEZ73f0CkXaXp7hrann",
      grantType: "refresh_token",
      refreshToken: s.fixture.refreshToken,
    });

    // The new token is fresh: no more refreshes.
    await s.credentials.get();
    expect(s.endpoint.refreshes).toBe(1);
    expect(s.endpoint.reuses).toEqual([]);
  });

  it("writes auth.json atomically with mode 0600, keeping unknown fields", async () => {
    const s = await setup({ accessTokenExpiresInSeconds: 60 });
    const original = await readAuth(s.fixture.authPath);
    const withExtras = {
      ...original,
      future_field: { nested: [1, 2] },
      tokens: { ...original.tokens, extra_token_field: "x" },
    };
    await writeFile(s.fixture.authPath, JSON.stringify(withExtras), { mode: 0o644 });

    await s.credentials.get();
    const info = await stat(s.fixture.authPath);
    if (process.platform !== "win32") expect(info.mode & 0o777).toBe(0o600);
    const written = await readAuth(s.fixture.authPath);
    expect(written).toMatchObject({
      auth_mode: "chatgpt",
      OPENAI_API_KEY: null,
      future_field: { nested: [1, 2] },
      tokens: { extra_token_field: "x", account_id: s.fixture.accountId },
    });
    expect(written.last_refresh).toMatch(/Z$/);
  });

  it("shares one in-flight refresh between concurrent callers", async () => {
    const s = await setup({ accessTokenExpiresInSeconds: 60 });
    s.endpoint.script({ delayMs: 50 });
    const results = await Promise.all(Array.from({ length: 10 }, () => s.credentials.get()));
    expect(s.endpoint.refreshes).toBe(1);
    expect(s.endpoint.requests).toHaveLength(1);
    expect(new Set(results.map((r) => r.accessToken)).size).toBe(1);
    expect(s.endpoint.reuses).toEqual([]);
  });

  it("adopts newer tokens found on disk instead of refreshing", async () => {
    const s = await setup({ accessTokenExpiresInSeconds: 10 * 60 });
    await s.credentials.get();
    // Another process (or the Codex CLI) refreshed meanwhile and wrote new tokens.
    const newer = mintFakeTokens({ now: s.clock.now(), accountId: s.fixture.accountId });
    const raw = await readAuth(s.fixture.authPath);
    raw.tokens = { ...raw.tokens, access_token: newer.accessToken, refresh_token: newer.refreshToken };
    await writeFile(s.fixture.authPath, JSON.stringify(raw));

    await s.clock.advance(6 * 60_000);
    expect((await s.credentials.get()).accessToken).toBe(newer.accessToken);
    expect(s.endpoint.requests).toHaveLength(0);
  });

  it("re-reads the file on a 401 and adopts a different token without refreshing", async () => {
    const s = await setup();
    const first = await s.credentials.get();
    const newer = mintFakeTokens({ now: s.clock.now(), accountId: s.fixture.accountId });
    const raw = await readAuth(s.fixture.authPath);
    raw.tokens = { ...raw.tokens, access_token: newer.accessToken, refresh_token: newer.refreshToken };
    await writeFile(s.fixture.authPath, JSON.stringify(raw));

    expect((await s.credentials.recoverFromUnauthorized(first.accessToken)).accessToken).toBe(
      newer.accessToken,
    );
    expect(s.endpoint.requests).toHaveLength(0);
  });

  it("refreshes once on a 401 when the file still holds the rejected token", async () => {
    const s = await setup();
    const first = await s.credentials.get();
    const [a, b] = await Promise.all([
      s.credentials.recoverFromUnauthorized(first.accessToken),
      s.credentials.recoverFromUnauthorized(first.accessToken),
    ]);
    expect(a.accessToken).not.toBe(first.accessToken);
    expect(b.accessToken).toBe(a.accessToken);
    expect(s.endpoint.refreshes).toBe(1);
    // A later 401 for the old token finds the new one on disk.
    await s.credentials.recoverFromUnauthorized(first.accessToken);
    expect(s.endpoint.refreshes).toBe(1);
  });

  it.each([
    ["refresh_token_reused", undefined],
    ["invalid_grant", "invalid_grant" as const],
    ["refresh_token_expired", "refresh_token_expired" as const],
  ])("%s makes the home dead until auth.json changes", async (code, fail) => {
    const s = await setup({ accessTokenExpiresInSeconds: 60 });
    if (fail) s.endpoint.script({ fail });
    else {
      // Spend the token behind the provider's back so that its refresh is a reuse.
      await fetch(`${s.server.origin}/oauth/token`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({
          client_id: "app_EMoamEEZ73f0CkXaXp7hrann",
          grant_type: "refresh_token",
          refresh_token: s.fixture.refreshToken,
        }),
      });
    }
    const requestsBefore = s.endpoint.requests.length;

    const error = await rejection(s.credentials.get());
    expect(error).toMatchObject({ code: "login_required", details: { upstreamCode: code } });
    expect(error.message).toContain("run `codex login` again");
    expect(s.endpoint.requests).toHaveLength(requestsBefore + 1);

    // Dead: no more calls to the endpoint, from get, recover or summary.
    expect(await rejection(s.credentials.get())).toMatchObject({ code: "login_required" });
    expect(await rejection(s.credentials.recoverFromUnauthorized(s.fixture.accessToken))).toMatchObject({
      code: "login_required",
    });
    expect(await s.credentials.summary()).toMatchObject({ state: "login_required", dead: true });
    expect(s.endpoint.requests).toHaveLength(requestsBefore + 1);

    // The owner runs `codex login` again: a new file brings the home back.
    const relogin = mintFakeTokens({ now: s.clock.now(), accountId: s.fixture.accountId });
    s.endpoint.trust(relogin.refreshToken, { accountId: s.fixture.accountId });
    const raw = await readAuth(s.fixture.authPath);
    raw.tokens = { ...raw.tokens, access_token: relogin.accessToken, refresh_token: relogin.refreshToken };
    await writeFile(s.fixture.authPath, JSON.stringify(raw));
    expect((await s.credentials.get()).accessToken).toBe(relogin.accessToken);
    expect(await s.credentials.summary()).toMatchObject({ state: "ok", dead: false });

    expectNoSecrets(
      [error.message, JSON.stringify(error), ...s.logLines],
      secretsOf(s, [relogin.refreshToken]),
    );
  });

  it("keeps using a still-valid token when the endpoint fails for a moment, then refreshes", async () => {
    const s = await setup({ accessTokenExpiresInSeconds: 4 * 60 });
    s.endpoint.script({ fail: "server_error" });
    expect((await s.credentials.get()).accessToken).toBe(s.fixture.accessToken);
    expect(s.logLines.some((line) => line.includes('"level":"warn"'))).toBe(true);

    expect((await s.credentials.get()).accessToken).not.toBe(s.fixture.accessToken);
    expect(s.endpoint.refreshes).toBe(1);
    expect(s.endpoint.reuses).toEqual([]);
  });

  it("fails retryable with upstream_failed when the token has expired and the endpoint is down", async () => {
    const s = await setup({ accessTokenExpiresInSeconds: -60 });
    s.endpoint.script({ fail: "server_error" });
    expect(await rejection(s.credentials.get())).toMatchObject({ code: "upstream_failed", retryable: true });
    // Not dead: the next call refreshes.
    await s.credentials.get();
    expect(s.endpoint.refreshes).toBe(1);
  });

  it("keeps the old refresh token and id token when the reply leaves them out", async () => {
    const s = await setup({ accessTokenExpiresInSeconds: 60 });
    s.endpoint.script({ omit: ["refresh_token", "id_token"] });
    const fresh = await s.credentials.get();
    const onDisk = await readAuth(s.fixture.authPath);
    expect(onDisk.tokens).toMatchObject({
      access_token: fresh.accessToken,
      refresh_token: s.fixture.refreshToken,
      id_token: s.fixture.idToken,
    });
  });

  it("forces a refresh on demand and logs the rotation with a fingerprint only", async () => {
    const s = await setup();
    const fresh = await s.credentials.refresh();
    expect(fresh.accessToken).not.toBe(s.fixture.accessToken);
    const rotated = s.logLines.find((line) => line.includes("codex tokens rotated"));
    expect(rotated).toMatch(/"accessToken":"sha256:[0-9a-f]{8}"/);
    expectNoSecrets(s.logLines, secretsOf(s));
  });

  it("summarises a login without tokens, and reports missing or API-key logins", async () => {
    const s = await setup({ email: "who@example.com", plan: "pro" });
    const summary = await s.credentials.summary();
    expect(summary).toMatchObject({
      state: "ok",
      dead: false,
      login: { email: "who@example.com", plan: "pro", accountId: s.fixture.accountId },
    });
    expectNoSecrets([JSON.stringify(summary)], secretsOf(s));

    for (const variant of ["missing", "apikey"] as const) {
      const other = await setup({ variant });
      const error = await rejection(other.credentials.get());
      expect(error.code).toBe("login_required");
      expect(error.message).toContain("run `codex login` and sign in with ChatGPT");
      expect(await other.credentials.summary()).toMatchObject({
        state: "login_required",
        dead: false,
        error: { code: "login_required" },
      });
    }
  });

  it("lets a caller stop waiting without stopping the shared refresh", async () => {
    const s = await setup({ accessTokenExpiresInSeconds: 60 });
    s.endpoint.script({ delayMs: 100 });
    const controller = new AbortController();
    const waiting = s.credentials.get(controller.signal);
    const other = s.credentials.get();
    controller.abort(new Error("caller gave up"));
    await expect(waiting).rejects.toThrow("caller gave up");
    const fresh = await other;
    expect(fresh.accessToken).not.toBe(s.fixture.accessToken);
    expect((await readAuth(s.fixture.authPath)).tokens.access_token).toBe(fresh.accessToken);
    expect(s.endpoint.refreshes).toBe(1);
  });
});

describe("coexisting with the official CLI on one home", () => {
  it("refreshes at once in a home where the CLI keeps its own auth.json.lock and auth.lock", async () => {
    const s = await setup({ accessTokenExpiresInSeconds: 60 }, { lock: { waitTimeoutMs: 2_000 } });
    // The CLI leaves these empty files behind for its flock; they are not ours to wait on or delete.
    await writeFile(join(s.fixture.home, "auth.json.lock"), "");
    await writeFile(join(s.fixture.home, "auth.lock"), "");
    const fresh = await s.credentials.get();
    expect(fresh.accessToken).not.toBe(s.fixture.accessToken);
    expect(s.endpoint.refreshes).toBe(1);
    expect(await readFile(join(s.fixture.home, "auth.json.lock"), "utf8")).toBe("");
  });

  /** Another writer (the CLI) spends the refresh token while ours is in flight, then writes auth.json. */
  async function raceWithOtherWriter(s: Setup, writeFreshAccess: boolean): Promise<string> {
    s.endpoint.script({ delayMs: 400 });
    const ours = s.credentials.get();
    await new Promise((resolve) => setTimeout(resolve, 100));
    const theirs = await requestTokenRefresh({
      refreshToken: s.fixture.refreshToken,
      tokenUrl: `${s.server.origin}/oauth/token`,
    });
    const content = await readAuth(s.fixture.authPath);
    content.tokens.refresh_token = theirs.refreshToken ?? "";
    content.tokens.access_token = writeFreshAccess
      ? (theirs.accessToken ?? "")
      : mintFakeTokens({
          accountId: s.fixture.accountId,
          now: s.clock.now(),
          accessTokenExpiresInSeconds: -60,
        }).accessToken;
    await writeFile(s.fixture.authPath, JSON.stringify(content, null, 2));
    return (await ours).accessToken;
  }

  it("after refresh_token_reused, re-reads auth.json and adopts the tokens the other writer put there", async () => {
    const s = await setup({ accessTokenExpiresInSeconds: 60 });
    const token = await raceWithOtherWriter(s, true);
    const onDisk = await readAuth(s.fixture.authPath);
    expect(token).toBe(onDisk.tokens.access_token);
    // Our one spend of the old token was refused; the login is not declared dead.
    expect(s.endpoint.reuses).toHaveLength(1);
    expect((await s.credentials.summary()).state).toBe("ok");
    expect((await s.credentials.get()).accessToken).toBe(token);
  });

  it("after refresh_token_reused, refreshes once with the refresh token on disk when its access token is stale", async () => {
    const s = await setup({ accessTokenExpiresInSeconds: 60 });
    const token = await raceWithOtherWriter(s, false);
    expect(s.endpoint.refreshes).toBe(2);
    expect(s.endpoint.reuses).toHaveLength(1);
    expect(s.endpoint.requests.at(-1)?.status).toBe(200);
    expect((await readAuth(s.fixture.authPath)).tokens.access_token).toBe(token);
  });

  it("declares the login dead when auth.json still holds the reused token", async () => {
    const s = await setup({ accessTokenExpiresInSeconds: 60 });
    // Someone spent the token and wrote nothing back.
    await requestTokenRefresh({
      refreshToken: s.fixture.refreshToken,
      tokenUrl: `${s.server.origin}/oauth/token`,
    });
    const error = await rejection(s.credentials.get());
    expect(error.code).toBe("login_required");
    expect(error.message).not.toContain(s.fixture.home);
    expect(s.endpoint.reuses).toHaveLength(1);
  });
});

describe("createFakeTokenEndpoint", () => {
  it("accepts form bodies, rotates, and records a reuse", async () => {
    const endpoint = createFakeTokenEndpoint();
    const server = await startFakeUpstreamServer({ handlers: [endpoint.handler] });
    cleanups.push(server.close);
    const post = (refreshToken: string) =>
      fetch(`${server.origin}/oauth/token`, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({
          client_id: "app_EMoamEEZ73f0CkXaXp7hrann",
          grant_type: "refresh_token",
          refresh_token: refreshToken,
          scope: "openid profile email",
        }),
      });
    const first = await post("rt_preexisting");
    expect(first.status).toBe(200);
    const body = (await first.json()) as { refresh_token: string };
    expect(body.refresh_token).toMatch(/^rt_/);
    expect((await post(body.refresh_token)).status).toBe(200);
    const reused = await post("rt_preexisting");
    expect(reused.status).toBe(401);
    expect(await reused.json()).toMatchObject({ error: { code: "refresh_token_reused" } });
    expect(endpoint.refreshes).toBe(2);
    expect(endpoint.reuses).toHaveLength(1);
    expect(endpoint.requests.map((r) => r.encoding)).toEqual(["form", "form", "form"]);

    const badClient = await fetch(`${server.origin}/oauth/token`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ client_id: "other", grant_type: "refresh_token", refresh_token: "rt_x" }),
    });
    expect(badClient.status).toBe(401);
    expect((await fetch(`${server.origin}/other`)).status).toBe(404);
  });
});
