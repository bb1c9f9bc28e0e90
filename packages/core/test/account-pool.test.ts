import {
  type Account,
  type AccountPoolEvent,
  type AccountPoolOptions,
  CodexImgError,
  createAccountPool,
  failureCooldownMs,
  type QuotaSnapshot,
} from "@codex-img/core";
import { ManualClock, rejection } from "@codex-img/core/testing";
import { describe, expect, it } from "vitest";

const MIN = 60_000;

function setup(accounts: Array<string | Account>, options: Partial<AccountPoolOptions> = {}) {
  const clock = new ManualClock();
  const list = accounts.map((a) => (typeof a === "string" ? { label: a } : a));
  const pool = createAccountPool({ accounts: list, clock, ...options });
  return { clock, pool };
}

function quota(
  clock: ManualClock,
  primaryUsed: number,
  resetInMs = 60 * MIN,
  extra: Partial<QuotaSnapshot> = {},
) {
  return {
    observedAt: clock.now(),
    primary: { usedPercent: primaryUsed, windowMinutes: 300, resetsAt: clock.now() + resetInMs },
    ...extra,
  } satisfies QuotaSnapshot;
}

async function labelsInOrder(pool: ReturnType<typeof createAccountPool>, count: number): Promise<string[]> {
  const labels: string[] = [];
  for (let i = 0; i < count; i++) {
    const lease = await pool.acquire();
    labels.push(lease.account.label);
    lease.release({ ok: true });
  }
  return labels;
}

/** True once the promise settled (lets microtasks run first). */
async function settled(promise: Promise<unknown>): Promise<boolean> {
  let done = false;
  promise.then(
    () => {
      done = true;
    },
    () => {
      done = true;
    },
  );
  await new Promise((resolve) => setImmediate(resolve));
  return done;
}

describe("dispatch modes", () => {
  it("quota-aware prefers the most remaining quota in the tightest window; unknown counts as 100", async () => {
    const { clock, pool } = setup(["a", "b", "c"]);
    expect(pool.mode).toBe("quota-aware");
    pool.updateQuota("a", quota(clock, 50));
    pool.updateQuota("b", {
      observedAt: clock.now(),
      primary: { usedPercent: 10, resetsAt: clock.now() + 60 * MIN },
      // The tightest window decides: b has 30 % left, less than a.
      secondary: { usedPercent: 70, resetsAt: clock.now() + 7 * 24 * 60 * MIN },
    });
    const leases = [await pool.acquire(), await pool.acquire(), await pool.acquire()];
    expect(leases.map((l) => l.account.label)).toEqual(["c", "a", "b"]);
  });

  it("quota-aware ignores windows that have already reset", async () => {
    const { clock, pool } = setup(["a", "b"]);
    pool.updateQuota("a", quota(clock, 90, 1 * MIN));
    pool.updateQuota("b", quota(clock, 40));
    expect((await pool.acquire()).account.label).toBe("b");
    await clock.advance(2 * MIN);
    expect(pool.snapshot()[0]?.remainingPercent).toBe(100);
    expect((await pool.acquire()).account.label).toBe("a");
  });

  it("quota-aware ties go to the least active, then the least recently used", async () => {
    const { clock, pool } = setup([
      { label: "a", maxConcurrency: 2 },
      { label: "b", maxConcurrency: 2 },
    ]);
    const first = await pool.acquire();
    const second = await pool.acquire();
    expect([first.account.label, second.account.label]).toEqual(["a", "b"]);
    first.release({ ok: true });
    await clock.advance(1000);
    second.release({ ok: true });
    // Both idle now; a was used earlier than b.
    await clock.advance(1000);
    expect((await pool.acquire()).account.label).toBe("a");
  });

  it("round-robin rotates in configuration order over accounts that can serve", async () => {
    const { clock, pool } = setup(["a", "b", "c"], { mode: "round-robin" });
    expect(await labelsInOrder(pool, 4)).toEqual(["a", "b", "c", "a"]);
    pool.updateQuota("c", quota(clock, 99));
    expect(await labelsInOrder(pool, 3)).toEqual(["b", "a", "b"]);
  });

  it("primary-first uses the first account and overflows to the next when it is full", async () => {
    const { pool } = setup(["a", "b", "c"], { mode: "primary-first" });
    expect(await labelsInOrder(pool, 3)).toEqual(["a", "a", "a"]);
    const held = await pool.acquire();
    expect(held.account.label).toBe("a");
    expect((await pool.acquire()).account.label).toBe("b");
  });

  it("setMode at run time changes the next pick and is reported", async () => {
    const { clock, pool } = setup(["a", "b"], { mode: "primary-first" });
    const events: AccountPoolEvent[] = [];
    pool.onChange((e) => events.push(e));
    pool.updateQuota("a", quota(clock, 60));
    expect(await labelsInOrder(pool, 1)).toEqual(["a"]);
    pool.setMode("quota-aware");
    expect(pool.mode).toBe("quota-aware");
    expect(await labelsInOrder(pool, 1)).toEqual(["b"]);
    pool.setMode("round-robin");
    expect(await labelsInOrder(pool, 2)).toEqual(["a", "b"]);
    expect(events.filter((e) => e.type === "mode")).toEqual([
      { type: "mode", mode: "quota-aware" },
      { type: "mode", mode: "round-robin" },
    ]);
  });
});

