import { CodexImgError, createJob, type StoredImageRequest } from "@codex-img/core";
import {
  consumeInTransaction,
  createLibsqlJobStore,
  createUsageCounters,
  type SqlExecutor,
} from "@codex-img/db";
import { describe, expect, it } from "vitest";
import { useTempDatabase } from "./support/temp-database.js";

// A caller's usage counts, taken in the job insert's own transaction (`InsertJobOptions.admit`), commit
// with the job or not at all: a refusal, or a crash before the commit, leaves nothing counted.

const REQUEST: StoredImageRequest = {
  prompt: "a kite",
  size: "auto",
  quality: "auto",
  background: "auto",
  outputFormat: "png",
  n: 2,
  model: "gpt-image-2",
  referenceImages: [],
};

describe("job admission in the insert transaction", () => {
  const counter = { scope: "key:key_a:images", window: "day:2026-11-22" };
  const consume = (limit: number) => (tx: unknown) =>
    consumeInTransaction(tx as SqlExecutor, [{ ...counter, amount: 2, limit, expiresAt: 9e15 }]).then(
      (outcome) => {
        if ("failed" in outcome) throw new CodexImgError("quota_exhausted", "over the daily images");
      },
    );

  const temp = useTempDatabase("codex-img-admission-");

  it("commits the counts with the job, and rolls both back when the admission refuses", async () => {
    const store = createLibsqlJobStore(temp.database);
    const counters = createUsageCounters(temp.database);
    const job = (): ReturnType<typeof createJob> =>
      createJob({
        request: REQUEST,
        requestHash: "h",
        now: Date.now(),
        maxAttempts: 3,
        attemptDeadlineMs: 60_000,
        keyId: "key_a",
      });

    expect((await store.insert(job(), { admit: consume(3) })).created).toBe(true);
    expect(await counters.get(counter)).toBe(2);

    const refused = job();
    const error = await store.insert(refused, { admit: consume(3) }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "quota_exhausted" });
    expect(await store.get(refused.id)).toBeUndefined();
    expect(await counters.get(counter)).toBe(2);

    // A failure after the counts were taken (the insert itself, or a crash before the commit) takes
    // them back too: here the admission counts, then the transaction fails.
    const failing = job();
    const crash = await store
      .insert(failing, {
        admit: async (tx) => {
          await consume(10)(tx);
          throw new Error("process died here");
        },
      })
      .catch((e: unknown) => e);
    expect(crash).toBeInstanceOf(Error);
    expect(await counters.get(counter)).toBe(2);
    expect(await store.get(failing.id)).toBeUndefined();
  });
});
