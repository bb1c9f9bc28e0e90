import { createJob, type Job, type StoredImageRequest } from "@codex-img/core";
import { describeJobStoreConformance } from "@codex-img/core/conformance";
import { storedImageRequest } from "@codex-img/core/testing";
import { createDb, createLibsqlJobStore, type Database } from "@codex-img/db";
import { afterEach, describe, expect, it } from "vitest";
import { createTempFolder } from "./support/temp-database.js";

describeJobStoreConformance("local file (libsql package, statements kept)", async () => {
  const folder = await createTempFolder();
  const database = await createDb({ url: folder.url });
  return {
    store: createLibsqlJobStore(database),
    async close() {
      database.close();
      await folder.remove();
    },
  };
});

// One connection only (an open transaction holds it), so this also checks that reads queue behind writes.
describeJobStoreConformance(":memory: (@libsql/client)", async () => {
  const database = await createDb({ url: ":memory:" });
  return {
    store: createLibsqlJobStore(database),
    async close() {
      database.close();
    },
  };
});

const T0 = Date.UTC(2026, 10, 22, 12, 0, 0);
const REQUEST: StoredImageRequest = storedImageRequest();

function makeJob(overrides: Partial<Job> = {}): Job {
  return {
    ...createJob({ request: REQUEST, requestHash: "h", now: T0, maxAttempts: 3, attemptDeadlineMs: 60_000 }),
    ...overrides,
  };
}