describe("quota threshold and cooldowns", () => {
  it("skips accounts under the minimum remaining percentage, in every mode", async () => {
    const { clock, pool } = setup(["a", "b"], { mode: "primary-first" });
    pool.updateQuota("a", quota(clock, 96));
    expect(await labelsInOrder(pool, 2)).toEqual(["b", "b"]);
    expect(pool.snapshot()[0]).toMatchObject({
      label: "a",
      state: "cooling_down",
      cooldownReason: "quota_low",
      remainingPercent: 4,
      cooldownUntil: clock.now() + 60 * MIN,
    });
    pool.updateQuota("a", quota(clock, 95));
    expect(await labelsInOrder(pool, 1)).toEqual(["a"]);
  });

  it("an account under the threshold comes back when its window resets", async () => {
    const { clock, pool } = setup(["a"], { minRemainingPercent: 10 });
    pool.updateQuota("a", quota(clock, 92, 30 * MIN));
    const error = await rejection(pool.acquire());
    expect(error.code).toBe("no_account_available");
    expect(error.retryAfterMs).toBe(30 * MIN);
    await clock.advance(30 * MIN);
    expect((await pool.acquire()).account.label).toBe("a");
  });

  it("a usage limit cools the account down until its reset time, then it returns", async () => {
    const { clock, pool } = setup(["a", "b"], { mode: "primary-first" });
    const events: AccountPoolEvent[] = [];
    pool.onChange((e) => events.push(e));
    const resetsAt = clock.now() + 3 * 3600_000;
    const lease = await pool.acquire();
    lease.release({
      ok: false,
      error: new CodexImgError("quota_exhausted", "usage limit", { details: { resetsAt } }),
    });
    expect(pool.snapshot()[0]).toMatchObject({
      state: "cooling_down",
      cooldownUntil: resetsAt,
      cooldownReason: "quota_exhausted",
      lastError: { code: "quota_exhausted" },
    });
    expect(
      events.some(
        (e) => e.type === "account" && e.account.label === "a" && e.account.state === "cooling_down",
      ),
    ).toBe(true);

    await clock.advance(3 * 3600_000 - 1);
    expect(await labelsInOrder(pool, 2)).toEqual(["b", "b"]);
    await clock.advance(1);
    expect(await labelsInOrder(pool, 1)).toEqual(["a"]);
    expect(pool.snapshot()[0]?.state).toBe("available");
    // The return is reported too, lazily when the pool next looks.
    expect(events.at(-1)).toMatchObject({ type: "account", account: { label: "a", state: "available" } });
  });

  it("without resetsAt a usage limit uses retryAfterMs", async () => {
    const { clock, pool } = setup(["a"]);
    (await pool.acquire()).release({
      ok: false,
      error: new CodexImgError("quota_exhausted", "usage limit", { retryAfterMs: 10 * MIN }),
    });
    expect((await rejection(pool.acquire())).retryAfterMs).toBe(10 * MIN);
    await clock.advance(10 * MIN);
    expect((await pool.acquire()).account.label).toBe("a");
  });

  it("rate_limited cools the account for its retry-after", async () => {
    const { clock, pool } = setup(["a"]);
    (await pool.acquire()).release({
      ok: false,
      error: new CodexImgError("rate_limited", "slow down", { retryAfterMs: 7_000 }),
    });
    expect(pool.snapshot()[0]).toMatchObject({ state: "cooling_down", cooldownReason: "rate_limited" });
    expect((await rejection(pool.acquire())).retryAfterMs).toBe(7_000);
    await clock.advance(7_000);
    await expect(pool.acquire()).resolves.toBeDefined();
  });

  it("repeated upstream failures cool the account briefly with capped backoff; success resets", async () => {
    const { clock, pool } = setup(["a", "b"], {
      mode: "primary-first",
      failureCooldown: { baseMs: 5_000, maxMs: 12_000, afterFailures: 2 },
    });
    const fail = async (code: "upstream_failed" | "upstream_timeout"): Promise<string> => {
      const lease = await pool.acquire();
      lease.release({ ok: false, error: new CodexImgError(code, "boom") });
      return lease.account.label;
    };
    expect(await fail("upstream_failed")).toBe("a");
    expect(pool.snapshot()[0]).toMatchObject({ state: "available", consecutiveFailures: 1 });
    expect(await fail("upstream_timeout")).toBe("a");
    expect(pool.snapshot()[0]).toMatchObject({
      state: "cooling_down",
      cooldownReason: "upstream_failures",
      cooldownUntil: clock.now() + 5_000,
    });
    // Never wait on a cooling account while another can serve.
    expect(await labelsInOrder(pool, 1)).toEqual(["b"]);
    await clock.advance(5_000);
    expect(await fail("upstream_failed")).toBe("a");
    expect(pool.snapshot()[0]?.cooldownUntil).toBe(clock.now() + 10_000);
    await clock.advance(10_000);
    expect(await fail("upstream_failed")).toBe("a");
    expect(pool.snapshot()[0]?.cooldownUntil).toBe(clock.now() + 12_000);
    await clock.advance(12_000);
    const lease = await pool.acquire();
    lease.release({ ok: true });
    expect(pool.snapshot()[0]).toMatchObject({ state: "available", consecutiveFailures: 0 });
  });

  it("request errors change nothing about the account; release is idempotent", async () => {
    const { pool } = setup(["a"]);
    for (const code of ["invalid_request", "upstream_refused", "canceled"] as const) {
      const lease = await pool.acquire();
      lease.release({ ok: false, error: new CodexImgError(code, "x") });
      lease.release({ ok: false, error: new CodexImgError("quota_exhausted", "late duplicate") });
    }
    expect(pool.snapshot()[0]).toMatchObject({ state: "available", active: 0, consecutiveFailures: 0 });
    expect(pool.snapshot()[0]?.lastError).toBeUndefined();
  });

  it("failureCooldownMs is 0 below the threshold, then doubles up to the cap", () => {
    const options = { baseMs: 5_000, maxMs: 300_000, afterFailures: 2 };
    expect([0, 1, 2, 3, 4, 10, 1000].map((n) => failureCooldownMs(n, options))).toEqual([
      0, 0, 5_000, 10_000, 20_000, 300_000, 300_000,
    ]);
  });

  it("keeps the newest quota snapshot by observedAt", async () => {
    const { clock, pool } = setup(["a"]);
    const newer = quota(clock, 30);
    pool.updateQuota("a", newer);
    pool.updateQuota("a", { ...quota(clock, 99), observedAt: clock.now() - 1 });
    expect(pool.snapshot()[0]?.quota).toEqual(newer);
    const lease = await pool.acquire();
    lease.release({ ok: true, quota: { ...quota(clock, 42), observedAt: clock.now() + 1 } });
    expect(pool.snapshot()[0]?.remainingPercent).toBe(58);
  });
});

