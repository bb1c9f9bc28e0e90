import { join } from "node:path";
import { createFileImageStore, createJob, type ImageStore } from "@codex-img/core";
import { testPng } from "@codex-img/core/testing";
import { createDb, createLibsqlJobStore, deleteJobWithFiles } from "@codex-img/db";
import { afterEach, describe, expect, it } from "vitest";
import { createTempFolder } from "./support/temp-database.js";

describe("deleteJobWithFiles", () => {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  it("removes the row, its attempts and events, and its images, partials and references", async () => {
    const folder = await createTempFolder();
    cleanups.push(() => folder.remove());
    const database = await createDb({ url: folder.url });
    cleanups.push(() => database.close());
    const store = createLibsqlJobStore(database);
    const images: ImageStore = createFileImageStore({ dir: join(folder.dir, "images") });
    const png = await testPng(8, 8, 1);
    const put = async (prefix: "img" | "ref") => (await images.put(png, { format: "png", prefix })).key;
    const refKey = await put("ref");
    const otherRef = await put("ref");
    const now = Date.now();
    const ref = { key: refKey, format: "png" as const, width: 8, height: 8, bytes: png.length };
    const base = {
      prompt: "p",
      size: "1024x1024" as const,
      quality: "auto" as const,
      background: "auto" as const,
      outputFormat: "png" as const,
      n: 1,
      model: "m",
    };
    const job = createJob({
      request: { ...base, referenceImages: [ref] },
      requestHash: "h",
      now,
      maxAttempts: 1,
      attemptDeadlineMs: 1000,
      keyId: "key_1",
      idempotencyKey: "idem",
    });
    const keep = createJob({
      request: { ...base, referenceImages: [{ ...ref, key: otherRef }] },
      requestHash: "h",
      now,
      maxAttempts: 1,
      attemptDeadlineMs: 1000,
    });
    await store.insert(job);
    await store.insert(keep);
    const claimed = await store.claim({ workerId: "w", now, leaseMs: 1000 });
    expect(claimed?.job.id).toBe(job.id);
    const guard = { jobId: job.id, workerId: "w", attempt: 1 };
    const partialKey = await put("img");
    const finalKey = await put("img");
    const image = { key: finalKey, format: "png" as const, width: 8, height: 8, bytes: png.length };
    await store.finish(guard, {
      state: "succeeded",
      now,
      images: [image],
      events: [
        { type: "partial_image", at: now, attempt: 1, index: 0, image: { ...image, key: partialKey } },
      ],
    });

    const result = await deleteJobWithFiles({ store, images }, job.id);
    expect(result.deleted).toBe(true);
    expect(result.removedFiles.sort()).toEqual([refKey, partialKey, finalKey].sort());
    expect(result.failedFiles).toEqual([]);
    expect(await store.get(job.id)).toBeUndefined();
    for (const table of ["jobs", "job_attempts", "job_events"]) {
      const column = table === "jobs" ? "id" : "job_id";
      const rows = await database.client.execute({
        sql: `SELECT count(*) AS n FROM ${table} WHERE ${column} = ?`,
        args: [job.id],
      });
      expect(rows.rows[0]?.n).toBe(0);
    }
    for (const key of [refKey, partialKey, finalKey]) expect(await images.get(key)).toBeUndefined();
    // Another job's files and rows stay.
    expect(await images.get(otherRef)).toBeDefined();
    expect((await store.get(keep.id))?.state).toBe("queued");
    // Its idempotency key is free again, and a second delete is a clean no.
    expect(await deleteJobWithFiles({ store, images }, job.id)).toEqual({
      deleted: false,
      removedFiles: [],
      failedFiles: [],
    });
  });
});
