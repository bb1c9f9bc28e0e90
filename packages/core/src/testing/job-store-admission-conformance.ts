import { describe, expect, it } from "vitest";
import { CodexImgError } from "../errors.js";
import { guardOf, makeJob, REQUEST, type StoreUnderTest, T0 } from "./job-store-conformance-support.js";
import { rejection } from "./rejection.js";

/**
 * Inserting: round trips, idempotency keys, the queue limit and `admit`.
 * Registered by `describeJobStoreConformance`; `t` is the store of the running test.
 */
export function describeAdmissionConformance(t: StoreUnderTest): void {
  describe("insert and get", () => {
    it("round-trips a job and appends its queued event", async () => {
      const job = makeJob({ keyId: "key_1", priority: 2 });
      const { job: stored, created } = await t.store.insert(job);
      expect(created).toBe(true);
      expect(stored).toEqual(job);
      expect(await t.store.get(job.id)).toEqual(job);
      expect(await t.store.get("img_missing")).toBeUndefined();
      const events = await t.store.readEvents(job.id);
      expect(events).toEqual([{ type: "queued", jobId: job.id, seq: 1, at: job.createdAt, priority: 2 }]);
    });

    it("does not leak mutations in or out", async () => {
      const job = makeJob();
      const { job: returned } = await t.store.insert(job);
      job.request.prompt = "changed after insert";
      returned.state = "failed";
      const read = await t.store.get(job.id);
      if (!read) throw new Error("missing");
      read.request.referenceImages.push({ key: "x", format: "png", width: 1, height: 1, bytes: 1 });
      const again = await t.store.get(job.id);
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
      expect((await t.store.insert(job)).job.echo).toEqual(echo);
      const claimed = await t.claimOne("w1");
      expect(claimed.echo).toEqual(echo);
      const done = await t.store.finish(guardOf(claimed), { state: "succeeded", now: T0 + 10, images: [] });
      expect(done?.echo).toEqual(echo);
      expect((await t.store.get(job.id))?.echo).toEqual(echo);
      const plain = await t.store.insert(makeJob());
      expect(plain.job.echo).toBeUndefined();
      expect((await t.store.get(plain.job.id))?.echo).toBeUndefined();
    });
  });

  describe("idempotency", () => {
    it("returns the existing job for the same key and body", async () => {
      const first = makeJob({ keyId: "key_1", idempotencyKey: "idem-1" });
      await t.store.insert(first);
      const repeat = await t.store.insert(makeJob({ keyId: "key_1", idempotencyKey: "idem-1" }));
      expect(repeat.created).toBe(false);
      expect(repeat.job.id).toBe(first.id);
      expect(await t.store.countActive()).toBe(1);
    });

    it("refuses the same key with a different body", async () => {
      await t.store.insert(makeJob({ keyId: "key_1", idempotencyKey: "idem-1" }));
      const error = await rejection(
        t.store.insert(makeJob({ keyId: "key_1", idempotencyKey: "idem-1", requestHash: "hash-b" })),
      );
      expect(error.code).toBe("invalid_request");
      expect(error.details.param).toBe("idempotency_key");
    });

    it("scopes keys per keyId and ignores jobs without a key", async () => {
      const a = await t.store.insert(makeJob({ keyId: "key_1", idempotencyKey: "idem-1" }));
      const b = await t.store.insert(makeJob({ keyId: "key_2", idempotencyKey: "idem-1" }));
      const c = await t.store.insert(makeJob({ idempotencyKey: "idem-1" }));
      const d = await t.store.insert(makeJob({ keyId: "key_1" }));
      const e = await t.store.insert(makeJob({ keyId: "key_1" }));
      expect([a, b, c, d, e].every((r) => r.created)).toBe(true);
      expect(new Set([a, b, c, d, e].map((r) => r.job.id)).size).toBe(5);
    });
  });

  describe("maxQueued", () => {
    it("refuses with queue_full when that many jobs are queued, counting only queued ones", async () => {
      await t.store.insert(makeJob({ keyId: "k", idempotencyKey: "first" }), { maxQueued: 2 });
      await t.store.insert(makeJob(), { maxQueued: 2 });
      const error = await rejection(t.store.insert(makeJob(), { maxQueued: 2 }));
      expect(error.code).toBe("queue_full");
      expect(error.details).toMatchObject({ queued: 2, maxQueued: 2 });
      // An idempotent repeat adds nothing, so it is answered even when full.
      const repeat = await t.store.insert(makeJob({ keyId: "k", idempotencyKey: "first" }), { maxQueued: 2 });
      expect(repeat.created).toBe(false);
      await t.claimOne();
      expect(await t.store.countActive()).toBe(1);
      expect((await t.store.insert(makeJob(), { maxQueued: 2 })).created).toBe(true);
    });

    it("lets only one of several concurrent inserts take the last slot", async () => {
      const results = await Promise.allSettled(
        Array.from({ length: 5 }, () => t.store.insert(makeJob(), { maxQueued: 1 })),
      );
      expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
      expect(await t.store.countActive()).toBe(1);
    });
  });

  describe("admit", () => {
    it("runs once when a job is created; a refusal creates nothing and reaches the caller", async () => {
      let calls = 0;
      const admitted = await t.store.insert(makeJob(), {
        admit: async () => {
          calls++;
        },
      });
      expect(admitted.created).toBe(true);
      expect(calls).toBe(1);
      const refusal = new CodexImgError("rate_limited", "over the limit");
      const refused = makeJob();
      const error = await rejection(
        t.store.insert(refused, {
          admit: async () => {
            throw refusal;
          },
        }),
      );
      expect(error).toBe(refusal);
      expect(await t.store.get(refused.id)).toBeUndefined();
      expect(await t.store.countActive()).toBe(1);
    });

    it("is not asked for an idempotent repeat or when the queue is full", async () => {
      let calls = 0;
      const admit = async (): Promise<void> => {
        calls++;
      };
      await t.store.insert(makeJob({ keyId: "key_1", idempotencyKey: "idem-a" }), { admit });
      const repeat = await t.store.insert(makeJob({ keyId: "key_1", idempotencyKey: "idem-a" }), { admit });
      expect(repeat.created).toBe(false);
      expect((await rejection(t.store.insert(makeJob(), { maxQueued: 1, admit }))).code).toBe("queue_full");
      expect(calls).toBe(1);
    });
  });
}