describe("no_account_available", () => {
  it("carries the earliest reset as retry-after", async () => {
    const { clock, pool } = setup(["a", "b", "c"]);
    pool.updateQuota("a", quota(clock, 100, 50 * MIN));
    (await pool.acquire({ exclude: ["a", "c"] })).release({
      ok: false,
      error: new CodexImgError("quota_exhausted", "limit", { details: { resetsAt: clock.now() + 20 * MIN } }),
    });
    (await pool.acquire()).release({
      ok: false,
      error: new CodexImgError("rate_limited", "slow", { retryAfterMs: 40 * MIN }),
    });
    const error = await rejection(pool.acquire());
    expect(error.code).toBe("no_account_available");
    expect(error.retryable).toBe(true);
    expect(error.retryAfterMs).toBe(20 * MIN);
    expect(error.details.resetsAt).toBe(clock.now() + 20 * MIN);
  });

  it("excluded accounts are not handed out again", async () => {
    const { pool } = setup(["a", "b"]);
    expect((await pool.acquire({ exclude: ["a"] })).account.label).toBe("b");
    const error = await rejection(pool.acquire({ exclude: ["a", "b"] }));
    expect(error.code).toBe("no_account_available");
    expect(error.retryAfterMs).toBeUndefined();
  });

  it("answers login_required, without retry-after, when every account is dead and one needs a login", async () => {
    const { pool } = setup([
      { label: "a", codexHome: "/homes/a" },
      { label: "b", codexHome: "/homes/b" },
    ]);
    (await pool.acquire()).release({ ok: false, error: new CodexImgError("login_required", "revoked") });
    (await pool.acquire()).release({
      ok: false,
      error: new CodexImgError("plan_not_supported", "free plan"),
    });
    expect(pool.snapshot().map((v) => [v.state, v.deadReason])).toEqual([
      ["dead", "revoked"],
      ["dead", "free plan"],
    ]);
    // A dead login makes the answer login_required (503, not retryable), naming the account, not its folder.
    const error = await rejection(pool.acquire());
    expect(error.code).toBe("login_required");
    expect(error.retryAfterMs).toBeUndefined();
    expect(error.retryable).toBe(false);
    expect(error.message).toContain("codex login");
    expect(error.message).toContain('"a"');
    expect(error.message).not.toContain("/homes/");
    expect(error.details.loginRequired).toEqual(["a"]);
  });
});

