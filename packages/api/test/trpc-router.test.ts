import type { ApiHarness } from "@codex-img/api/testing";
import type { AccountPool, DispatchMode } from "@codex-img/core";
import { TRPCError } from "@trpc/server";
import { describe, expect, it } from "vitest";
import { harnessPerTest } from "./support/harness-per-test.js";
import { ADMIN_PASSWORD, adminCaller, callerFor } from "./support/trpc-admin.js";

const start = harnessPerTest({ options: { adminPassword: ADMIN_PASSWORD } });

/** The code of ours a failed call carries (what the formatter puts in `data.code`). */
async function refusal(promise: Promise<unknown>): Promise<{ trpc: string; code: unknown; reason: unknown }> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(TRPCError);
  const cause = (error as TRPCError).cause as { code?: unknown; details?: { reason?: unknown } } | undefined;
  return { trpc: (error as TRPCError).code, code: cause?.code, reason: cause?.details?.reason };
}

async function listJobs(h: ApiHarness, key: string): Promise<Response> {
  return await h.app.request("/v1/jobs", { headers: { authorization: `Bearer ${key}` } });
}

describe("keys", () => {
  it("creates, updates, disables, re-enables, rotates and deletes a key, each audited", async () => {
    const h = await start();
    const { caller } = await adminCaller(h);

    const { key, rawKey } = await caller.keys.create({
      name: "ci",
      scopes: ["generate", "jobs:read"],
      limits: { imagesPerDay: 10 },
    });
    expect(rawKey).toMatch(/^cimg_/);
    expect(key.limits.imagesPerDay).toBe(10);
    expect((await listJobs(h, rawKey)).status).toBe(200);
    expect((await caller.keys.list()).map((k) => k.id)).toContain(key.id);

    const updated = await caller.keys.update({ id: key.id, name: "ci-2", limits: { requestsPerMinute: 5 } });
    expect(updated).toMatchObject({ name: "ci-2", limits: { requestsPerMinute: 5, imagesPerDay: 10 } });

    await caller.keys.setEnabled({ id: key.id, enabled: false });
    const refused = await listJobs(h, rawKey);
    expect(refused.status).toBe(401);
    expect(((await refused.json()) as { error: { reason: string } }).error.reason).toBe("disabled");

    await caller.keys.setEnabled({ id: key.id, enabled: true });
    expect((await listJobs(h, rawKey)).status).toBe(200);

    const rotated = await caller.keys.rotate({ id: key.id });
    expect(rotated.key.id).toBe(key.id);
    expect((await listJobs(h, rawKey)).status).toBe(401);
    expect((await listJobs(h, rotated.rawKey)).status).toBe(200);

    expect(await caller.keys.delete({ id: key.id })).toEqual({ deleted: true });
    expect((await listJobs(h, rotated.rawKey)).status).toBe(401);
    expect((await refusal(caller.keys.delete({ id: key.id }))).code).toBe("not_found");

    const { items } = await caller.audit.list({ targetType: "key" });
    expect(items.map((entry) => entry.action).reverse()).toEqual([
      "key.create",
      "key.update",
      "key.disable",
      "key.enable",
      "key.rotate",
      "key.delete",
    ]);
    for (const entry of items) {
      expect(entry).toMatchObject({ actor: "admin", targetId: key.id, userAgent: "vitest", ip: "direct" });
    }
    const all = JSON.stringify((await caller.audit.list({ limit: 200 })).items);
    expect(all).not.toContain(rawKey);
    expect(all).not.toContain(rotated.rawKey);
    expect(all).toContain("auth.login");
  });

  it("refuses without a session, and a mutation without the CSRF token", async () => {
    const h = await start();
    const anonymous = await callerFor(h);
    expect(await refusal(anonymous.keys.list())).toMatchObject({
      trpc: "UNAUTHORIZED",
      code: "unauthorized",
    });

    const { cookie } = await adminCaller(h);
    const noCsrf = await callerFor(h, { cookie });
    expect(await noCsrf.keys.list()).toEqual([]);
    expect(await refusal(noCsrf.keys.create({ name: "x", scopes: ["generate"] }))).toMatchObject({
      trpc: "FORBIDDEN",
      code: "forbidden",
      reason: "csrf",
    });
    const wrongCsrf = await callerFor(h, { cookie, "x-csrf-token": "not-the-token" });
    expect((await refusal(wrongCsrf.keys.create({ name: "x", scopes: ["generate"] }))).reason).toBe("csrf");
  });

  it("rejects invalid input with BAD_REQUEST", async () => {
    const h = await start();
    const { caller } = await adminCaller(h);
    const bad = caller.keys.create({ name: "", scopes: ["generate"] });
    expect((await refusal(bad)).trpc).toBe("BAD_REQUEST");
  });
});

