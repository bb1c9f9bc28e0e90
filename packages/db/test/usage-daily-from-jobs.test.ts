import { enqueueImageJob } from "@codex-img/core";
import { ManualClock } from "@codex-img/core/testing";
import { createAccountUsage, createSettingsStore, expireJobs, utcDay } from "@codex-img/db";
import { describe, expect, it } from "vitest";
import { createDemoEngine } from "./support/demo-engine.js";
import { useTempDatabase } from "./support/temp-database.js";

describe("usage_daily fed by the job store", () => {
  const temp = useTempDatabase("codex-img-usage-daily-");

  it("counts each job once as it ends (success with its images, cancel as a bare request), not again on expiry", async () => {
    const clock = new ManualClock(Date.UTC(2026, 10, 22, 12));
    const { images, queue, runner } = createDemoEngine(temp.database, `${temp.folder.dir}/images`, clock);
    await enqueueImageJob({ queue, images }, { prompt: "two", size: "256x256", n: 2 }, { keyId: "key-a" });
    await runner.runOnce();
    const canceled = await enqueueImageJob({ queue, images }, { prompt: "never" }, { keyId: "key-a" });
    await queue.cancel(canceled.job.id);

    const usage = createAccountUsage(temp.database);
    const today = utcDay(clock.now());
    expect(await usage.usageByKey({ fromDay: today, toDay: today })).toEqual({
      "key-a": { requests: 2, succeeded: 1, failed: 0, images: 2 },
    });

    await clock.advance(8 * 86_400_000);
    expect((await expireJobs(temp.database, images, { before: clock.now(), now: clock.now() })).expired).toBe(
      2,
    );
    expect(await usage.usageByKey({ fromDay: today, toDay: today })).toEqual({
      "key-a": { requests: 2, succeeded: 1, failed: 0, images: 2 },
    });
  });
});

describe("settings defaults", () => {
  const temp = useTempDatabase("codex-img-settings-defaults-");

  it("reads the configured default until a value is saved, and again after reset", async () => {
    const settings = createSettingsStore(temp.database, { defaults: { retentionDays: 30 } });
    expect(await settings.get("retentionDays")).toBe(30);
    expect((await settings.getAll()).retentionDays).toBe(30);
    expect((await settings.getAll()).cleanupIntervalHours).toBe(6);
    await settings.set("retentionDays", 3);
    expect(await settings.get("retentionDays")).toBe(3);
    await settings.reset("retentionDays");
    expect(await settings.get("retentionDays")).toBe(30);
  });
});
