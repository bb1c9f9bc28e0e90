import { type ApiHarness, authJson } from "@codex-img/api/testing";
import {
  accountsFromCodexHomes,
  type CodexHomeCredentials,
  createAccountPool,
  createDemoBackend,
  type ImageBackend,
} from "@codex-img/core";
import { type CodexHomeFixture, createCodexHome, testImage } from "@codex-img/core/testing";
import { TRPCError } from "@trpc/server";
import { afterEach, describe, expect, it } from "vitest";
import { harnessPerTest } from "./support/harness-per-test.js";
import { ADMIN_PASSWORD, adminCaller } from "./support/trpc-admin.js";

// The procedures the dashboard is built on: overview, keys with usage, playground with references and
// "send as key", job detail with attempts and diagnostics, run again, and settings that take effect.

const start = harnessPerTest({ options: { adminPassword: ADMIN_PASSWORD } });
const homes: CodexHomeFixture[] = [];

afterEach(async () => {
  await Promise.all(homes.splice(0).map((home) => home.cleanup()));
});

async function refusal(
  promise: Promise<unknown>,
): Promise<{ code: unknown; reason: unknown; param: unknown }> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(TRPCError);
  const cause = (error as TRPCError).cause as
    | { code?: unknown; details?: { reason?: unknown; param?: unknown } }
    | undefined;
  return { code: cause?.code, reason: cause?.details?.reason, param: cause?.details?.param };
}

/** The demo backend dressed as the CLI backend: real PNGs plus the diagnostics the CLI reports. */
function cliLikeBackend(): ImageBackend {
  const demo = createDemoBackend();
  return {
    kind: "codex-cli",
    async generate(request, options) {
      const result = await demo.generate(request, options);
      return {
        ...result,
        backend: "codex-cli",
        route: "cli",
        demo: false,
        upstreamIds: { session_id: "0199-session" },
        diagnostics: { stdout: '{"type":"thread.started"}', stderr: "image saved" },
      };
    },
  };
}

async function pooled(): Promise<ApiHarness> {
  const main = await createCodexHome({ plan: "plus", accountId: "acc-12345678-abcd" });
  const spare = await createCodexHome({ plan: "pro" });
  homes.push(main, spare);
  const accounts = accountsFromCodexHomes(
    [
      { label: "main", home: main.home },
      { label: "spare", home: spare.home },
    ],
    { backend: "codex-cli" },
  );
  const pool = createAccountPool({ accounts, mode: "primary-first" });
  return start({
    backend: cliLikeBackend(),
    pool,
    services: {
      backend: "codex-cli",
      accountLogins: async () => {
        const entries = await Promise.all(
          accounts.map(async (account) => {
            const credentials = account.credentials as CodexHomeCredentials;
            return [account.label, await credentials.summary()] as const;
          }),
        );
        return Object.fromEntries(entries);
      },
    },
  });
}