describe("jobs", () => {
  it("lists, gets and deletes a playground job (audited)", async () => {
    const h = await start();
    const { caller } = await adminCaller(h);
    const { job } = await caller.images.generate({ prompt: "a lighthouse at dusk" });
    const done = await h.queue.waitForJob(job.id as string, { timeoutMs: 10_000 });
    expect(done.state).toBe("succeeded");
    expect(done.keyId).toBeUndefined();

    const page = await caller.jobs.list({ state: "succeeded" });
    expect(page.items.map((item) => item.id)).toContain(job.id);
    expect((await caller.jobs.list({ text: "nothing like it" })).items).toEqual([]);

    const got = await caller.jobs.get({ id: job.id as string });
    expect(got.job).toMatchObject({ id: job.id, status: "succeeded" });
    expect(got.events.at(0)).toMatchObject({ type: "queued", seq: 1 });
    expect(got.events.at(-1)).toMatchObject({ type: "succeeded" });

    expect(await caller.jobs.delete({ id: job.id as string })).toMatchObject({ deleted: true });
    expect((await refusal(caller.jobs.get({ id: job.id as string }))).code).toBe("not_found");
    const audit = await caller.audit.list({ targetType: "job" });
    expect(audit.items.map((entry) => entry.action)).toEqual(["job.delete", "image.generate"]);
  });

  it("cancels a queued job and refuses to delete an unfinished one", async () => {
    const h = await start({ startRunner: false });
    const { caller } = await adminCaller(h);
    const { job } = await caller.images.generate({ prompt: "never drawn" });
    const id = job.id as string;
    expect((await refusal(caller.jobs.delete({ id }))).reason).toBe("not_finished");
    expect(await caller.jobs.cancel({ id })).toMatchObject({ status: "canceled" });
    expect((await caller.audit.list({ action: "job.cancel" })).items).toHaveLength(1);
  });

  it("lets a key generate within its limits and see only its own jobs", async () => {
    const h = await start({ startRunner: false });
    const rawKey = await h.createKey(["generate", "jobs:read"], { imagesPerDay: 1 });
    const other = await h.createKey(["generate"]);
    const asKey = await callerFor(h, { authorization: `Bearer ${rawKey}` });
    const asOther = await callerFor(h, { authorization: `Bearer ${other}` });

    const { job } = await asKey.images.generate({ prompt: "one" });
    await asOther.images.generate({ prompt: "two" });
    expect(await refusal(asKey.images.generate({ prompt: "three" }))).toMatchObject({
      trpc: "TOO_MANY_REQUESTS",
      code: "quota_exhausted",
    });
    const mine = await asKey.jobs.list({ keyId: "someone-else" });
    expect(mine.items.map((item) => item.id)).toEqual([job.id]);
    // Same rights as REST: a generate-only key lists and reads its own jobs, and never another key's.
    const theirs = await asOther.jobs.list();
    expect(theirs.items).toHaveLength(1);
    expect(theirs.items[0]?.id).not.toBe(job.id);
    expect((await asOther.jobs.get({ id: theirs.items[0]?.id ?? "" })).job.id).toBe(theirs.items[0]?.id);
    expect((await refusal(asOther.jobs.get({ id: job.id }))).code).toBe("not_found");
    expect((await refusal(asOther.keys.list())).code).toBe("unauthorized");
  });
});

describe("settings and accounts", () => {
  it("reads and updates settings, audited, and refuses values out of range", async () => {
    const h = await start();
    const { caller } = await adminCaller(h);
    expect((await caller.settings.get()).retentionDays).toBe(7);
    const after = await caller.settings.update({ retentionDays: 14, cleanupIntervalHours: 2 });
    expect(after).toMatchObject({ retentionDays: 14, cleanupIntervalHours: 2 });
    expect((await caller.settings.get()).retentionDays).toBe(14);
    expect((await refusal(caller.settings.update({ retentionDays: 0 }))).trpc).toBe("BAD_REQUEST");
    const [entry] = (await caller.audit.list({ action: "settings.update" })).items;
    expect(entry?.details).toEqual({
      before: { retentionDays: 7, cleanupIntervalHours: 6 },
      after: { retentionDays: 14, cleanupIntervalHours: 2 },
    });
  });

  it("sets the dispatch mode on the pool and in the stored settings", async () => {
    const modes: DispatchMode[] = [];
    const pool = {
      get mode() {
        return modes.at(-1) ?? "quota-aware";
      },
      setMode(mode: DispatchMode) {
        modes.push(mode);
      },
      snapshot: () => [
        {
          label: "main",
          state: "ready",
          active: 0,
          maxConcurrency: 2,
          remainingPercent: 80,
          consecutiveFailures: 0,
        },
      ],
    } as unknown as AccountPool;
    const h = await start({ services: { pool } });
    const { caller } = await adminCaller(h);

    expect(await caller.accounts.setDispatchMode("round-robin")).toEqual({ dispatchMode: "round-robin" });
    expect(modes).toEqual(["round-robin"]);
    expect((await caller.settings.get()).dispatchMode).toBe("round-robin");
    const listed = await caller.accounts.list();
    expect(listed.dispatchMode).toBe("round-robin");
    expect(listed.accounts).toEqual([
      expect.objectContaining({
        label: "main",
        quota: null,
        activity: { images: 0, succeeded: 0, failed: 0 },
      }),
    ]);
    const [entry] = (await caller.audit.list({ action: "account.dispatch_mode" })).items;
    expect(entry?.details).toEqual({ before: "quota-aware", after: "round-robin" });
    expect((await refusal(caller.accounts.setDispatchMode("fastest" as DispatchMode))).trpc).toBe(
      "BAD_REQUEST",
    );
  });

  it("summarises usage by key, account and day", async () => {
    const h = await start();
    const { caller } = await adminCaller(h);
    const summary = await caller.usage.summary({ days: 7 });
    expect(summary.byDay).toHaveLength(7);
    expect(summary.byKey).toEqual({});
  });
});
