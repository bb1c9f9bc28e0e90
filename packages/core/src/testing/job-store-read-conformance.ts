import { describe, expect, it } from "vitest";
import type { Job } from "../queue/job.js";
import { guardOf, makeJob, type StoreUnderTest, T0 } from "./job-store-conformance-support.js";

/**
 * Events, lists, the finished-job cache and delete.
 * Registered by `describeJobStoreConformance`; `t` is the store of the running test.
 */
export function describeReadConformance(t: StoreUnderTest): void {
  describe("events", () => {
    it("assigns monotonic per-job seq and reads after a seq", async () => {
      const a = makeJob();
      const b = makeJob();
      await t.store.insert(a);
      await t.store.insert(b);
      const claimed = await t.claimOne("w1");
      const progress = Array.from({ length: 3 }, (_, i) => ({
        type: "progress" as const,
        at: T0 + i,
        attempt: 1,
        stage: "generating" as const,
      }));
      await t.store.finish(guardOf(claimed), {
        state: "succeeded",
        now: T0 + 5,
        images: [],
        events: progress,
      });
      const other = claimed.id === a.id ? b : a;
      expect((await t.store.readEvents(claimed.id)).map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6]);
      expect((await t.store.readEvents(other.id)).map((e) => e.seq)).toEqual([1]);
      expect((await t.store.readEvents(claimed.id, 3)).map((e) => e.seq)).toEqual([4, 5, 6]);
      expect((await t.store.readEvents(claimed.id, 1, 2)).map((e) => e.seq)).toEqual([2, 3]);
      expect(await t.store.readEvents(claimed.id, 6)).toEqual([]);
      expect(await t.store.readEvents("img_missing")).toEqual([]);
    });
  });

  describe("list", () => {
    it("pages newest first with a cursor and filters by key and state", async () => {
      const jobs = Array.from({ length: 7 }, (_, i) =>
        makeJob({ createdAt: T0 + i * 1000, keyId: i % 2 === 0 ? "even" : "odd" }),
      );
      for (const job of jobs) await t.store.insert(job);
      const seen: string[] = [];
      let cursor: string | undefined;
      for (let page = 0; page < 10; page++) {
        const result = await t.store.list({ limit: 3, ...(cursor ? { cursor } : {}) });
        seen.push(...result.jobs.map((j) => j.id));
        cursor = result.nextCursor;
        if (!cursor) break;
      }
      expect(seen).toEqual(jobs.map((j) => j.id).reverse());

      const even = await t.store.list({ keyId: "even", limit: 10 });
      expect(even.jobs.map((j) => j.id)).toEqual([jobs[6], jobs[4], jobs[2], jobs[0]].map((j) => j?.id));
      expect(even.nextCursor).toBeUndefined();

      await t.store.requestCancel(jobs[6]?.id ?? "", T0 + 10_000);
      const canceled = await t.store.list({ state: "canceled", limit: 10 });
      expect(canceled.jobs.map((j) => j.id)).toEqual([jobs[6]?.id]);
      const many = await t.store.list({ state: ["queued", "canceled"], keyId: "odd", limit: 10 });
      expect(many.jobs).toHaveLength(3);
    });

    it("pages through jobs created in the same millisecond", async () => {
      const jobs = Array.from({ length: 5 }, () => makeJob({ createdAt: T0 }));
      for (const job of jobs) await t.store.insert(job);
      const first = await t.store.list({ limit: 2 });
      const second = await t.store.list({ limit: 2, cursor: first.nextCursor ?? "" });
      const third = await t.store.list({ limit: 2, cursor: second.nextCursor ?? "" });
      const ids = [...first.jobs, ...second.jobs, ...third.jobs].map((j) => j.id);
      expect(ids).toEqual(jobs.map((j) => j.id).reverse());
      expect(third.nextCursor).toBeUndefined();
    });
  });

  describe("cachedFinished (stores that keep finished jobs in memory)", () => {
    it("shares one frozen finished job until it is deleted, and never a running one", async () => {
      const cachedFinished = t.store.cachedFinished?.bind(t.store);
      if (!cachedFinished) return;
      await t.store.insert(makeJob());
      const claimed = await t.claimOne("w1");
      await t.store.get(claimed.id);
      expect(cachedFinished(claimed.id)).toBeUndefined();
      const images = [{ key: "out/1.png", format: "png" as const, width: 1024, height: 1024, bytes: 99 }];
      const done = await t.store.finish(guardOf(claimed), { state: "succeeded", now: T0 + 5000, images });
      await t.store.get(claimed.id);
      const shared = cachedFinished(claimed.id);
      expect(shared).toEqual(done);
      expect(cachedFinished(claimed.id)).toBe(shared);
      expect(Object.isFrozen(shared?.images[0])).toBe(true);
      expect(() => {
        (shared as Job).state = "failed";
      }).toThrow(TypeError);
      // `get` still hands out a copy the caller may change.
      const copy = await t.store.get(claimed.id);
      if (!copy) throw new Error("missing");
      copy.state = "failed";
      expect(cachedFinished(claimed.id)?.state).toBe("succeeded");
      await t.store.delete(claimed.id);
      expect(cachedFinished(claimed.id)).toBeUndefined();
    });
  });

  describe("delete", () => {
    it("removes the job, its events and its idempotency key", async () => {
      const job = makeJob({ keyId: "k", idempotencyKey: "idem" });
      await t.store.insert(job);
      expect(await t.store.delete(job.id)).toBe(true);
      expect(await t.store.get(job.id)).toBeUndefined();
      expect(await t.store.readEvents(job.id)).toEqual([]);
      expect(await t.store.delete(job.id)).toBe(false);
      const again = await t.store.insert(
        makeJob({ keyId: "k", idempotencyKey: "idem", requestHash: "other" }),
      );
      expect(again.created).toBe(true);
    });
  });
}
