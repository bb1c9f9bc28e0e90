import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { CodexImgError } from "../errors.js";
import { createJob, type Job, type StoredImageRequest } from "../queue/job.js";
import type { JobStore, LeaseGuard } from "../queue/job-store.js";

/** What a conformance run needs: a fresh, empty store per test. */
export interface JobStoreFixture {
  store: JobStore;
  close?(): Promise<void>;
}

const T0 = Date.UTC(2026, 10, 22, 12, 0, 0);
const LEASE = 30_000;

const REQUEST: StoredImageRequest = {
  prompt: "a lighthouse at dusk",
  size: "1024x1024",
  quality: "auto",
  background: "auto",
  outputFormat: "png",
  n: 1,
  model: "gpt-image-2",
  referenceImages: [{ key: "ref/abc.png", format: "png", width: 64, height: 64, bytes: 1234 }],
};

function makeJob(overrides: Partial<Job> = {}): Job {
  return {
    ...createJob({
      request: REQUEST,
      requestHash: "hash-a",
      now: T0,
      maxAttempts: 3,
      attemptDeadlineMs: 360_000,
    }),
    ...overrides,
  };
}

function guardOf(job: Job): LeaseGuard {
  const lease = job.lease;
  if (!lease) throw new Error(`job ${job.id} has no lease`);
  return { jobId: job.id, workerId: lease.workerId, attempt: lease.attempt };
}

async function rejection(promise: Promise<unknown>): Promise<CodexImgError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof CodexImgError) return error;
    throw error;
  }
  throw new Error("expected a rejection");
}

/**
 * Registers the JobStore conformance tests. Every JobStore implementation runs this with a factory that
 * returns a fresh, empty store, so the memory and SQL stores are held to the same rules.
 */
