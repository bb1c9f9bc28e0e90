import {
  buildWhamHeaders,
  CodexImgError,
  type CredentialProvider,
  createAccountPool,
  createExactFetch,
  fetchUsageSnapshot,
  startUsagePolling,
} from "@codex-img/core";
import { type FakeCodexBackend, ManualClock, startFakeCodexBackend } from "@codex-img/core/testing";
import { afterEach, describe, expect, it, vi } from "vitest";

function staticCredentials(
  accessToken = "access-1",
  accountId = "acct-1",
): CredentialProvider & {
  recovered: string[];
} {
  const recovered: string[] = [];
  return {
    recovered,
    get: async () => ({ accessToken, accountId }),
    recoverFromUnauthorized: async (failed) => {
      recovered.push(failed);
      return { accessToken: `${accessToken}-new`, accountId };
    },
  };
}

function jsonFetch(
  answer: (
    url: string,
    headers: Headers,
  ) => { status?: number; body: unknown; headers?: Record<string, string> },
): typeof fetch & { calls: Array<{ url: string; headers: Headers }> } {
  const calls: Array<{ url: string; headers: Headers }> = [];
  const fn = async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const url = String(input);
    const headers = new Headers(init?.headers);
    calls.push({ url, headers });
    const reply = answer(url, headers);
    return new Response(typeof reply.body === "string" ? reply.body : JSON.stringify(reply.body), {
      status: reply.status ?? 200,
      headers: { "content-type": "application/json", ...reply.headers },
    });
  };
  return Object.assign(fn, { calls }) as typeof fetch & { calls: typeof calls };
}

describe("fetchUsageSnapshot", () => {
  let backend: FakeCodexBackend | undefined;
  afterEach(async () => {
    await backend?.close();
    backend = undefined;
  });

  it("reads /wham/usage of the fake backend with exactly the CLI's wham headers", async () => {
    const clock = new ManualClock();
    backend = await startFakeCodexBackend({
      now: () => clock.now(),
      quota: { primaryUsedPercent: 41, primaryResetAfterSeconds: 600, secondaryUsedPercent: 7 },
    });
    const snapshot = await fetchUsageSnapshot({
      credentials: staticCredentials("tok-9", "acct-9"),
      baseUrl: `${backend.origin}/backend-api`,
      client: {
        version: "0.169.0",
        osInfo: { os: "Debian", osVersion: "12.0.0", arch: "x86_64", terminal: "xterm" },
      },
      fetch: createExactFetch(),
      clock,
    });
    expect(snapshot).toMatchObject({
      observedAt: clock.now(),
      planType: "plus",
      primary: {
        usedPercent: 41,
        windowMinutes: 300,
        resetsAt: Math.floor(clock.now() / 1000) * 1000 + 600_000,
      },
      secondary: { usedPercent: 7, windowMinutes: 10080 },
    });
    const request = backend.requests.find((r) => r.url === "/backend-api/wham/usage");
    // The fake holds it to the CLI's recorded wham request: names, order and values (no originator).
    expect(backend.mismatches).toEqual([]);
    expect(request?.rawHeaders).toEqual([
      ["user-agent", "codex_exec/0.169.0 (Debian 12.0.0; x86_64) xterm"],
      ["authorization", "Bearer tok-9"],
      ["chatgpt-account-id", "acct-9"],
      ["accept", "*/*"],
      ["host", new URL(backend.origin).host],
    ]);
  });

  it("is refused by the fake when it differs from the CLI's wham request (an originator header)", async () => {
    backend = await startFakeCodexBackend();
    const headers = [
      ...buildWhamHeaders({ accessToken: "tok-1", accountId: "acct-1" }),
      ["originator", "codex_exec"],
    ] as Array<[string, string]>;
    const response = await createExactFetch()(`${backend.origin}/backend-api/wham/usage`, { headers });
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe("cli_mismatch");
    expect(backend.mismatches.map((m) => m.path)).toEqual(["/backend-api/wham/usage"]);
  });

  it("is lenient about the shape and about numbers as strings", async () => {
    const clock = new ManualClock();
    const fetch = jsonFetch(() => ({
      body: {
        rate_limits: {
          primary_window: { used_percent: "55.5", limit_window_seconds: 18000, reset_at: 1_900_000_000 },
          secondary_window: null,
        },
        unknown_field: true,
      },
    }));
    const snapshot = await fetchUsageSnapshot({
      credentials: staticCredentials(),
      fetch,
      clock,
      baseUrl: "https://x.test/api/",
    });
    expect(fetch.calls[0]?.url).toBe("https://x.test/api/wham/usage");
    expect(snapshot.primary).toEqual({ usedPercent: 55.5, windowMinutes: 300, resetsAt: 1_900_000_000_000 });
    expect(snapshot.secondary).toBeUndefined();
  });

  it("recovers once from 401, then reports errors as CodexImgError", async () => {
    const credentials = staticCredentials("old");
    const fetch = jsonFetch((_url, headers) =>
      headers.get("authorization") === "Bearer old"
        ? { status: 401, body: { detail: "expired" } }
        : { body: { rate_limit: { primary_window: { used_percent: 3 } } } },
    );
    const snapshot = await fetchUsageSnapshot({ credentials, fetch, clock: new ManualClock() });
    expect(credentials.recovered).toEqual(["old"]);
    expect(snapshot.primary?.usedPercent).toBe(3);

    const failing = (status: number, headers?: Record<string, string>) =>
      fetchUsageSnapshot({
        credentials: staticCredentials(),
        fetch: jsonFetch(() => ({ status, body: { detail: "no" }, ...(headers ? { headers } : {}) })),
      }).catch((e: unknown) => e as CodexImgError);
    expect(await failing(500)).toMatchObject({ code: "upstream_failed" });
    expect(await failing(429, { "retry-after": "30" })).toMatchObject({
      code: "rate_limited",
      retryAfterMs: 30_000,
    });
    expect(await failing(403)).toMatchObject({ code: "login_required" });
    const empty = await fetchUsageSnapshot({
      credentials: staticCredentials(),
      fetch: jsonFetch(() => ({ body: { hello: "world" } })),
    }).catch((e: unknown) => e);
    expect(empty).toBeInstanceOf(CodexImgError);
    expect(empty).toMatchObject({ code: "upstream_failed" });
  });
});

