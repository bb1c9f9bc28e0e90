import { mkdtemp, readdir, rm, utimes } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { enqueueImageJob, silentLogger } from "@codex-img/core";
import { testImage } from "@codex-img/core/testing";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type ComposedServices, composeServices } from "../src/compose-services.js";
import { loadConfig } from "../src/index.js";

/**
 * The retention pass as "Run cleanup now" runs it (`services.runCleanup`, what the tRPC maintenance
 * router calls), on the server's own services: a real libSQL file and the file image store.
 */
describe("retention: orphan files", () => {
  let dir: string;
  let composed: ComposedServices;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "codex-img-orphans-"));
    const { config } = loadConfig({ cwd: dir, env: {}, argv: ["--data-dir", join(dir, "data")] });
    composed = await composeServices(config, "demo", {
      logger: silentLogger,
      version: "test",
      publicBaseUrl: "http://localhost",
    });
  });

  afterEach(async () => {
    await composed.close({ graceMs: 0 });
    await rm(dir, { recursive: true, force: true });
  });

  /** Makes a stored file look written `hours` ago, as the sweep sees it (file modification time). */
  const age = async (key: string, hours: number): Promise<void> => {
    const when = (Date.now() - hours * 3_600_000) / 1000;
    await utimes(join(composed.imagesDir, key), when, when);
  };
  const files = async (): Promise<string[]> => (await readdir(composed.imagesDir)).sort();
  const cleanup = async () => {
    const run = composed.services.runCleanup;
    if (!run) throw new Error("the server composes no cleanup");
    return run();
  };

  it("deletes old files no job refers to and keeps young files and every job's files", async () => {
    const { services, runner } = composed;
    const deps = { queue: services.queue, images: services.images };
    const reference = await testImage("png", 8, 8);

    // Before any job exists the folder is left alone: a wrong database must not empty it.
    const early = await services.images.put(reference, { format: "png", prefix: "img" });
    await age(early.key, 48);
    expect(await cleanup()).toMatchObject({ orphanFiles: 0, orphanBytes: 0 });
    expect(await files()).toContain(early.key);

    // A finished edit: its generated image and its reference stay until the job expires.
    const finished = await enqueueImageJob(deps, {
      prompt: "finished",
      size: "256x256",
      referenceImages: [{ bytes: reference }],
    });
    await runner.runOnce();
    const done = await services.queue.get(finished.job.id);
    expect(done?.state).toBe("succeeded");
    const finishedKeys = [
      ...(done?.images ?? []).map((image) => image.key),
      ...finished.job.request.referenceImages.map((ref) => ref.key),
    ];
    expect(finishedKeys).toHaveLength(2);

    // A job still waiting in the queue: its reference is old but belongs to it.
    const queued = await enqueueImageJob(deps, {
      prompt: "queued",
      size: "256x256",
      referenceImages: [{ bytes: reference }],
    });
    const queuedKey = queued.job.request.referenceImages[0]?.key ?? "";

    // What a crash between storing and enqueueing leaves, old and young.
    const oldRef = await services.images.put(reference, { format: "png", prefix: "ref" });
    const oldImg = await services.images.put(reference, { format: "png", prefix: "img" });
    const youngRef = await services.images.put(reference, { format: "png", prefix: "ref" });
    const youngImg = await services.images.put(reference, { format: "png", prefix: "img" });
    for (const key of [...finishedKeys, queuedKey, oldRef.key, oldImg.key]) await age(key, 48);
    await age(youngRef.key, 1);

    const report = await cleanup();
    expect(report).toMatchObject({
      expiredJobs: 0,
      orphanFiles: 3,
      orphanBytes: early.bytes + oldRef.bytes + oldImg.bytes,
    });
    expect(await files()).toEqual([...finishedKeys, queuedKey, youngRef.key, youngImg.key].sort());

    // The queued job still runs with its reference, and a second pass finds nothing more.
    await runner.runOnce();
    expect((await services.queue.get(queued.job.id))?.state).toBe("succeeded");
    expect(await cleanup()).toMatchObject({ orphanFiles: 0, orphanBytes: 0 });
  });
});