describe("libSQL job store on a file", () => {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  const open = async (url: string): Promise<Database> => {
    const database = await createDb({ url });
    cleanups.push(() => database.close());
    return database;
  };

  it("keeps a job with its attempts and events across close and reopen", async () => {
    const folder = await createTempFolder();
    cleanups.push(() => folder.remove());
    const first = await open(folder.url);
    const store = createLibsqlJobStore(first);
    const job = makeJob({ keyId: "key_1", idempotencyKey: "idem" });
    await store.insert(job);
    const claimed = (await store.claim({ workerId: "w1", now: T0 + 1, leaseMs: 30_000 }))?.job;
    if (!claimed?.lease) throw new Error("not claimed");
    const guard = { jobId: job.id, workerId: "w1", attempt: claimed.lease.attempt };
    await store.requeue(guard, {
      now: T0 + 3,
      runAfter: T0 + 4,
      error: { code: "upstream_failed", message: "502", retryable: true },
      attempt: { account: "alice", backend: "demo", route: "demo", upstreamIds: { demo_id: "d1" } },
      events: [{ type: "progress", at: T0 + 2, attempt: 1, stage: "generating" }],
    });
    const second = (await store.claim({ workerId: "w2", now: T0 + 4, leaseMs: 30_000 }))?.job;
    if (!second?.lease) throw new Error("not claimed again");
    const images = [
      { key: "img_aaaaaaaaaaaaaaaaaaaaaaaaaa.png", format: "png" as const, width: 8, height: 8, bytes: 9 },
    ];
    const done = await store.finish(
      { jobId: job.id, workerId: "w2", attempt: 2 },
      { state: "succeeded", now: T0 + 10, images, attempt: { account: "bob" } },
    );
    const events = await store.readEvents(job.id);
    first.close();

    const reopened = createLibsqlJobStore(await open(folder.url));
    const read = await reopened.get(job.id);
    expect(read).toEqual(done);
    expect(read?.attempts.map((a) => [a.number, a.workerId, a.account, a.error?.code])).toEqual([
      [1, "w1", "alice", "upstream_failed"],
      [2, "w2", "bob", undefined],
    ]);
    expect(read?.attempts[0]?.upstreamIds).toEqual({ demo_id: "d1" });
    expect(await reopened.readEvents(job.id)).toEqual(events);
    expect(events.map((e) => e.type)).toEqual([
      "queued",
      "started",
      "progress",
      "attempt_failed",
      "started",
      "succeeded",
    ]);
    // The idempotency key survives the restart too.
    const repeat = await reopened.insert(makeJob({ keyId: "key_1", idempotencyKey: "idem" }));
    expect(repeat).toMatchObject({ created: false, job: { id: job.id } });
  });

  it("keeps the filter columns in step with the job", async () => {
    const folder = await createTempFolder();
    cleanups.push(() => folder.remove());
    const database = await open(folder.url);
    const store = createLibsqlJobStore(database);
    const job = makeJob();
    await store.insert(job);
    await store.claim({ workerId: "w1", now: T0, leaseMs: 1000 });
    const columns = async (): Promise<Record<string, unknown>> => {
      const result = await database.client.execute({
        sql: `SELECT state, prompt, account, backend, attempt_count, lease_worker, lease_attempt, lease_expires_at,
          image_count, error_code, last_seq FROM jobs WHERE id = ?`,
        args: [job.id],
      });
      return { ...result.rows[0] };
    };
    expect(await columns()).toEqual({
      state: "running",
      prompt: REQUEST.prompt,
      account: null,
      backend: null,
      attempt_count: 1,
      lease_worker: "w1",
      lease_attempt: 1,
      lease_expires_at: T0 + 1000,
      image_count: 0,
      error_code: null,
      last_seq: 2,
    });
    await store.recoverExpiredLeases(T0 + 1000);
    await store.claim({ workerId: "w2", now: T0 + 1000, leaseMs: 1000 });
    await store.finish(
      { jobId: job.id, workerId: "w2", attempt: 2 },
      { state: "failed", now: T0 + 1500, error: { code: "upstream_refused", message: "no" } },
    );
    expect(await columns()).toMatchObject({
      state: "failed",
      account: null,
      attempt_count: 2,
      lease_worker: null,
      lease_attempt: null,
      lease_expires_at: null,
      error_code: "upstream_refused",
      last_seq: 6,
    });
    const attempts = await database.client.execute({
      sql: "SELECT number, error_code FROM job_attempts WHERE job_id = ? ORDER BY number",
      args: [job.id],
    });
    expect(attempts.rows.map((r) => [r.number, r.error_code])).toEqual([
      [1, "interrupted"],
      [2, "upstream_refused"],
    ]);
  });

  it("sets only what a transition changed: never the request or the prompt, never a finished attempt", async () => {
    const folder = await createTempFolder();
    cleanups.push(() => folder.remove());
    const database = await open(folder.url);
    // Triggers of the test's own record what each write touched (the search index runs on the same rule).
    await database.client.executeMultiple(`
      CREATE TABLE rewrites (what TEXT NOT NULL);
      CREATE TRIGGER request_rewritten AFTER UPDATE OF request, prompt ON jobs
        BEGIN INSERT INTO rewrites VALUES ('request'); END;
      CREATE TRIGGER attempt_rewritten AFTER UPDATE ON job_attempts
        BEGIN INSERT INTO rewrites VALUES ('attempt ' || new.number); END;`);
    const store = createLibsqlJobStore(database);
    const job = makeJob({ echo: { user: "u1", size: "1024x1024" } });
    await store.insert(job);
    await store.claim({ workerId: "w1", now: T0, leaseMs: 1000 });
    await store.recoverExpiredLeases(T0 + 1000);
    await store.claim({ workerId: "w2", now: T0 + 1000, leaseMs: 1000 });
    const finished = await store.finish(
      { jobId: job.id, workerId: "w2", attempt: 2 },
      { state: "succeeded", now: T0 + 1500, images: [] },
    );
    expect(finished?.state).toBe("succeeded");
    const rewrites = await database.client.execute("SELECT what FROM rewrites ORDER BY rowid");
    // Attempt 1 ends once (recovery), attempt 2 once (finish); the request is never set again.
    expect(rewrites.rows.map((r) => r.what)).toEqual(["attempt 1", "attempt 2"]);
    expect((await store.get(job.id))?.request).toEqual(REQUEST);
  });

  it("finds jobs by prompt through the FTS index the triggers keep", async () => {
    const folder = await createTempFolder();
    cleanups.push(() => folder.remove());
    const database = await open(folder.url);
    const store = createLibsqlJobStore(database);
    const job = makeJob({ request: { ...REQUEST, prompt: "a red bicycle in the snow" } });
    await store.insert(job);
    await store.insert(makeJob());
    const found = await database.client.execute(
      "SELECT j.id FROM jobs_fts f JOIN jobs j ON j.rowid = f.rowid WHERE jobs_fts MATCH 'bicycle'",
    );
    expect(found.rows.map((r) => r.id)).toEqual([job.id]);
    await store.delete(job.id);
    const after = await database.client.execute(
      "SELECT count(*) AS n FROM jobs_fts WHERE jobs_fts MATCH 'bicycle'",
    );
    expect(after.rows[0]?.n).toBe(0);
  });

  it("keeps a key's jobs when the key row is deleted, and copies the key's name in", async () => {
    const folder = await createTempFolder();
    cleanups.push(() => folder.remove());
    const database = await open(folder.url);
    await database.client.execute({
      sql: `INSERT INTO api_keys (id, name, hash, prefix, scopes, created_at) VALUES ('key_1', 'ci bot', 'h', 'cimg_1', '[]', ?)`,
      args: [T0],
    });
    const store = createLibsqlJobStore(database);
    const job = makeJob({ keyId: "key_1" });
    await store.insert(job);
    const foreignKeys = await database.client.execute(
      "SELECT m.name AS tbl, f.\"table\" AS target FROM sqlite_master m, pragma_foreign_key_list(m.name) f WHERE m.type = 'table'",
    );
    expect(foreignKeys.rows).toEqual([]);
    await database.client.execute("DELETE FROM api_keys WHERE id = 'key_1'");
    expect((await store.get(job.id))?.keyId).toBe("key_1");
    expect((await store.list({ keyId: "key_1", limit: 10 })).jobs.map((j) => j.id)).toEqual([job.id]);
    expect((await store.readEvents(job.id)).map((e) => e.type)).toEqual(["queued"]);
    const name = await database.client.execute({
      sql: "SELECT key_name FROM jobs WHERE id = ?",
      args: [job.id],
    });
    expect(name.rows[0]?.key_name).toBe("ci bot");
  });

  it("refuses an unknown cursor cleanly", async () => {
    const folder = await createTempFolder();
    cleanups.push(() => folder.remove());
    const store = createLibsqlJobStore(await open(folder.url));
    await expect(store.list({ limit: 1, cursor: "nope" })).rejects.toMatchObject({ code: "invalid_request" });
  });
});