describe("startUsagePolling", () => {
  it("polls live, idle accounts on the clock's timers and feeds the pool", async () => {
    const clock = new ManualClock();
    let used = 20;
    const fetch = jsonFetch(() => ({
      body: { rate_limit: { primary_window: { used_percent: used, reset_at: clock.now() / 1000 + 3600 } } },
    }));
    const pool = createAccountPool({
      clock,
      accounts: [
        { label: "a", credentials: staticCredentials("tok-a") },
        { label: "busy", credentials: staticCredentials("tok-busy") },
        { label: "dead", credentials: staticCredentials("tok-dead") },
        { label: "no-credentials" },
      ],
      mode: "primary-first",
    });
    (await pool.acquire({ exclude: ["a", "busy"] })).release({
      ok: false,
      error: new CodexImgError("login_required", "revoked"),
    });
    const held = await pool.acquire({ exclude: ["a"] });
    expect(held.account.label).toBe("busy");

    const polling = startUsagePolling(pool, { clock, fetch, intervalMs: 120_000, jitter: 0 });
    await clock.advance(0);
    await vi.waitFor(() => expect(pool.snapshot()[0]?.remainingPercent).toBe(80));
    expect(fetch.calls.map((c) => c.headers.get("authorization"))).toEqual(["Bearer tok-a"]);

    held.release({ ok: true });
    used = 70;
    await vi.waitFor(() => expect(clock.pendingTimers).toBe(1));
    await clock.advance(119_999);
    expect(fetch.calls).toHaveLength(1);
    await clock.advance(1);
    await vi.waitFor(() => expect(fetch.calls).toHaveLength(3));
    await vi.waitFor(() => expect(pool.snapshot()[0]?.remainingPercent).toBe(30));
    expect(pool.snapshot()[1]?.quota?.primary?.usedPercent).toBe(70);

    polling.stop();
    await vi.waitFor(() => expect(clock.pendingTimers).toBe(0));
    await clock.advance(600_000);
    expect(fetch.calls).toHaveLength(3);
  });

  it("waits a jittered interval, skips an account cooling down until a known reset, and shows a failed poll", async () => {
    const clock = new ManualClock();
    let fail = false;
    const fetch = jsonFetch(() =>
      fail
        ? { status: 500, body: { detail: "boom" } }
        : {
            body: {
              rate_limit: { primary_window: { used_percent: 30, reset_at: clock.now() / 1000 + 3600 } },
            },
          },
    );
    const pool = createAccountPool({
      clock,
      accounts: [
        { label: "a", credentials: staticCredentials("tok-a") },
        { label: "limited", credentials: staticCredentials("tok-limited") },
      ],
      mode: "primary-first",
    });
    // `limited` hit its usage limit: it cools down until the window resets, and nothing new is learned before.
    (await pool.acquire({ exclude: ["a"] })).release({
      ok: false,
      error: new CodexImgError("quota_exhausted", "limit", { retryAfterMs: 3_600_000 }),
    });
    const polling = startUsagePolling(pool, {
      clock,
      fetch,
      intervalMs: 100_000,
      jitter: 0.2,
      random: () => 1,
    });
    await clock.advance(0);
    await vi.waitFor(() => expect(pool.snapshot()[0]?.quotaPoll?.snapshot?.primary?.usedPercent).toBe(30));
    expect(pool.snapshot()[0]?.quota?.source).toBe("poll");
    expect(fetch.calls.map((c) => c.headers.get("authorization"))).toEqual(["Bearer tok-a"]);

    fail = true;
    await vi.waitFor(() => expect(clock.pendingTimers).toBeGreaterThan(0));
    // random() = 1 with 20% jitter: the next round comes at 120 s, not 100 s.
    await clock.advance(119_999);
    expect(fetch.calls).toHaveLength(1);
    await clock.advance(1);
    await vi.waitFor(() => expect(pool.snapshot()[0]?.quotaPoll?.error?.code).toBe("upstream_failed"));
    // The failure is shown beside the last good reading, which stays.
    expect(pool.snapshot()[0]?.quota?.primary?.usedPercent).toBe(30);
    expect(pool.snapshot()[1]?.quotaPoll).toBeUndefined();
    polling.stop();
  });
});
