import { join } from "node:path";
import {
  createFileImageStore,
  createJobQueue,
  isTerminalJobState,
  type Job,
  type StoredImageRequest,
} from "@codex-img/core";
import { storedImageRequest } from "@codex-img/core/testing";
import { createDb, createLibsqlJobStore } from "@codex-img/db";
import { afterEach, describe, expect, it } from "vitest";
import { type BunChild, spawnBun } from "./support/spawn-bun.js";
import { createTempFolder } from "./support/temp-database.js";

const request = (prompt: string): StoredImageRequest => storedImageRequest({ prompt });

const JOBS = 24;

async function until<T>(read: () => Promise<T>, done: (value: T) => boolean, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline)
      throw new Error(`condition not met within ${timeoutMs} ms: ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe("a worker process killed with SIGKILL in the middle of jobs", () => {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  it("loses none of them: after a restart each succeeds, fails with a reason or runs again", {
    timeout: 60_000,
  }, async () => {
    const folder = await createTempFolder("codex-img-crash-");
    cleanups.push(() => folder.remove());
    const imagesDir = join(folder.dir, "images");
    const database = await createDb({ url: folder.url });
    cleanups.push(() => database.close());
    const store = createLibsqlJobStore(database);
    const queue = createJobQueue({ store, maxQueueLength: 1000, pollIntervalMs: 0 });
    const ids: string[] = [];
    for (let i = 0; i < JOBS; i++) {
      const { job } = await queue.enqueue(request(i % 8 === 5 ? `refuse ${i}` : `lighthouse ${i}`));
      ids.push(job.id);
    }
    const all = async (): Promise<Job[]> => (await store.list({ limit: 1000 })).jobs;
    const count = (jobs: Job[], state: Job["state"]): number => jobs.filter((j) => j.state === state).length;

    const start = (workerId: string): BunChild => {
      const child = spawnBun("engine-child.ts", [folder.url, imagesDir, workerId]);
      cleanups.push(() => {
        if (child.process.exitCode === null && child.process.signalCode === null)
          child.process.kill("SIGKILL");
      });
      return child;
    };

    const first = start("first");
    await first.line((l) => l === "ready");
    await until(all, (jobs) => count(jobs, "succeeded") >= 4 && count(jobs, "running") >= 2, 20_000);
    first.process.kill("SIGKILL");
    expect((await first.exited).signal).toBe("SIGKILL");

    const atCrash = await all();
    const interrupted = atCrash.filter((j) => j.state === "running").map((j) => j.id);
    const finishedBefore = new Map(atCrash.filter((j) => isTerminalJobState(j.state)).map((j) => [j.id, j]));
    expect(interrupted.length).toBeGreaterThan(0);
    expect(atCrash.some((j) => j.state === "queued")).toBe(true);

    const second = start("second");
    await second.line((l) => l === "ready");
    const end = await until(all, (jobs) => jobs.every((j) => isTerminalJobState(j.state)), 30_000);
    second.process.kill("SIGKILL");

    expect(end).toHaveLength(JOBS);
    const images = createFileImageStore({ dir: imagesDir });
    for (const job of end) {
      expect(["succeeded", "failed"]).toContain(job.state);
      expect(job.lease).toBeUndefined();
      for (const attempt of job.attempts) expect(attempt.finishedAt).toBeDefined();
      if (job.state === "failed") {
        expect(job.error?.code).toMatch(/^(upstream_refused|interrupted)$/);
        if (job.request.prompt.startsWith("refuse")) expect(job.error?.code).toBe("upstream_refused");
      } else {
        expect(job.request.prompt.startsWith("lighthouse")).toBe(true);
        expect(job.images).toHaveLength(1);
        for (const image of job.images) {
          const bytes = await images.get(image.key);
          expect(bytes?.length).toBe(image.bytes);
        }
      }
      // What was finished before the crash stayed exactly as it was.
      const before = finishedBefore.get(job.id);
      if (before) expect(job).toEqual(before);

      const events = await store.readEvents(job.id);
      expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
      expect(events.at(-1)?.type).toBe(job.state);
    }
    // The jobs the kill interrupted ran again (their first attempt recorded as interrupted) or, with no
    // attempts left, failed with `interrupted`.
    for (const id of interrupted) {
      const job = end.find((j) => j.id === id);
      const interruptedAttempt = job?.attempts.find((a) => a.error?.code === "interrupted");
      expect(interruptedAttempt?.workerId).toBe("first");
      if (job?.state === "succeeded") {
        expect(job.attempts.length).toBeGreaterThanOrEqual(2);
        expect(job.attempts.at(-1)?.workerId).toBe("second");
      } else {
        expect(job?.error?.code).toMatch(/^(interrupted|upstream_refused)$/);
      }
    }
    // Both processes did real work.
    const workers = new Set(end.flatMap((j) => j.attempts.map((a) => a.workerId)));
    expect(workers).toEqual(new Set(["first", "second"]));
  });
});
