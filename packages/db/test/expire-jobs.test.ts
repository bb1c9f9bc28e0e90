import { enqueueImageJob } from "@codex-img/core";
import { ManualClock, testImage } from "@codex-img/core/testing";
import { createDb, expireJobs } from "@codex-img/db";
import { describe, expect, it } from "vitest";
import { createDemoEngine } from "./support/demo-engine.js";
import { createTempFolder } from "./support/temp-database.js";

describe("expireJobs", () => {
  it("marks finished jobs past retention expired, deletes their files, keeps the history row", async () => {
    const folder = await createTempFolder("codex-img-expire-");
    const database = await createDb({ url: folder.url });
    try {
      const clock = new ManualClock();
      const { images, queue, runner } = createDemoEngine(database, `${folder.dir}/images`, clock);
      const old = await enqueueImageJob(
        { queue, images },
        { prompt: "old", size: "256x256", referenceImages: [{ bytes: await testImage("png", 8, 8) }] },
      );
      await runner.runOnce();
      await clock.advance(8 * 24 * 3_600_000);
      const fresh = await enqueueImageJob({ queue, images }, { prompt: "fresh", size: "256x256" });
      await runner.runOnce();
      const before = (await queue.get(old.job.id))?.images ?? [];
      expect(before).toHaveLength(1);

      const result = await expireJobs(database, images, {
        before: clock.now() - 7 * 24 * 3_600_000,
        now: clock.now(),
      });
      const referenceBytes = old.job.request.referenceImages[0]?.bytes ?? 0;
      expect(result).toEqual({
        expired: 1,
        deletedFiles: 2,
        freedBytes: (before[0]?.bytes ?? 0) + referenceBytes,
      });
      expect(referenceBytes).toBeGreaterThan(0);
      const expired = await queue.get(old.job.id);
      expect(expired).toMatchObject({ state: "expired", images: [] });
      expect(expired?.request.prompt).toBe("old");
      expect(await images.get(before[0]?.key ?? "")).toBeUndefined();
      expect(await queue.get(fresh.job.id)).toMatchObject({ state: "succeeded" });
      expect(
        await expireJobs(database, images, { before: clock.now() - 7 * 24 * 3_600_000, now: clock.now() }),
      ).toEqual({ expired: 0, deletedFiles: 0, freedBytes: 0 });
    } finally {
      database.close();
      await folder.remove();
    }
  });
});
