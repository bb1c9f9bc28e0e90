import { CodexImgError, createJob, type StoredImageRequest } from "@codex-img/core";
import { storedImageRequest } from "@codex-img/core/testing";
import { createDb, createLibsqlJobStore, isBusyError, withBusyRetry } from "@codex-img/db";
import { LibsqlError } from "@libsql/client";
import { afterEach, describe, expect, it } from "vitest";
import { createTempFolder } from "./support/temp-database.js";

const REQUEST: StoredImageRequest = storedImageRequest({ prompt: "busy" });
const newJob = () =>
  createJob({ request: REQUEST, requestHash: "h", now: Date.now(), maxAttempts: 1, attemptDeadlineMs: 1000 });

describe("withBusyRetry", () => {
  it("recognises SQLite busy and locked errors, also wrapped, and nothing else", () => {
    expect(isBusyError(new LibsqlError("database is locked", "SQLITE_BUSY", "SQLITE_BUSY", 5))).toBe(true);
    expect(isBusyError(new LibsqlError("x", "SQLITE_BUSY", "SQLITE_BUSY_SNAPSHOT", 517))).toBe(true);
    expect(isBusyError(new LibsqlError("x", "SQLITE_LOCKED", "SQLITE_LOCKED_SHAREDCACHE", 262))).toBe(true);
    const wrapped = new Error("Failed query", { cause: new LibsqlError("locked", "SQLITE_BUSY") });
    expect(isBusyError(wrapped)).toBe(true);
    expect(isBusyError(new LibsqlError("x", "SQLITE_CONSTRAINT", "SQLITE_CONSTRAINT_UNIQUE", 2067))).toBe(
      false,
    );
    expect(isBusyError(new Error("SQLITE_BUSY in a message is not a code"))).toBe(false);
    expect(isBusyError("SQLITE_BUSY")).toBe(false);
  });

  it("retries with growing, jittered delays within the bound, then gives a clean retryable error", async () => {
    let clock = 0;
    const delays: number[] = [];
    let calls = 0;
    const busy = new LibsqlError("database is locked: /secret/path/codex-img.db", "SQLITE_BUSY");
    const options = {
      maxWaitMs: 1000,
      initialDelayMs: 10,
      maxDelayMs: 200,
      now: () => clock,
      random: () => 1,
      sleep: async (ms: number) => {
        delays.push(ms);
        clock += ms;
      },
    };
    const error = await withBusyRetry(async () => {
      calls++;
      throw busy;
    }, options).catch((e: unknown) => e);
    expect(delays.slice(0, 6)).toEqual([10, 20, 40, 80, 160, 200]);
    expect(delays.reduce((a, b) => a + b, 0)).toBe(1000);
    expect(calls).toBe(delays.length + 1);
    expect(error).toBeInstanceOf(CodexImgError);
    expect(error).toMatchObject({ code: "rate_limited", retryable: true, retryAfterMs: 1000 });
    expect((error as CodexImgError).message).not.toMatch(/SQLITE|secret|locked|\.db/);
    expect((error as CodexImgError).cause).toBe(busy);

    clock = 0;
    calls = 0;
    const result = await withBusyRetry(async () => {
      if (++calls < 3) throw busy;
      return "ok";
    }, options);
    expect(result).toBe("ok");
    const other = new Error("not busy");
    await expect(
      withBusyRetry(async () => {
        throw other;
      }, options),
    ).rejects.toBe(other);
  });
});

describe("a store write against a lock held by another connection", () => {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  const setup = async (maxWaitMs: number) => {
    const folder = await createTempFolder();
    cleanups.push(() => folder.remove());
    const mine = await createDb({ url: folder.url });
    cleanups.push(() => mine.close());
    const other = await createDb({ url: folder.url });
    cleanups.push(() => other.close());
    const store = createLibsqlJobStore(mine, { busy: { maxWaitMs } });
    // BEGIN IMMEDIATE: the other connection holds SQLite's single write lock until it commits.
    const held = await other.client.transaction("write");
    cleanups.push(() => held.close());
    return { store, held, folder };
  };

  // Also the regression test for libsql leaving a busy statement un-reset on the pooled connection
  // (tursodatabase/libsql-client-ts#352): with a plain BEGIN IMMEDIATE every retry here failed its COMMIT.
  it("waits for the lock and then succeeds", async () => {
    const { store, held } = await setup(5000);
    const job = newJob();
    const started = Date.now();
    const release = new Promise<void>((resolve) =>
      setTimeout(() => {
        held.commit().then(resolve, resolve);
      }, 250),
    );
    const result = await store.insert(job);
    await release;
    expect(result.created).toBe(true);
    expect(Date.now() - started).toBeGreaterThanOrEqual(200);
    expect((await store.get(job.id))?.state).toBe("queued");
    // Reads are not blocked by a writer (WAL): they answered while the lock was held too.
  });

  it("reads while the lock is held, and fails a write held past the bound with a clean error", async () => {
    const { store, held, folder } = await setup(300);
    const job = newJob();
    expect(await store.countActive()).toBe(0);
    const started = Date.now();
    const error = await store.insert(job).catch((e: unknown) => e);
    const waited = Date.now() - started;
    expect(waited).toBeGreaterThanOrEqual(250);
    expect(waited).toBeLessThan(3000);
    expect(error).toBeInstanceOf(CodexImgError);
    const codexError = error as CodexImgError;
    expect(codexError.code).toBe("rate_limited");
    expect(codexError.retryable).toBe(true);
    expect(codexError.httpStatus).toBe(429);
    expect(codexError.message).not.toMatch(/SQLITE|INSERT|jobs|locked/i);
    expect(codexError.message).not.toContain(folder.dir);
    expect(JSON.stringify(codexError.toJSON())).not.toContain(folder.dir);
    await held.rollback();
    expect((await store.insert(job)).created).toBe(true);
  });
});