describe("system.overview", () => {
  it("flags the demo backend and counts queued and running jobs", async () => {
    const h = await start({ startRunner: false });
    const { caller } = await adminCaller(h);
    await caller.images.generate({ prompt: "waiting" });
    await caller.images.generate({ prompt: "waiting too" });
    const overview = await caller.system.overview();
    expect(overview).toMatchObject({
      backend: "demo",
      demo: true,
      queue: { queued: 2, running: 0 },
      accounts: [],
      needsLogin: [],
      wall: { limit: 320, windowHours: 48 },
      version: "0.0.0-test",
    });
  });

  it("system.live sends the overview, then a new one when a job changes, and ends with its request", async () => {
    // The re-read is 10 minutes away, so an update within the test can only come from the job change.
    const h = await start({ startRunner: false, options: { liveOverviewRereadMs: 600_000 } });
    const request = new AbortController();
    const { caller } = await adminCaller(h, request.signal);
    const live = (await caller.system.live())[Symbol.asyncIterator]();
    const first = await live.next();
    expect(first.value).toMatchObject({ demo: true, queue: { queued: 0 } });
    await caller.images.generate({ prompt: "a job to see" });
    const next = await live.next();
    expect(next.value).toMatchObject({ queue: { queued: 1 } });
    request.abort();
    expect(await live.next()).toEqual({ done: true, value: undefined });
  });

  it("shows each account's login, activity, 30-day totals, success rate, wall and 7-day chart", async () => {
    const h = await pooled();
    const { caller } = await adminCaller(h);
    await caller.settings.update({
      usageWall: { limit: 4, windowHours: 48, warnPercent: 50, dangerPercent: 75 },
    });
    const { job } = await caller.images.generate({ prompt: "a red kite", n: 2 });
    expect((await h.queue.waitForJob(job.id, { timeoutMs: 10_000 })).state).toBe("succeeded");

    const overview = await caller.system.overview();
    expect(overview.demo).toBe(false);
    const [main, spare] = overview.accounts;
    expect(main).toMatchObject({
      label: "main",
      state: "available",
      login: { state: "ok", plan: "plus", accountIdShort: "acc-1234", level: "green", freshness: "fresh" },
      images: { h5: 1, h24: 1, h48: 1 },
      successRate24h: 1,
      wall: { used: 1, limit: 4, level: "ok" },
    });
    // n = 2 ran as two calls; primary-first with one slot each puts the second on the spare account.
    expect(spare?.images.h24).toBe(1);
    const today = main?.daily.at(-1);
    expect(main?.daily).toHaveLength(7);
    expect(today).toMatchObject({ images: 1 });
    // The job's one request goes to the first account of the attempt; images are shared out.
    const requests = (main?.last30d.requests ?? 0) + (spare?.last30d.requests ?? 0);
    expect(requests).toBe(1);
    expect((main?.last30d.images ?? 0) + (spare?.last30d.images ?? 0)).toBe(2);
    // One image in 24 h keeps a 48 h window at 2, under the wall of 4: never reached at this rate.
    expect(main?.wall).toMatchObject({ settlesAt: 2, forecastAt: null });
  });
});

describe("keys.list usage", () => {
  it("reports each key's standing against its limits from the counters that enforce them", async () => {
    const h = await start({ startRunner: false });
    const { caller } = await adminCaller(h);
    const { key, rawKey } = await caller.keys.create({
      name: "bot",
      scopes: ["generate"],
      limits: { imagesPerDay: 5, requestsPerMinute: 10, maxConcurrentJobs: 3 },
    });
    const response = await h.app.request("/v1/images/jobs", {
      method: "POST",
      headers: authJson(rawKey),
      body: JSON.stringify({ prompt: "a gull" }),
    });
    expect(response.status).toBe(202);
    // Windows without a limit are not counted (nothing to enforce): `used` is null there, not a false 0.
    const [listed] = await caller.keys.list();
    expect(listed).toMatchObject({
      id: key.id,
      usage: {
        minute: { used: 1, limit: 10 },
        day: { used: 1, limit: 5 },
        month: { used: null, limit: null },
        concurrent: { used: 1, limit: 3 },
      },
    });
  });
});

describe("images.generate from the playground", () => {
  it("takes reference images as data URLs, and refuses one that is not an image, naming it", async () => {
    const h = await start();
    const { caller } = await adminCaller(h);
    const png = Buffer.from(await testImage("png", 32, 32)).toString("base64");
    const { job } = await caller.images.generate({
      prompt: "make it blue",
      references: [{ name: "kite.png", dataUrl: `data:image/png;base64,${png}` }],
    });
    expect(job.request.reference_images).toBe(1);
    expect((await h.queue.waitForJob(job.id, { timeoutMs: 10_000 })).state).toBe("succeeded");

    const before = await h.countJobs();
    const bad = await refusal(
      caller.images.generate({
        prompt: "x",
        references: [{ dataUrl: `data:image/png;base64,${Buffer.from("not a png").toString("base64")}` }],
      }),
    );
    expect(bad).toMatchObject({ code: "invalid_request", param: "references" });
    expect(await h.countJobs()).toBe(before);
  });

  it("sends as a chosen key: its limits apply and the job is in its history; a disabled key is refused", async () => {
    const h = await start({ startRunner: false });
    const { caller } = await adminCaller(h);
    const { key } = await caller.keys.create({
      name: "ci",
      scopes: ["generate"],
      limits: { imagesPerDay: 1 },
    });
    const { job } = await caller.images.generate({ prompt: "as ci", asKeyId: key.id });
    expect((await caller.jobs.detail({ id: job.id })).job).toMatchObject({ keyId: key.id, keyName: "ci" });
    expect(await refusal(caller.images.generate({ prompt: "again", asKeyId: key.id }))).toMatchObject({
      code: "quota_exhausted",
      reason: "images_per_day",
    });
    await caller.keys.setEnabled({ id: key.id, enabled: false });
    expect(await refusal(caller.images.generate({ prompt: "off", asKeyId: key.id }))).toMatchObject({
      code: "unauthorized",
      reason: "disabled",
    });
    expect((await refusal(caller.images.generate({ prompt: "?", asKeyId: "nope" }))).code).toBe("not_found");
    const [entry] = (await caller.audit.list({ action: "image.generate" })).items;
    expect(entry?.details).toEqual({ n: 1, asKeyId: key.id });
  });
});

