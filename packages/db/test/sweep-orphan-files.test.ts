import { readdir, utimes, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { enqueueImageJob } from "@codex-img/core";
import { ManualClock, testImage } from "@codex-img/core/testing";
import { expireJobs, sweepOrphanFiles } from "@codex-img/db";
import { describe, expect, it } from "vitest";
import { createDemoEngine } from "./support/demo-engine.js";
import { useTempDatabase } from "./support/temp-database.js";

describe("sweepOrphanFiles", () => {
  const temp = useTempDatabase("codex-img-orphans-");

  it("treats an expired job's leftover files as orphans, keeps a live job's, and works across batches", async () => {
    const { database, folder } = temp;
    const dir = join(folder.dir, "images");
    const clock = new ManualClock();
    const { images, queue, runner } = createDemoEngine(database, dir, clock);
    const reference = await testImage("png", 8, 8);
    const edit = async (prompt: string) => {
      const { job } = await enqueueImageJob(
        { queue, images },
        { prompt, size: "256x256", referenceImages: [{ bytes: reference }] },
      );
      await runner.runOnce();
      const done = await queue.get(job.id);
      return [...(done?.images ?? []), ...job.request.referenceImages].map((file) => file.key);
    };
    const age = async (key: string): Promise<void> => {
      const when = (Date.now() - 48 * 3_600_000) / 1000;
      await utimes(join(dir, key), when, when);
    };

    // An expired job whose file deletes failed: its files are back in the folder, its keys still in
    // `image_keys` and its request, but nothing refers to them any more.
    const expiredKeys = await edit("expired");
    const kept = await Promise.all(
      expiredKeys.map(async (key) => (await images.get(key)) ?? new Uint8Array()),
    );
    await clock.advance(60_000);
    const liveKeys = await edit("live");
    expect(await expireJobs(database, images, { before: clock.now() - 1, now: clock.now() })).toMatchObject({
      expired: 1,
      deletedFiles: 2,
    });
    await Promise.all(expiredKeys.map((key, i) => writeFile(join(dir, key), kept[i] ?? new Uint8Array())));

    // More old orphans than one batch holds.
    const loose = await Promise.all(
      Array.from({ length: 5 }, () => images.put(reference, { format: "png", prefix: "img" })),
    );
    for (const key of [...expiredKeys, ...liveKeys, ...loose.map((object) => object.key)]) await age(key);

    const result = await sweepOrphanFiles(database, images, { now: Date.now(), batch: 2 });
    expect(result).toEqual({
      files: 7,
      bytes: kept.reduce((sum, bytes) => sum + bytes.byteLength, 0) + loose.length * reference.byteLength,
    });
    expect((await readdir(dir)).filter((name) => !name.startsWith(".")).sort()).toEqual([...liveKeys].sort());
    expect(await sweepOrphanFiles(database, images, { now: Date.now(), batch: 2 })).toEqual({
      files: 0,
      bytes: 0,
    });
  });
});