describe("dead accounts", () => {
  it("a login_required account comes back when its login fingerprint changes", async () => {
    let fingerprint: string | undefined = "login-1";
    let reads = 0;
    const { clock, pool } = setup([
      {
        label: "a",
        loginFingerprint: async () => {
          reads++;
          return fingerprint;
        },
      },
    ]);
    (await pool.acquire()).release({
      ok: false,
      error: new CodexImgError("login_required", "refresh token revoked"),
    });
    expect(pool.snapshot()[0]?.state).toBe("dead");

    await clock.advance(5_000);
    expect((await rejection(pool.acquire())).code).toBe("login_required");
    const readsAfterCheck = reads;
    fingerprint = "login-2";
    // Checks are rate-limited: within 5 s the change is not seen yet.
    await clock.advance(4_000);
    expect((await rejection(pool.acquire())).code).toBe("login_required");
    expect(reads).toBe(readsAfterCheck);
    await clock.advance(1_000);
    const lease = await pool.acquire();
    expect(lease.account.label).toBe("a");
    expect(pool.snapshot()[0]).toMatchObject({ state: "busy", consecutiveFailures: 0 });
    expect(pool.snapshot()[0]?.deadReason).toBeUndefined();
  });

  it("a missing login file does not revive", async () => {
    let fingerprint: string | undefined = "login-1";
    const { clock, pool } = setup([{ label: "a", loginFingerprint: async () => fingerprint }]);
    (await pool.acquire()).release({ ok: false, error: new CodexImgError("login_required", "gone") });
    fingerprint = undefined;
    await clock.advance(10_000);
    expect((await rejection(pool.acquire())).code).toBe("login_required");
  });
});