describe("jobs.detail and jobs.rerun", () => {
  it("shows every attempt with account, route, upstream ids and the CLI's diagnostics, and the events", async () => {
    const h = await pooled();
    const { caller } = await adminCaller(h);
    const { job } = await caller.images.generate({ prompt: "a lantern" });
    await h.queue.waitForJob(job.id, { timeoutMs: 10_000 });

    const detail = await caller.jobs.detail({ id: job.id });
    expect(detail.job).toMatchObject({ state: "succeeded", keyId: null, request: { prompt: "a lantern" } });
    expect(detail.job.attempts).toEqual([
      expect.objectContaining({
        number: 1,
        account: "main",
        backend: "codex-cli",
        route: "cli",
        upstreamIds: { session_id: "0199-session" },
        diagnostics: { stdout: '{"type":"thread.started"}', stderr: "image saved" },
        error: null,
      }),
    ]);
    expect(detail.job.images).toHaveLength(1);
    expect(detail.job.images[0]?.url).toMatch(/^https:\/\/img\.test\/generated\/img_/);
    expect(detail.events.map((event) => event.type)).toEqual(
      expect.arrayContaining(["queued", "started", "succeeded"]),
    );
  });

  it("runs a job again with the same request and references, leaving the original as it was", async () => {
    const h = await start();
    const { caller } = await adminCaller(h);
    const png = Buffer.from(await testImage("png", 16, 16)).toString("base64");
    const { job } = await caller.images.generate({
      prompt: "again please",
      size: "256x256",
      references: [{ dataUrl: `data:image/png;base64,${png}` }],
    });
    await h.queue.waitForJob(job.id, { timeoutMs: 10_000 });
    const { job: again } = await caller.jobs.rerun({ id: job.id });
    expect(again.id).not.toBe(job.id);
    expect(again.request).toEqual((await caller.jobs.detail({ id: job.id })).job.request);
    expect(again.request).toMatchObject({ prompt: "again please", size: "256x256", referenceImages: 1 });
    const rerun = await h.queue.waitForJob(again.id, { timeoutMs: 10_000 });
    expect(rerun.error).toBeUndefined();
    expect(rerun.state).toBe("succeeded");
    expect((await caller.jobs.detail({ id: job.id })).job.state).toBe("succeeded");
    const [entry] = (await caller.audit.list({ action: "job.rerun" })).items;
    expect(entry).toMatchObject({ targetId: again.id, details: { from: job.id } });
  });
});

describe("settings that take effect", () => {
  it("moves image URL expiry with the retention setting", async () => {
    const h = await start();
    const { caller } = await adminCaller(h);
    const { job } = await caller.images.generate({ prompt: "kept longer" });
    await h.queue.waitForJob(job.id, { timeoutMs: 10_000 });
    const before = (await caller.jobs.detail({ id: job.id })).job;
    await caller.settings.update({ retentionDays: 30 });
    const after = (await caller.jobs.detail({ id: job.id })).job;
    expect((after.expiresAt ?? 0) - (before.expiresAt ?? 0)).toBe(23 * 86_400_000);
  });

  it("answers cleanup with a clear error when the host runs no sweep", async () => {
    const h = await start();
    const { caller } = await adminCaller(h);
    expect(await refusal(caller.maintenance.cleanup())).toMatchObject({
      code: "backend_unavailable",
      reason: "no_cleanup",
    });
  });
});
