import { describe, expect, it } from "vitest";
import type { Job } from "../queue/job.js";
import { guardOf, LEASE, makeJob, type StoreUnderTest, T0 } from "./job-store-conformance-support.js";

/**
 * Expired leases, cancels and deadlines.
 * Registered by `describeJobStoreConformance`; `t` is the store of the running test.
 */
export function describeRecoveryConformance(t: StoreUnderTest): void {
  describe("recoverExpiredLeases", () => {
    it("requeues a job whose lease expired while attempts remain", async () => {
      await t.store.insert(makeJob({ maxAttempts: 2 }));
      const claimed = await t.claimOne("w1");
      expect(await t.store.recoverExpiredLeases(T0 + LEASE - 1)).toEqual([]);
      const changed = await t.store.recoverExpiredLeases(T0 + LEASE, { retryDelayMs: (n) => n * 1000 });
      expect(changed).toHaveLength(1);
      expect(changed[0]?.outcome).toBe("requeued");
      expect(changed[0]?.job).toMatchObject({
        id: claimed.id,
        state: "queued",
        runAfter: T0 + LEASE + 1000,
      });
      expect(changed[0]?.job.attempts[0]?.error?.code).toBe("interrupted");
      expect(await t.store.get(claimed.id)).toEqual(changed[0]?.job);
      expect((await t.store.readEvents(claimed.id)).at(-1)).toMatchObject({
        type: "attempt_failed",
        willRetry: true,
        error: { code: "interrupted" },
      });
    });

    it("fails with interrupted when no attempts remain", async () => {
      await t.store.insert(makeJob({ maxAttempts: 1 }));
      const claimed = await t.claimOne("w1");
      const [change] = await t.store.recoverExpiredLeases(T0 + LEASE + 1);
      expect(change?.outcome).toBe("failed");
      expect(change?.job).toMatchObject({ state: "failed", error: { code: "interrupted" } });
      expect((await t.store.readEvents(claimed.id)).map((e) => e.type).slice(-2)).toEqual([
        "attempt_failed",
        "failed",
      ]);
    });

    it("fails instead of requeueing past the total deadline", async () => {
      await t.store.insert(makeJob({ deadlineAt: T0 + LEASE + 500 }));
      await t.claimOne("w1");
      const [change] = await t.store.recoverExpiredLeases(T0 + LEASE, { retryDelayMs: () => 1000 });
      expect(change?.outcome).toBe("failed");
    });

    it("cancels a job whose cancel was requested", async () => {
      await t.store.insert(makeJob());
      const claimed = await t.claimOne("w1");
      await t.store.requestCancel(claimed.id, T0 + 1);
      const [change] = await t.store.recoverExpiredLeases(T0 + LEASE);
      expect(change?.outcome).toBe("canceled");
      expect(change?.job.state).toBe("canceled");
    });

    it("leaves jobs whose lease was renewed alone", async () => {
      await t.store.insert(makeJob());
      const claimed = await t.claimOne("w1");
      await t.store.renewLeases([guardOf(claimed)], T0 + LEASE - 1, LEASE);
      expect(await t.store.recoverExpiredLeases(T0 + LEASE)).toEqual([]);
    });
  });

  describe("cancel and deadlines", () => {
    it("cancels a queued job at once and flags a running one", async () => {
      const queued = makeJob();
      const runningJob = makeJob({ createdAt: T0 - 1 });
      await t.store.insert(queued);
      await t.store.insert(runningJob);
      await t.claimOne("w1");
      const canceled = await t.store.requestCancel(queued.id, T0 + 5);
      expect(canceled).toMatchObject({
        state: "canceled",
        finishedAt: T0 + 5,
        error: { code: "canceled" },
      });
      expect((await t.store.readEvents(queued.id)).at(-1)).toMatchObject({ type: "canceled", at: T0 + 5 });
      const flagged = await t.store.requestCancel(runningJob.id, T0 + 6);
      expect(flagged).toMatchObject({ state: "running", cancelRequested: true });
      expect(await t.store.requestCancel("img_missing", T0)).toBeUndefined();
      // Already finished: unchanged, no new event.
      const before = await t.store.readEvents(queued.id);
      expect(await t.store.requestCancel(queued.id, T0 + 7)).toEqual(canceled);
      expect(await t.store.readEvents(queued.id)).toEqual(before);
      // The holder records the cancel.
      const ended = await t.store.finish(guardOf(flagged as Job), { state: "canceled", now: T0 + 8 });
      expect(ended?.state).toBe("canceled");
    });

    it("fails queued jobs past their total deadline", async () => {
      const overdue = makeJob({ deadlineAt: T0 + 100 });
      const fine = makeJob({ deadlineAt: T0 + 10_000 });
      await t.store.insert(overdue);
      await t.store.insert(fine);
      const failed = await t.store.failOverdue(T0 + 100);
      expect(failed.map((j) => j.id)).toEqual([overdue.id]);
      expect(failed[0]).toMatchObject({ state: "failed", error: { code: "upstream_timeout" } });
      expect((await t.store.readEvents(overdue.id)).at(-1)?.type).toBe("failed");
      expect((await t.store.get(fine.id))?.state).toBe("queued");
    });
  });
}