describe("waiting for a slot", () => {
  it("waiters get a slot in FIFO order when one frees", async () => {
    const { pool } = setup(["a"]);
    const held = await pool.acquire();
    const first = pool.acquire();
    const second = pool.acquire();
    expect(await settled(first)).toBe(false);
    expect(pool.snapshot()[0]?.state).toBe("busy");
    held.release({ ok: true });
    const firstLease = await first;
    expect(firstLease.account.label).toBe("a");
    expect(await settled(second)).toBe(false);
    firstLease.release({ ok: true });
    await expect(second).resolves.toMatchObject({ account: { label: "a" } });
  });

  it("a waiter is rejected when the last serviceable account cools down while it waits", async () => {
    const { clock, pool } = setup(["a", "b"]);
    const held = await pool.acquire({ exclude: ["b"] });
    (await pool.acquire({ exclude: ["a"] })).release({
      ok: false,
      error: new CodexImgError("rate_limited", "slow", { retryAfterMs: 60_000 }),
    });
    const waiting = pool.acquire();
    expect(await settled(waiting)).toBe(false);
    held.release({
      ok: false,
      error: new CodexImgError("quota_exhausted", "limit", { details: { resetsAt: clock.now() + 30_000 } }),
    });
    const error = await rejection(waiting);
    expect(error.code).toBe("no_account_available");
    expect(error.retryAfterMs).toBe(30_000);
  });

  it("a waiter is served by an account whose cooldown ends while it waits", async () => {
    const { clock, pool } = setup(["a", "b"], { mode: "primary-first" });
    const held = await pool.acquire();
    (await pool.acquire()).release({
      ok: false,
      error: new CodexImgError("rate_limited", "slow", { retryAfterMs: 8_000 }),
    });
    const waiting = pool.acquire();
    expect(await settled(waiting)).toBe(false);
    await clock.advance(8_000);
    await expect(waiting).resolves.toMatchObject({ account: { label: "b" } });
    held.release({ ok: true });
  });

  it("aborting a waiting acquire rejects it and leaves the slot to the next waiter", async () => {
    const { pool } = setup(["a"]);
    const held = await pool.acquire();
    const controller = new AbortController();
    const aborted = pool.acquire({ signal: controller.signal });
    const next = pool.acquire();
    controller.abort();
    const error = await rejection(aborted);
    expect(error.code).toBe("canceled");
    held.release({ ok: true });
    await expect(next).resolves.toMatchObject({ account: { label: "a" } });
    await expect(pool.acquire({ signal: AbortSignal.abort() })).rejects.toMatchObject({ code: "canceled" });
  });

  it("close rejects waiters", async () => {
    const { pool } = setup(["a"]);
    await pool.acquire();
    const waiting = pool.acquire();
    pool.close();
    expect((await rejection(waiting)).code).toBe("canceled");
  });
});

describe("state view and events", () => {
  it("onChange reports busy and available as leases come and go; accounts() exposes backends", async () => {
    const credentials = {
      get: async () => ({ accessToken: "t", accountId: "x" }),
      recoverFromUnauthorized: async () => ({ accessToken: "t", accountId: "x" }),
    };
    const { pool } = setup([{ label: "a", codexHome: "/h/a", credentials, maxConcurrency: 1 }]);
    const states: string[] = [];
    const unsubscribe = pool.onChange((e) => {
      if (e.type === "account") states.push(`${e.account.label}:${e.account.state}:${e.account.active}`);
    });
    const lease = await pool.acquire();
    expect(lease.account).toEqual({ label: "a", codexHome: "/h/a", credentials });
    lease.release({ ok: true });
    unsubscribe();
    await labelsInOrder(pool, 1);
    expect(states).toEqual(["a:busy:1", "a:available:0"]);
    expect(pool.accounts()).toEqual([{ label: "a", codexHome: "/h/a", credentials }]);
    expect(pool.snapshot()[0]).toMatchObject({
      maxConcurrency: 1,
      active: 0,
      lastUsedAt: expect.any(Number),
    });
  });

  it("rejects duplicate labels", () => {
    expect(() => createAccountPool({ accounts: [{ label: "a" }, { label: "a" }] })).toThrow(/label/);
  });
});