export function describeJobStoreConformance(name: string, makeStore: () => Promise<JobStoreFixture>): void {
  describe(`JobStore conformance: ${name}`, () => {
    let fixture: JobStoreFixture;
    let store: JobStore;

    beforeEach(async () => {
      fixture = await makeStore();
      store = fixture.store;
    });

    afterEach(async () => {
      await fixture.close?.();
    });

    const claimOne = async (workerId = "w1", now = T0): Promise<Job> => {
      const claimed = await store.claim({ workerId, now, leaseMs: LEASE });
      if (!claimed) throw new Error("nothing to claim");
      return claimed.job;
    };

    describe("insert and get", () => {
      it("round-trips a job and appends its queued event", async () => {
        const job = makeJob({ keyId: "key_1", priority: 2 });
        const { job: stored, created } = await store.insert(job);
        expect(created).toBe(true);
        expect(stored).toEqual(job);
        expect(await store.get(job.id)).toEqual(job);
        expect(await store.get("img_missing")).toBeUndefined();
        const events = await store.readEvents(job.id);
        expect(events).toEqual([{ type: "queued", jobId: job.id, seq: 1, at: job.createdAt, priority: 2 }]);
      });

      it("does not leak mutations in or out", async () => {
        const job = makeJob();
        const { job: returned } = await store.insert(job);
        job.request.prompt = "changed after insert";
        returned.state = "failed";
        const read = await store.get(job.id);
        if (!read) throw new Error("missing");
        read.request.referenceImages.push({ key: "x", format: "png", width: 1, height: 1, bytes: 1 });
        const again = await store.get(job.id);
        expect(again?.request.prompt).toBe(REQUEST.prompt);
        expect(again?.state).toBe("queued");
        expect(again?.request.referenceImages).toHaveLength(1);
      });

      it("keeps a job's echo through insert, claim and finish", async () => {
        const echo = {
          model: "gpt-5.5",
          tools: [{ type: "image_generation", quality: "low", input_fidelity: "high" }],
          previous_response_id: "resp_abc",
          metadata: { run: "7" },
          store: false,
        };
        const job = makeJob({ echo });
        expect((await store.insert(job)).job.echo).toEqual(echo);
        const claimed = await claimOne("w1");
        expect(claimed.echo).toEqual(echo);
        const done = await store.finish(guardOf(claimed), { state: "succeeded", now: T0 + 10, images: [] });
        expect(done?.echo).toEqual(echo);
        expect((await store.get(job.id))?.echo).toEqual(echo);
        const plain = await store.insert(makeJob());
        expect(plain.job.echo).toBeUndefined();
        expect((await store.get(plain.job.id))?.echo).toBeUndefined();
      });
    });

    describe("idempotency", () => {
      it("returns the existing job for the same key and body", async () => {
        const first = makeJob({ keyId: "key_1", idempotencyKey: "idem-1" });
        await store.insert(first);
        const repeat = await store.insert(makeJob({ keyId: "key_1", idempotencyKey: "idem-1" }));
        expect(repeat.created).toBe(false);
        expect(repeat.job.id).toBe(first.id);
        expect(await store.countActive()).toBe(1);
      });

      it("refuses the same key with a different body", async () => {
        await store.insert(makeJob({ keyId: "key_1", idempotencyKey: "idem-1" }));
        const error = await rejection(
          store.insert(makeJob({ keyId: "key_1", idempotencyKey: "idem-1", requestHash: "hash-b" })),
        );
        expect(error.code).toBe("invalid_request");
        expect(error.details.param).toBe("idempotency_key");
      });

      it("scopes keys per keyId and ignores jobs without a key", async () => {
        const a = await store.insert(makeJob({ keyId: "key_1", idempotencyKey: "idem-1" }));
        const b = await store.insert(makeJob({ keyId: "key_2", idempotencyKey: "idem-1" }));
        const c = await store.insert(makeJob({ idempotencyKey: "idem-1" }));
        const d = await store.insert(makeJob({ keyId: "key_1" }));
        const e = await store.insert(makeJob({ keyId: "key_1" }));
        expect([a, b, c, d, e].every((r) => r.created)).toBe(true);
        expect(new Set([a, b, c, d, e].map((r) => r.job.id)).size).toBe(5);
      });
    });

    describe("maxQueued", () => {
      it("refuses with queue_full when that many jobs are queued, counting only queued ones", async () => {
        await store.insert(makeJob({ keyId: "k", idempotencyKey: "first" }), { maxQueued: 2 });
        await store.insert(makeJob(), { maxQueued: 2 });
        const error = await rejection(store.insert(makeJob(), { maxQueued: 2 }));
        expect(error.code).toBe("queue_full");
        expect(error.details).toMatchObject({ queued: 2, maxQueued: 2 });
        // An idempotent repeat adds nothing, so it is answered even when full.
        const repeat = await store.insert(makeJob({ keyId: "k", idempotencyKey: "first" }), { maxQueued: 2 });
        expect(repeat.created).toBe(false);
        await claimOne();
        expect(await store.countActive()).toBe(1);
        expect((await store.insert(makeJob(), { maxQueued: 2 })).created).toBe(true);
      });

      it("lets only one of several concurrent inserts take the last slot", async () => {
        const results = await Promise.allSettled(
          Array.from({ length: 5 }, () => store.insert(makeJob(), { maxQueued: 1 })),
        );
        expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
        expect(await store.countActive()).toBe(1);
      });
    });

    describe("admit", () => {
      it("runs once when a job is created; a refusal creates nothing and reaches the caller", async () => {
        let calls = 0;
        const admitted = await store.insert(makeJob(), {
          admit: async () => {
            calls++;
          },
        });
        expect(admitted.created).toBe(true);
        expect(calls).toBe(1);
        const refusal = new CodexImgError("rate_limited", "over the limit");
        const refused = makeJob();
        const error = await rejection(
          store.insert(refused, {
            admit: async () => {
              throw refusal;
            },
          }),
        );
        expect(error).toBe(refusal);
        expect(await store.get(refused.id)).toBeUndefined();
        expect(await store.countActive()).toBe(1);
      });

      it("is not asked for an idempotent repeat or when the queue is full", async () => {
        let calls = 0;
        const admit = async (): Promise<void> => {
          calls++;
        };
        await store.insert(makeJob({ keyId: "key_1", idempotencyKey: "idem-a" }), { admit });
        const repeat = await store.insert(makeJob({ keyId: "key_1", idempotencyKey: "idem-a" }), { admit });
        expect(repeat.created).toBe(false);
        expect((await rejection(store.insert(makeJob(), { maxQueued: 1, admit }))).code).toBe("queue_full");
        expect(calls).toBe(1);
      });
    });

    describe("claim", () => {
      it("takes the highest priority first, then the oldest, then the first inserted", async () => {
        const low = makeJob({ priority: 0, createdAt: T0 - 3000 });
        const highNew = makeJob({ priority: 5, createdAt: T0 - 1000 });
        const highOld = makeJob({ priority: 5, createdAt: T0 - 2000 });
        const tieA = makeJob({ priority: 1, createdAt: T0 - 500 });
        const tieB = makeJob({ priority: 1, createdAt: T0 - 500 });
        for (const job of [low, highNew, highOld, tieA, tieB]) await store.insert(job);
        const order: string[] = [];
        for (let i = 0; i < 5; i++) order.push((await claimOne(`w${i}`)).id);
        expect(order).toEqual([highOld.id, highNew.id, tieA.id, tieB.id, low.id]);
        expect(await store.claim({ workerId: "w9", now: T0, leaseMs: LEASE })).toBeUndefined();
      });

      it("sets running with a lease and a new attempt, and appends started", async () => {
        const job = makeJob();
        await store.insert(job);
        const claimed = await claimOne("worker-a", T0 + 10);
        expect(claimed).toMatchObject({
          id: job.id,
          state: "running",
          startedAt: T0 + 10,
          lease: { workerId: "worker-a", attempt: 1, expiresAt: T0 + 10 + LEASE },
        });
        expect(claimed.attempts).toEqual([
          { number: 1, workerId: "worker-a", upstreamIds: {}, startedAt: T0 + 10 },
        ]);
        expect(await store.get(job.id)).toEqual(claimed);
        const events = await store.readEvents(job.id);
        expect(events.map((e) => e.type)).toEqual(["queued", "started"]);
        expect(events[1]).toMatchObject({ attempt: 1, workerId: "worker-a", at: T0 + 10, seq: 2 });
      });

      it("respects runAfter, the total deadline and cancellation", async () => {
        const later = makeJob({ runAfter: T0 + 5000 });
        const overdue = makeJob({ deadlineAt: T0 });
        const canceled = makeJob();
        for (const job of [later, overdue, canceled]) await store.insert(job);
        await store.requestCancel(canceled.id, T0);
        expect(await store.claim({ workerId: "w", now: T0 + 4999, leaseMs: LEASE })).toBeUndefined();
        expect((await claimOne("w", T0 + 5000)).id).toBe(later.id);
        expect(await store.claim({ workerId: "w", now: T0 + 6000, leaseMs: LEASE })).toBeUndefined();
      });

      it("is exclusive: concurrent claims of one job have exactly one winner", async () => {
        const job = makeJob();
        await store.insert(job);
        const results = await Promise.all(
          Array.from({ length: 8 }, (_, i) => store.claim({ workerId: `w${i}`, now: T0, leaseMs: LEASE })),
        );
        const winners = results.filter((r) => r !== undefined);
        expect(winners).toHaveLength(1);
        expect((await store.get(job.id))?.attempts).toHaveLength(1);
      });

      it("is exclusive across many jobs: each claimed at most once", async () => {
        const jobs = Array.from({ length: 5 }, () => makeJob());
        for (const job of jobs) await store.insert(job);
        const results = await Promise.all(
          Array.from({ length: 12 }, (_, i) => store.claim({ workerId: `w${i}`, now: T0, leaseMs: LEASE })),
        );
        const ids = results.filter((r) => r !== undefined).map((r) => r.job.id);
        expect(ids).toHaveLength(5);
        expect(new Set(ids)).toEqual(new Set(jobs.map((j) => j.id)));
      });
    });

    describe("leases", () => {
      it("extends the leases of their holders only, all in one step, with their cancel requests", async () => {
        await store.insert(makeJob());
        await store.insert(makeJob());
        const first = await claimOne("w1");
        const second = await claimOne("w1");
        await store.requestCancel(second.id, T0 + 1);
        const renewed = await store.renewLeases(
          [
            guardOf(first),
            guardOf(second),
            { ...guardOf(first), workerId: "w2" },
            { ...guardOf(second), attempt: 2 },
          ],
          T0 + 10_000,
          LEASE,
        );
        expect(renewed).toEqual([
          { jobId: first.id, cancelRequested: false },
          { jobId: second.id, cancelRequested: true },
        ]);
        expect((await store.get(first.id))?.lease?.expiresAt).toBe(T0 + 10_000 + LEASE);
        expect((await store.get(second.id))?.lease?.expiresAt).toBe(T0 + 10_000 + LEASE);
        expect(await store.renewLeases([], T0 + 10_000, LEASE)).toEqual([]);
      });

      it("returns the seq of the started event with the claim", async () => {
        const job = makeJob();
        await store.insert(job);
        const claimed = await store.claim({ workerId: "w1", now: T0, leaseMs: LEASE });
        expect(claimed?.lastSeq).toBe(2);
        await store.requeue(guardOf(claimed?.job as Job), {
          now: T0 + 1,
          runAfter: T0 + 1,
          error: { code: "upstream_failed", message: "again" },
        });
        expect((await store.claim({ workerId: "w1", now: T0 + 1, leaseMs: LEASE }))?.lastSeq).toBe(4);
      });

      it("writes the attempt's report (facts, progress, partial images) with the transition that ends it", async () => {
        await store.insert(makeJob());
        const claimed = await claimOne("w1");
        const image = { key: "p/0.png", format: "png" as const, width: 64, height: 64, bytes: 10 };
        const events = [
          {
            type: "progress" as const,
            at: T0 + 1,
            attempt: 1,
            stage: "generating" as const,
            message: "drawing",
          },
          { type: "partial_image" as const, at: T0 + 2, attempt: 1, index: 0, image },
        ];
        const attempt = { account: "alice", backend: "codex-http" as const, route: "native" as const };
        const error = { code: "upstream_failed" as const, message: "retry" };
        await store.requeue(guardOf(claimed), {
          now: T0 + 3,
          runAfter: T0 + 3,
          error,
          attempt: { ...attempt, upstreamIds: { a: "1" } },
          events,
        });
        const again = await claimOne("w1", T0 + 3);
        const done = await store.finish(guardOf(again), {
          state: "succeeded",
          now: T0 + 4,
          images: [image],
          attempt: { upstreamIds: { b: "2" } },
          events: [{ type: "progress", at: T0 + 4, attempt: 2, stage: "receiving" }],
        });
        expect(done?.attempts[0]).toMatchObject({ ...attempt, upstreamIds: { a: "1" }, error });
        expect(done?.attempts[1]?.upstreamIds).toEqual({ b: "2" });
        expect(done?.progress).toBeUndefined();
        expect(await store.readEvents(claimed.id, 2)).toMatchObject([
          { type: "progress", seq: 3, attempt: 1, stage: "generating", message: "drawing" },
          { type: "partial_image", seq: 4, attempt: 1, index: 0, image },
          { type: "attempt_failed", seq: 5, attempt: 1, willRetry: true },
          { type: "started", seq: 6, attempt: 2 },
          { type: "progress", seq: 7, attempt: 2, stage: "receiving" },
          { type: "succeeded", seq: 8 },
        ]);
      });

      it("ends a job whose cancel was requested as canceled, not failed or queued again", async () => {
        const error = { code: "upstream_failed" as const, message: "boom", retryable: true };
        for (const end of ["requeue", "fail"] as const) {
          const job = makeJob();
          await store.insert(job);
          const claimed = await claimOne("w1");
          await store.requestCancel(job.id, T0 + 1);
          const ended =
            end === "requeue"
              ? await store.requeue(guardOf(claimed), { now: T0 + 2, runAfter: T0 + 2, error })
              : await store.finish(guardOf(claimed), { state: "failed", now: T0 + 2, error });
          expect(ended).toMatchObject({ state: "canceled", error });
          expect((await store.readEvents(job.id)).at(-1)).toMatchObject({ type: "canceled", error });
        }
      });

      it("finishes a job for the lease holder", async () => {
        await store.insert(makeJob());
        const claimed = await claimOne("w1");
        const images = [{ key: "out/1.png", format: "png" as const, width: 1024, height: 1024, bytes: 99 }];
        const done = await store.finish(guardOf(claimed), { state: "succeeded", now: T0 + 5000, images });
        expect(done).toMatchObject({ state: "succeeded", images, finishedAt: T0 + 5000 });
        expect(done?.lease).toBeUndefined();
        expect(done?.attempts[0]).toMatchObject({ finishedAt: T0 + 5000, durationMs: 5000 });
        const events = await store.readEvents(claimed.id);
        expect(events.at(-1)).toMatchObject({ type: "succeeded", images });
        // A second finish is refused: the job is no longer running.
        expect(await store.finish(guardOf(claimed), { state: "succeeded", now: T0 + 6000, images: [] })).toBe(
          undefined,
        );
      });

      it("refuses a finish by a worker that lost its lease", async () => {
        await store.insert(makeJob());
        const stale = await claimOne("w1");
        await store.recoverExpiredLeases(T0 + LEASE);
        const fresh = await claimOne("w2", T0 + LEASE);
        expect(fresh.attempts).toHaveLength(2);
        const error = { code: "upstream_failed" as const, message: "late" };
        expect(await store.finish(guardOf(stale), { state: "failed", now: T0 + LEASE + 1, error })).toBe(
          undefined,
        );
        expect(
          await store.requeue(guardOf(stale), { now: T0 + LEASE + 1, runAfter: T0 + LEASE + 1, error }),
        ).toBe(undefined);
        expect(await store.get(fresh.id)).toEqual(fresh);
      });

      it("refuses a stale handle of the same worker id after a new attempt", async () => {
        await store.insert(makeJob());
        const first = await claimOne("w1");
        await store.recoverExpiredLeases(T0 + LEASE);
        const second = await claimOne("w1", T0 + LEASE);
        expect(await store.renewLeases([guardOf(first), guardOf(second)], T0 + LEASE + 1, LEASE)).toEqual([
          { jobId: second.id, cancelRequested: false },
        ]);
      });

      it("requeues for another attempt with runAfter and an attempt_failed event", async () => {
        await store.insert(makeJob());
        const claimed = await claimOne("w1");
        const error = { code: "upstream_failed" as const, message: "502", retryable: true };
        const requeued = await store.requeue(guardOf(claimed), { now: T0 + 100, runAfter: T0 + 2100, error });
        expect(requeued).toMatchObject({ state: "queued", runAfter: T0 + 2100 });
        expect(requeued?.lease).toBeUndefined();
        expect(requeued?.attempts[0]).toMatchObject({ error, finishedAt: T0 + 100, durationMs: 100 });
        expect((await store.readEvents(claimed.id)).at(-1)).toMatchObject({
          type: "attempt_failed",
          attempt: 1,
          error,
          willRetry: true,
          retryAt: T0 + 2100,
        });
        expect(await store.claim({ workerId: "w1", now: T0 + 2099, leaseMs: LEASE })).toBeUndefined();
        expect((await claimOne("w1", T0 + 2100)).attempts).toHaveLength(2);
      });

      it("records a terminal failure with attempt_failed then failed", async () => {
        await store.insert(makeJob());
        const claimed = await claimOne("w1");
        const error = { code: "upstream_refused" as const, message: "no", retryable: false };
        const failed = await store.finish(guardOf(claimed), { state: "failed", now: T0 + 1, error });
        expect(failed).toMatchObject({ state: "failed", error });
        const types = (await store.readEvents(claimed.id)).map((e) => e.type);
        expect(types).toEqual(["queued", "started", "attempt_failed", "failed"]);
      });
    });

    describe("recoverExpiredLeases", () => {
      it("requeues a job whose lease expired while attempts remain", async () => {
        await store.insert(makeJob({ maxAttempts: 2 }));
        const claimed = await claimOne("w1");
        expect(await store.recoverExpiredLeases(T0 + LEASE - 1)).toEqual([]);
        const changed = await store.recoverExpiredLeases(T0 + LEASE, { retryDelayMs: (n) => n * 1000 });
        expect(changed).toHaveLength(1);
        expect(changed[0]?.outcome).toBe("requeued");
        expect(changed[0]?.job).toMatchObject({
          id: claimed.id,
          state: "queued",
          runAfter: T0 + LEASE + 1000,
        });
        expect(changed[0]?.job.attempts[0]?.error?.code).toBe("interrupted");
        expect(await store.get(claimed.id)).toEqual(changed[0]?.job);
        expect((await store.readEvents(claimed.id)).at(-1)).toMatchObject({
          type: "attempt_failed",
          willRetry: true,
          error: { code: "interrupted" },
        });
      });

      it("fails with interrupted when no attempts remain", async () => {
        await store.insert(makeJob({ maxAttempts: 1 }));
        const claimed = await claimOne("w1");
        const [change] = await store.recoverExpiredLeases(T0 + LEASE + 1);
        expect(change?.outcome).toBe("failed");
        expect(change?.job).toMatchObject({ state: "failed", error: { code: "interrupted" } });
        expect((await store.readEvents(claimed.id)).map((e) => e.type).slice(-2)).toEqual([
          "attempt_failed",
          "failed",
        ]);
      });

      it("fails instead of requeueing past the total deadline", async () => {
        await store.insert(makeJob({ deadlineAt: T0 + LEASE + 500 }));
        await claimOne("w1");
        const [change] = await store.recoverExpiredLeases(T0 + LEASE, { retryDelayMs: () => 1000 });
        expect(change?.outcome).toBe("failed");
      });

      it("cancels a job whose cancel was requested", async () => {
        await store.insert(makeJob());
        const claimed = await claimOne("w1");
        await store.requestCancel(claimed.id, T0 + 1);
        const [change] = await store.recoverExpiredLeases(T0 + LEASE);
        expect(change?.outcome).toBe("canceled");
        expect(change?.job.state).toBe("canceled");
      });

      it("leaves jobs whose lease was renewed alone", async () => {
        await store.insert(makeJob());
        const claimed = await claimOne("w1");
        await store.renewLeases([guardOf(claimed)], T0 + LEASE - 1, LEASE);
        expect(await store.recoverExpiredLeases(T0 + LEASE)).toEqual([]);
      });
    });

    describe("cancel and deadlines", () => {
      it("cancels a queued job at once and flags a running one", async () => {
        const queued = makeJob();
        const runningJob = makeJob({ createdAt: T0 - 1 });
        await store.insert(queued);
        await store.insert(runningJob);
        await claimOne("w1");
        const canceled = await store.requestCancel(queued.id, T0 + 5);
        expect(canceled).toMatchObject({
          state: "canceled",
          finishedAt: T0 + 5,
          error: { code: "canceled" },
        });
        expect((await store.readEvents(queued.id)).at(-1)).toMatchObject({ type: "canceled", at: T0 + 5 });
        const flagged = await store.requestCancel(runningJob.id, T0 + 6);
        expect(flagged).toMatchObject({ state: "running", cancelRequested: true });
        expect(await store.requestCancel("img_missing", T0)).toBeUndefined();
        // Already finished: unchanged, no new event.
        const before = await store.readEvents(queued.id);
        expect(await store.requestCancel(queued.id, T0 + 7)).toEqual(canceled);
        expect(await store.readEvents(queued.id)).toEqual(before);
        // The holder records the cancel.
        const ended = await store.finish(guardOf(flagged as Job), { state: "canceled", now: T0 + 8 });
        expect(ended?.state).toBe("canceled");
      });

      it("fails queued jobs past their total deadline", async () => {
        const overdue = makeJob({ deadlineAt: T0 + 100 });
        const fine = makeJob({ deadlineAt: T0 + 10_000 });
        await store.insert(overdue);
        await store.insert(fine);
        const failed = await store.failOverdue(T0 + 100);
        expect(failed.map((j) => j.id)).toEqual([overdue.id]);
        expect(failed[0]).toMatchObject({ state: "failed", error: { code: "upstream_timeout" } });
        expect((await store.readEvents(overdue.id)).at(-1)?.type).toBe("failed");
        expect((await store.get(fine.id))?.state).toBe("queued");
      });
    });

    describe("events", () => {
      it("assigns monotonic per-job seq and reads after a seq", async () => {
        const a = makeJob();
        const b = makeJob();
        await store.insert(a);
        await store.insert(b);
        const claimed = await claimOne("w1");
        const progress = Array.from({ length: 3 }, (_, i) => ({
          type: "progress" as const,
          at: T0 + i,
          attempt: 1,
          stage: "generating" as const,
        }));
        await store.finish(guardOf(claimed), {
          state: "succeeded",
          now: T0 + 5,
          images: [],
          events: progress,
        });
        const other = claimed.id === a.id ? b : a;
        expect((await store.readEvents(claimed.id)).map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6]);
        expect((await store.readEvents(other.id)).map((e) => e.seq)).toEqual([1]);
        expect((await store.readEvents(claimed.id, 3)).map((e) => e.seq)).toEqual([4, 5, 6]);
        expect((await store.readEvents(claimed.id, 1, 2)).map((e) => e.seq)).toEqual([2, 3]);
        expect(await store.readEvents(claimed.id, 6)).toEqual([]);
        expect(await store.readEvents("img_missing")).toEqual([]);
      });
    });

    describe("list", () => {
      it("pages newest first with a cursor and filters by key and state", async () => {
        const jobs = Array.from({ length: 7 }, (_, i) =>
          makeJob({ createdAt: T0 + i * 1000, keyId: i % 2 === 0 ? "even" : "odd" }),
        );
        for (const job of jobs) await store.insert(job);
        const seen: string[] = [];
        let cursor: string | undefined;
        for (let page = 0; page < 10; page++) {
          const result = await store.list({ limit: 3, ...(cursor ? { cursor } : {}) });
          seen.push(...result.jobs.map((j) => j.id));
          cursor = result.nextCursor;
          if (!cursor) break;
        }
        expect(seen).toEqual(jobs.map((j) => j.id).reverse());

        const even = await store.list({ keyId: "even", limit: 10 });
        expect(even.jobs.map((j) => j.id)).toEqual([jobs[6], jobs[4], jobs[2], jobs[0]].map((j) => j?.id));
        expect(even.nextCursor).toBeUndefined();

        await store.requestCancel(jobs[6]?.id ?? "", T0 + 10_000);
        const canceled = await store.list({ state: "canceled", limit: 10 });
        expect(canceled.jobs.map((j) => j.id)).toEqual([jobs[6]?.id]);
        const many = await store.list({ state: ["queued", "canceled"], keyId: "odd", limit: 10 });
        expect(many.jobs).toHaveLength(3);
      });

      it("pages through jobs created in the same millisecond", async () => {
        const jobs = Array.from({ length: 5 }, () => makeJob({ createdAt: T0 }));
        for (const job of jobs) await store.insert(job);
        const first = await store.list({ limit: 2 });
        const second = await store.list({ limit: 2, cursor: first.nextCursor ?? "" });
        const third = await store.list({ limit: 2, cursor: second.nextCursor ?? "" });
        const ids = [...first.jobs, ...second.jobs, ...third.jobs].map((j) => j.id);
        expect(ids).toEqual(jobs.map((j) => j.id).reverse());
        expect(third.nextCursor).toBeUndefined();
      });
    });

    describe("cachedFinished (stores that keep finished jobs in memory)", () => {
      it("shares one frozen finished job until it is deleted, and never a running one", async () => {
        const cachedFinished = store.cachedFinished?.bind(store);
        if (!cachedFinished) return;
        await store.insert(makeJob());
        const claimed = await claimOne("w1");
        await store.get(claimed.id);
        expect(cachedFinished(claimed.id)).toBeUndefined();
        const images = [{ key: "out/1.png", format: "png" as const, width: 1024, height: 1024, bytes: 99 }];
        const done = await store.finish(guardOf(claimed), { state: "succeeded", now: T0 + 5000, images });
        await store.get(claimed.id);
        const shared = cachedFinished(claimed.id);
        expect(shared).toEqual(done);
        expect(cachedFinished(claimed.id)).toBe(shared);
        expect(Object.isFrozen(shared?.images[0])).toBe(true);
        expect(() => {
          (shared as Job).state = "failed";
        }).toThrow(TypeError);
        // `get` still hands out a copy the caller may change.
        const copy = await store.get(claimed.id);
        if (!copy) throw new Error("missing");
        copy.state = "failed";
        expect(cachedFinished(claimed.id)?.state).toBe("succeeded");
        await store.delete(claimed.id);
        expect(cachedFinished(claimed.id)).toBeUndefined();
      });
    });

    describe("delete", () => {
      it("removes the job, its events and its idempotency key", async () => {
        const job = makeJob({ keyId: "k", idempotencyKey: "idem" });
        await store.insert(job);
        expect(await store.delete(job.id)).toBe(true);
        expect(await store.get(job.id)).toBeUndefined();
        expect(await store.readEvents(job.id)).toEqual([]);
        expect(await store.delete(job.id)).toBe(false);
        const again = await store.insert(
          makeJob({ keyId: "k", idempotencyKey: "idem", requestHash: "other" }),
        );
        expect(again.created).toBe(true);
      });
    });
  });
}
