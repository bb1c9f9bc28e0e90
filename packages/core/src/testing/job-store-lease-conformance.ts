import { describe, expect, it } from "vitest";
import type { Job } from "../queue/job.js";
import { guardOf, LEASE, makeJob, type StoreUnderTest, T0 } from "./job-store-conformance-support.js";

/**
 * Claiming and leases: claim order, heartbeats, finishing and requeueing under a lease.
 * Registered by `describeJobStoreConformance`; `t` is the store of the running test.
 */
export function describeLeaseConformance(t: StoreUnderTest): void {
  describe("claim", () => {
    it("takes the highest priority first, then the oldest, then the first inserted", async () => {
      const low = makeJob({ priority: 0, createdAt: T0 - 3000 });
      const highNew = makeJob({ priority: 5, createdAt: T0 - 1000 });
      const highOld = makeJob({ priority: 5, createdAt: T0 - 2000 });
      const tieA = makeJob({ priority: 1, createdAt: T0 - 500 });
      const tieB = makeJob({ priority: 1, createdAt: T0 - 500 });
      for (const job of [low, highNew, highOld, tieA, tieB]) await t.store.insert(job);
      const order: string[] = [];
      for (let i = 0; i < 5; i++) order.push((await t.claimOne(`w${i}`)).id);
      expect(order).toEqual([highOld.id, highNew.id, tieA.id, tieB.id, low.id]);
      expect(await t.store.claim({ workerId: "w9", now: T0, leaseMs: LEASE })).toBeUndefined();
    });

    it("sets running with a lease and a new attempt, and appends started", async () => {
      const job = makeJob();
      await t.store.insert(job);
      const claimed = await t.claimOne("worker-a", T0 + 10);
      expect(claimed).toMatchObject({
        id: job.id,
        state: "running",
        startedAt: T0 + 10,
        lease: { workerId: "worker-a", attempt: 1, expiresAt: T0 + 10 + LEASE },
      });
      expect(claimed.attempts).toEqual([
        { number: 1, workerId: "worker-a", upstreamIds: {}, startedAt: T0 + 10 },
      ]);
      expect(await t.store.get(job.id)).toEqual(claimed);
      const events = await t.store.readEvents(job.id);
      expect(events.map((e) => e.type)).toEqual(["queued", "started"]);
      expect(events[1]).toMatchObject({ attempt: 1, workerId: "worker-a", at: T0 + 10, seq: 2 });
    });

    it("respects runAfter, the total deadline and cancellation", async () => {
      const later = makeJob({ runAfter: T0 + 5000 });
      const overdue = makeJob({ deadlineAt: T0 });
      const canceled = makeJob();
      for (const job of [later, overdue, canceled]) await t.store.insert(job);
      await t.store.requestCancel(canceled.id, T0);
      expect(await t.store.claim({ workerId: "w", now: T0 + 4999, leaseMs: LEASE })).toBeUndefined();
      expect((await t.claimOne("w", T0 + 5000)).id).toBe(later.id);
      expect(await t.store.claim({ workerId: "w", now: T0 + 6000, leaseMs: LEASE })).toBeUndefined();
    });

    it("is exclusive: concurrent claims of one job have exactly one winner", async () => {
      const job = makeJob();
      await t.store.insert(job);
      const results = await Promise.all(
        Array.from({ length: 8 }, (_, i) => t.store.claim({ workerId: `w${i}`, now: T0, leaseMs: LEASE })),
      );
      const winners = results.filter((r) => r !== undefined);
      expect(winners).toHaveLength(1);
      expect((await t.store.get(job.id))?.attempts).toHaveLength(1);
    });

    it("is exclusive across many jobs: each claimed at most once", async () => {
      const jobs = Array.from({ length: 5 }, () => makeJob());
      for (const job of jobs) await t.store.insert(job);
      const results = await Promise.all(
        Array.from({ length: 12 }, (_, i) => t.store.claim({ workerId: `w${i}`, now: T0, leaseMs: LEASE })),
      );
      const ids = results.filter((r) => r !== undefined).map((r) => r.job.id);
      expect(ids).toHaveLength(5);
      expect(new Set(ids)).toEqual(new Set(jobs.map((j) => j.id)));
    });
  });

  describe("leases", () => {
    it("extends the leases of their holders only, all in one step, with their cancel requests", async () => {
      await t.store.insert(makeJob());
      await t.store.insert(makeJob());
      const first = await t.claimOne("w1");
      const second = await t.claimOne("w1");
      await t.store.requestCancel(second.id, T0 + 1);
      const renewed = await t.store.renewLeases(
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
      expect((await t.store.get(first.id))?.lease?.expiresAt).toBe(T0 + 10_000 + LEASE);
      expect((await t.store.get(second.id))?.lease?.expiresAt).toBe(T0 + 10_000 + LEASE);
      expect(await t.store.renewLeases([], T0 + 10_000, LEASE)).toEqual([]);
    });

    it("returns the seq of the started event with the claim", async () => {
      const job = makeJob();
      await t.store.insert(job);
      const claimed = await t.store.claim({ workerId: "w1", now: T0, leaseMs: LEASE });
      expect(claimed?.lastSeq).toBe(2);
      await t.store.requeue(guardOf(claimed?.job as Job), {
        now: T0 + 1,
        runAfter: T0 + 1,
        error: { code: "upstream_failed", message: "again" },
      });
      expect((await t.store.claim({ workerId: "w1", now: T0 + 1, leaseMs: LEASE }))?.lastSeq).toBe(4);
    });

    it("writes the attempt's report (facts, progress, partial images) with the transition that ends it", async () => {
      await t.store.insert(makeJob());
      const claimed = await t.claimOne("w1");
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
      await t.store.requeue(guardOf(claimed), {
        now: T0 + 3,
        runAfter: T0 + 3,
        error,
        attempt: { ...attempt, upstreamIds: { a: "1" } },
        events,
      });
      const again = await t.claimOne("w1", T0 + 3);
      const done = await t.store.finish(guardOf(again), {
        state: "succeeded",
        now: T0 + 4,
        images: [image],
        attempt: { upstreamIds: { b: "2" } },
        events: [{ type: "progress", at: T0 + 4, attempt: 2, stage: "receiving" }],
      });
      expect(done?.attempts[0]).toMatchObject({ ...attempt, upstreamIds: { a: "1" }, error });
      expect(done?.attempts[1]?.upstreamIds).toEqual({ b: "2" });
      expect(done?.progress).toBeUndefined();
      expect(await t.store.readEvents(claimed.id, 2)).toMatchObject([
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
        await t.store.insert(job);
        const claimed = await t.claimOne("w1");
        await t.store.requestCancel(job.id, T0 + 1);
        const ended =
          end === "requeue"
            ? await t.store.requeue(guardOf(claimed), { now: T0 + 2, runAfter: T0 + 2, error })
            : await t.store.finish(guardOf(claimed), { state: "failed", now: T0 + 2, error });
        expect(ended).toMatchObject({ state: "canceled", error });
        expect((await t.store.readEvents(job.id)).at(-1)).toMatchObject({ type: "canceled", error });
      }
    });

    it("finishes a job for the lease holder", async () => {
      await t.store.insert(makeJob());
      const claimed = await t.claimOne("w1");
      const images = [{ key: "out/1.png", format: "png" as const, width: 1024, height: 1024, bytes: 99 }];
      const done = await t.store.finish(guardOf(claimed), { state: "succeeded", now: T0 + 5000, images });
      expect(done).toMatchObject({ state: "succeeded", images, finishedAt: T0 + 5000 });
      expect(done?.lease).toBeUndefined();
      expect(done?.attempts[0]).toMatchObject({ finishedAt: T0 + 5000, durationMs: 5000 });
      const events = await t.store.readEvents(claimed.id);
      expect(events.at(-1)).toMatchObject({ type: "succeeded", images });
      // A second finish is refused: the job is no longer running.
      expect(await t.store.finish(guardOf(claimed), { state: "succeeded", now: T0 + 6000, images: [] })).toBe(
        undefined,
      );
    });

    it("refuses a finish by a worker that lost its lease", async () => {
      await t.store.insert(makeJob());
      const stale = await t.claimOne("w1");
      await t.store.recoverExpiredLeases(T0 + LEASE);
      const fresh = await t.claimOne("w2", T0 + LEASE);
      expect(fresh.attempts).toHaveLength(2);
      const error = { code: "upstream_failed" as const, message: "late" };
      expect(await t.store.finish(guardOf(stale), { state: "failed", now: T0 + LEASE + 1, error })).toBe(
        undefined,
      );
      expect(
        await t.store.requeue(guardOf(stale), { now: T0 + LEASE + 1, runAfter: T0 + LEASE + 1, error }),
      ).toBe(undefined);
      expect(await t.store.get(fresh.id)).toEqual(fresh);
    });

    it("refuses a stale handle of the same worker id after a new attempt", async () => {
      await t.store.insert(makeJob());
      const first = await t.claimOne("w1");
      await t.store.recoverExpiredLeases(T0 + LEASE);
      const second = await t.claimOne("w1", T0 + LEASE);
      expect(await t.store.renewLeases([guardOf(first), guardOf(second)], T0 + LEASE + 1, LEASE)).toEqual([
        { jobId: second.id, cancelRequested: false },
      ]);
    });

    it("requeues for another attempt with runAfter and an attempt_failed event", async () => {
      await t.store.insert(makeJob());
      const claimed = await t.claimOne("w1");
      const error = { code: "upstream_failed" as const, message: "502", retryable: true };
      const requeued = await t.store.requeue(guardOf(claimed), { now: T0 + 100, runAfter: T0 + 2100, error });
      expect(requeued).toMatchObject({ state: "queued", runAfter: T0 + 2100 });
      expect(requeued?.lease).toBeUndefined();
      expect(requeued?.attempts[0]).toMatchObject({ error, finishedAt: T0 + 100, durationMs: 100 });
      expect((await t.store.readEvents(claimed.id)).at(-1)).toMatchObject({
        type: "attempt_failed",
        attempt: 1,
        error,
        willRetry: true,
        retryAt: T0 + 2100,
      });
      expect(await t.store.claim({ workerId: "w1", now: T0 + 2099, leaseMs: LEASE })).toBeUndefined();
      expect((await t.claimOne("w1", T0 + 2100)).attempts).toHaveLength(2);
    });

    it("records a terminal failure with attempt_failed then failed", async () => {
      await t.store.insert(makeJob());
      const claimed = await t.claimOne("w1");
      const error = { code: "upstream_refused" as const, message: "no", retryable: false };
      const failed = await t.store.finish(guardOf(claimed), { state: "failed", now: T0 + 1, error });
      expect(failed).toMatchObject({ state: "failed", error });
      const types = (await t.store.readEvents(claimed.id)).map((e) => e.type);
      expect(types).toEqual(["queued", "started", "attempt_failed", "failed"]);
    });
  });
}
