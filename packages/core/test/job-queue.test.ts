import {
  CodexImgError,
  createJobQueue,
  createMemoryJobStore,
  type JobEvent,
  type JobQueueOptions,
  type StoredImageRef,
  type StoredImageRequest,
} from "@codex-img/core";
import { ManualClock, rejection, storedImageRequest } from "@codex-img/core/testing";
import { describe, expect, it } from "vitest";

const REQUEST: StoredImageRequest = storedImageRequest({ prompt: "a paper boat on a pond" });

const IMAGE: StoredImageRef = { key: "out/1.png", format: "png", width: 1024, height: 1024, bytes: 2048 };

function setup(options: Partial<JobQueueOptions> = {}) {
  const clock = new ManualClock();
  const store = createMemoryJobStore();
  const queue = createJobQueue({ store, clock, pollIntervalMs: 0, ...options });
  return { clock, store, queue, t0: clock.now() };
}

async function collect(events: AsyncIterable<JobEvent>): Promise<JobEvent[]> {
  const out: JobEvent[] = [];
  for await (const event of events) out.push(event);
  return out;
}

async function mustClaim(queue: ReturnType<typeof setup>["queue"], workerId = "w1") {
  const claimed = await queue.claim(workerId);
  if (!claimed) throw new Error("nothing claimed");
  return claimed;
}

describe("job queue", () => {
  it("runs a job from enqueue to success with its events in order", async () => {
    const { queue, clock, t0 } = setup();
    const { job, created } = await queue.enqueue(REQUEST, { keyId: "key_1" });
    expect(created).toBe(true);
    expect(job).toMatchObject({ state: "queued", keyId: "key_1", priority: 0, maxAttempts: 3 });
    expect(job.id).toMatch(/^img_[a-z2-7]{26}$/);

    const claimed = await mustClaim(queue);
    expect(claimed.job.id).toBe(job.id);
    expect(claimed.attempt).toBe(1);
    await claimed.recordAttempt({ account: "alice", backend: "demo", route: "demo" });
    await claimed.progress({ type: "progress", stage: "generating" });
    await claimed.progress({ type: "partial_image", index: 0, image: { ...IMAGE, key: "partial/0.png" } });
    await clock.advance(2500);
    const done = await claimed.succeed([IMAGE], { upstreamIds: { request: "req_1" } });

    expect(done).toMatchObject({ state: "succeeded", images: [IMAGE], finishedAt: t0 + 2500 });
    expect(done?.attempts).toEqual([
      {
        number: 1,
        workerId: "w1",
        account: "alice",
        backend: "demo",
        route: "demo",
        upstreamIds: { request: "req_1" },
        startedAt: t0,
        finishedAt: t0 + 2500,
        durationMs: 2500,
      },
    ]);
    const events = await collect(queue.subscribe(job.id));
    expect(events.map((e) => [e.seq, e.type])).toEqual([
      [1, "queued"],
      [2, "started"],
      [3, "progress"],
      [4, "partial_image"],
      [5, "succeeded"],
    ]);
    expect(clock.pendingTimers).toBe(0);
  });

  it("resumes a subscription after a sequence number", async () => {
    const { queue } = setup();
    const { job } = await queue.enqueue(REQUEST);
    const claimed = await mustClaim(queue);
    await claimed.progress({ type: "progress", stage: "sent" });
    await claimed.succeed([IMAGE]);
    const resumed = await collect(queue.subscribe(job.id, { afterSeq: 2 }));
    expect(resumed.map((e) => e.type)).toEqual(["progress", "succeeded"]);
    expect(resumed[0]?.seq).toBe(3);
    expect(await collect(queue.subscribe(job.id, { afterSeq: 4 }))).toEqual([]);
    expect((await rejection(collect(queue.subscribe("img_missing")))).code).toBe("not_found");
  });

  it("shows a running attempt's progress here before the store has it, with the seqs the store gives it", async () => {
    const { queue, store } = setup();
    const { job } = await queue.enqueue(REQUEST);
    const claimed = await mustClaim(queue);
    await claimed.recordAttempt({ account: "alice", backend: "demo" });
    await claimed.progress({ type: "progress", stage: "generating", message: "drawing" });
    await claimed.progress({ type: "partial_image", index: 0, image: { ...IMAGE, key: "partial/0.png" } });
    // Nothing written since the claim: another process sees only `started`.
    expect((await store.readEvents(job.id)).map((e) => e.type)).toEqual(["queued", "started"]);
    expect((await store.get(job.id))?.progress).toBeUndefined();
    // This process sees the attempt as it runs.
    expect(await queue.get(job.id)).toMatchObject({
      progress: { stage: "generating", message: "drawing" },
      attempts: [{ account: "alice", backend: "demo" }],
    });
    const live: Array<[number, string]> = [];
    const controller = new AbortController();
    for await (const event of queue.subscribe(job.id, { signal: controller.signal })) {
      live.push([event.seq, event.type]);
      if (event.type === "partial_image") controller.abort();
    }
    expect(live).toEqual([
      [1, "queued"],
      [2, "started"],
      [3, "progress"],
      [4, "partial_image"],
    ]);
    await claimed.succeed([IMAGE]);
    // A client that saw seq 4 live resumes after it and gets exactly the rest.
    expect((await collect(queue.subscribe(job.id, { afterSeq: 4 }))).map((e) => [e.seq, e.type])).toEqual([
      [5, "succeeded"],
    ]);
    expect((await store.readEvents(job.id)).map((e) => [e.seq, e.type])).toEqual([
      [1, "queued"],
      [2, "started"],
      [3, "progress"],
      [4, "partial_image"],
      [5, "succeeded"],
    ]);
  });

  it("follows live events and ends after the terminal one", async () => {
    const { queue } = setup();
    const { job } = await queue.enqueue(REQUEST);
    const following = collect(queue.subscribe(job.id));
    const claimed = await mustClaim(queue);
    await claimed.progress({ type: "progress", stage: "generating", message: "drawing" });
    await claimed.fail(new CodexImgError("upstream_refused", "declined"));
    const events = await following;
    expect(events.map((e) => e.type)).toEqual(["queued", "started", "progress", "attempt_failed", "failed"]);
    expect(events.at(-1)).toMatchObject({ type: "failed", error: { code: "upstream_refused" } });
  });

  it("stops following when the subscriber's signal aborts", async () => {
    const { queue } = setup();
    const { job } = await queue.enqueue(REQUEST);
    const controller = new AbortController();
    const seen: string[] = [];
    const following = (async () => {
      for await (const event of queue.subscribe(job.id, { signal: controller.signal })) {
        seen.push(event.type);
        if (event.type === "queued") controller.abort();
      }
    })();
    await following;
    expect(seen).toEqual(["queued"]);
  });

  it("returns the same job for a repeated idempotency key and refuses a different body", async () => {
    const { queue } = setup();
    const first = await queue.enqueue(REQUEST, { keyId: "k1", idempotencyKey: "abc" });
    const repeat = await queue.enqueue({ ...REQUEST }, { keyId: "k1", idempotencyKey: "abc" });
    expect(repeat).toMatchObject({ created: false, job: { id: first.job.id } });
    const error = await rejection(
      queue.enqueue({ ...REQUEST, prompt: "something else" }, { keyId: "k1", idempotencyKey: "abc" }),
    );
    expect(error.code).toBe("invalid_request");
    expect(error.details.param).toBe("idempotency_key");
    const otherKey = await queue.enqueue(REQUEST, { keyId: "k2", idempotencyKey: "abc" });
    expect(otherKey.created).toBe(true);
  });

  it("claims higher priority first, then older jobs", async () => {
    const { queue, clock } = setup();
    const low = await queue.enqueue(REQUEST);
    await clock.advance(10);
    const high = await queue.enqueue(REQUEST, { priority: 10 });
    const low2 = await queue.enqueue(REQUEST);
    const order = [];
    for (let i = 0; i < 3; i++) order.push((await mustClaim(queue, `w${i}`)).job.id);
    expect(order).toEqual([high.job.id, low.job.id, low2.job.id]);
  });

  it("refuses with queue_full and an estimated retry-after", async () => {
    const { queue } = setup({ maxQueueLength: 2, averageJobMs: 20_000, workerCount: 2 });
    await queue.enqueue(REQUEST, { keyId: "k", idempotencyKey: "one" });
    await queue.enqueue(REQUEST);
    const error = await rejection(queue.enqueue(REQUEST));
    expect(error.code).toBe("queue_full");
    expect(error.retryAfterMs).toBe(20_000);
    expect(error.httpStatus).toBe(503);
    expect((await queue.enqueue(REQUEST, { keyId: "k", idempotencyKey: "one" })).created).toBe(false);
    // Concurrent enqueues cannot overshoot the limit.
    const { queue: fresh } = setup({ maxQueueLength: 3 });
    const results = await Promise.allSettled(Array.from({ length: 10 }, () => fresh.enqueue(REQUEST)));
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(3);
  });

  it("cancels a queued job at once", async () => {
    const { queue } = setup();
    const { job } = await queue.enqueue(REQUEST);
    const canceled = await queue.cancel(job.id);
    expect(canceled).toMatchObject({ state: "canceled", error: { code: "canceled" } });
    expect(await queue.claim("w1")).toBeUndefined();
    expect((await collect(queue.subscribe(job.id))).map((e) => e.type)).toEqual(["queued", "canceled"]);
    expect((await rejection(queue.cancel("img_missing"))).code).toBe("not_found");
  });

  it("cancels a running job by aborting its worker, which records canceled", async () => {
    const { queue } = setup();
    const { job } = await queue.enqueue(REQUEST);
    const claimed = await mustClaim(queue);
    // What a backend call does with the signal: reject once it aborts.
    const backendCall = new Promise((_, reject) => {
      claimed.signal.addEventListener("abort", () => reject(new DOMException("aborted", "AbortError")));
    });
    const flagged = await queue.cancel(job.id);
    expect(flagged).toMatchObject({ state: "running", cancelRequested: true });
    expect(claimed.signal.aborted).toBe(true);
    expect((claimed.signal.reason as CodexImgError).code).toBe("canceled");
    const thrown = await backendCall.catch((error: unknown) => error);
    const ended = await claimed.fail(thrown);
    expect(ended).toMatchObject({ state: "canceled", error: { code: "canceled" } });
    expect((await collect(queue.subscribe(job.id))).map((e) => e.type)).toEqual([
      "queued",
      "started",
      "canceled",
    ]);
  });

  it("cancels through the enqueue signal", async () => {
    const { queue } = setup();
    const controller = new AbortController();
    const { job } = await queue.enqueue(REQUEST, { signal: controller.signal });
    controller.abort();
    const settled = await queue.waitForJob(job.id, { timeoutMs: 1000 });
    expect(settled.state).toBe("canceled");
    const aborted = new AbortController();
    aborted.abort();
    expect((await rejection(queue.enqueue(REQUEST, { signal: aborted.signal }))).code).toBe("canceled");
  });

  it("reaches a worker in another process through its heartbeat", async () => {
    const { queue, store, clock } = setup({ leaseMs: 30_000 });
    const other = createJobQueue({ store, clock, pollIntervalMs: 0 });
    const { job } = await queue.enqueue(REQUEST);
    const claimed = await mustClaim(queue);
    await other.cancel(job.id);
    expect(claimed.signal.aborted).toBe(false);
    await clock.advance(10_000);
    expect((claimed.signal.reason as CodexImgError | undefined)?.code).toBe("canceled");
    expect((await claimed.fail(claimed.signal.reason))?.state).toBe("canceled");
  });

  it("requeues a job whose worker stopped heartbeating, then fails it with interrupted", async () => {
    const { queue, clock, t0 } = setup({ leaseMs: 30_000, heartbeatIntervalMs: 0, defaultMaxAttempts: 2 });
    const { job } = await queue.enqueue(REQUEST);
    const dead = await mustClaim(queue, "dead-worker");

    await clock.advance(29_999);
    expect((await queue.recover()).recovered).toEqual([]);
    await clock.advance(1);
    const first = await queue.recover();
    expect(first.recovered.map((r) => r.outcome)).toEqual(["requeued"]);
    expect(first.recovered[0]?.job).toMatchObject({ state: "queued", runAfter: t0 + 30_000 + 1000 });
    expect(dead.signal.aborted).toBe(true);
    expect(await dead.succeed([IMAGE])).toBeUndefined();

    expect(await queue.claim("w2")).toBeUndefined();
    await clock.advance(1000);
    const second = await mustClaim(queue, "w2");
    expect(second.attempt).toBe(2);
    await clock.advance(30_000);
    const last = await queue.recover();
    expect(last.recovered.map((r) => r.outcome)).toEqual(["failed"]);
    const failed = await queue.get(job.id);
    expect(failed).toMatchObject({ state: "failed", error: { code: "interrupted" } });
    expect(failed?.attempts.map((a) => a.error?.code)).toEqual(["interrupted", "interrupted"]);
    expect((await collect(queue.subscribe(job.id))).map((e) => e.type)).toEqual([
      "queued",
      "started",
      "attempt_failed",
      "started",
      "attempt_failed",
      "failed",
    ]);
  });

  it("keeps a job with heartbeats alive past the lease", async () => {
    const { queue, clock } = setup({ leaseMs: 30_000 });
    await queue.enqueue(REQUEST);
    const claimed = await mustClaim(queue);
    await clock.advance(100_000);
    expect((await queue.recover()).recovered).toEqual([]);
    expect((await claimed.succeed([IMAGE]))?.state).toBe("succeeded");
  });

  it("retries a retryable failure with backoff and fails a non-retryable one at once", async () => {
    const { queue, clock, t0 } = setup({ backoff: { baseMs: 2000 } });
    const { job } = await queue.enqueue(REQUEST);
    const first = await mustClaim(queue);
    const requeued = await first.fail(new CodexImgError("upstream_failed", "502 from upstream"));
    expect(requeued).toMatchObject({ state: "queued", runAfter: t0 + 2000 });
    const events = await queue.subscribe(job.id, { afterSeq: 2 })[Symbol.asyncIterator]().next();
    expect(events.value).toMatchObject({
      type: "attempt_failed",
      attempt: 1,
      willRetry: true,
      retryAt: t0 + 2000,
      error: { code: "upstream_failed" },
    });
    expect(await queue.claim("w1")).toBeUndefined();
    await clock.advance(2000);
    const second = await mustClaim(queue);
    expect(second.attempt).toBe(2);
    const failed = await second.fail(new CodexImgError("upstream_refused", "the model declined"));
    expect(failed).toMatchObject({ state: "failed", error: { code: "upstream_refused" } });
    expect(failed?.attempts).toHaveLength(2);
  });

  it("fails after the last attempt even when the error is retryable", async () => {
    const { queue } = setup({ defaultMaxAttempts: 1 });
    await queue.enqueue(REQUEST);
    const claimed = await mustClaim(queue);
    expect((await claimed.fail(new CodexImgError("upstream_failed", "boom")))?.state).toBe("failed");
  });

  it("aborts an attempt at its deadline with upstream_timeout and retries it", async () => {
    const { queue, clock, t0 } = setup({ attemptTimeoutMs: 5000, totalTimeoutMs: 60_000 });
    await queue.enqueue(REQUEST);
    const claimed = await mustClaim(queue);
    await clock.advance(4999);
    expect(claimed.signal.aborted).toBe(false);
    await clock.advance(1);
    expect(claimed.signal.reason).toMatchObject({
      code: "upstream_timeout",
      details: { deadline: "attempt" },
    });
    const requeued = await claimed.fail(new DOMException("aborted", "AbortError"));
    expect(requeued).toMatchObject({ state: "queued", runAfter: t0 + 5000 + 1000 });
    expect(requeued?.attempts[0]?.error?.code).toBe("upstream_timeout");
  });

  it("ends the job at its total deadline, running or queued", async () => {
    const { queue, clock } = setup({ attemptTimeoutMs: 5000, totalTimeoutMs: 8000 });
    const { job } = await queue.enqueue(REQUEST);
    const first = await mustClaim(queue);
    await clock.advance(5000);
    expect((await first.fail(first.signal.reason))?.state).toBe("queued");
    await clock.advance(1000);
    const second = await mustClaim(queue);
    await clock.advance(2000);
    expect(second.signal.reason).toMatchObject({ code: "upstream_timeout", details: { deadline: "total" } });
    const failed = await second.fail(second.signal.reason);
    expect(failed).toMatchObject({ state: "failed", error: { code: "upstream_timeout" } });
    expect((await queue.get(job.id))?.attempts).toHaveLength(2);

    const { job: waiting } = await queue.enqueue(REQUEST);
    await clock.advance(8000);
    expect(await queue.claim("w1")).toBeUndefined();
    const report = await queue.recover();
    expect(report.overdue.map((j) => j.id)).toEqual([waiting.id]);
    expect((await queue.get(waiting.id))?.state).toBe("failed");
  });

  it("waitForJob returns the running job at its timeout and the finished job when it ends first", async () => {
    const { queue, clock } = setup();
    const { job } = await queue.enqueue(REQUEST);
    const claimed = await mustClaim(queue);

    const timedOut = queue.waitForJob(job.id, { timeoutMs: 5000 });
    await clock.advance(5000);
    const stillRunning = await timedOut;
    expect(stillRunning).toMatchObject({ id: job.id, state: "running" });

    const finished = queue.waitForJob(job.id, { timeoutMs: 60_000 });
    await clock.advance(1000);
    await claimed.succeed([IMAGE]);
    expect(await finished).toMatchObject({ id: job.id, state: "succeeded", images: [IMAGE] });
    expect((await rejection(queue.waitForJob("img_missing", { timeoutMs: 10 }))).code).toBe("not_found");
  });

  it("waitForJob waits through a retry and progress, and returns once the job ends", async () => {
    const { queue, clock } = setup({ backoff: { baseMs: 1000 } });
    const { job } = await queue.enqueue(REQUEST);
    let settled = false;
    const waiting = queue.waitForJob(job.id, { timeoutMs: 60_000 }).finally(() => {
      settled = true;
    });
    const first = await mustClaim(queue);
    await first.progress({ type: "progress", stage: "generating" });
    expect((await first.fail(new CodexImgError("upstream_failed", "502")))?.state).toBe("queued");
    await clock.advance(1000);
    const second = await mustClaim(queue);
    await clock.advance(10);
    expect(settled).toBe(false);
    await second.succeed([IMAGE]);
    await clock.advance(0);
    expect(settled).toBe(true);
    expect(await waiting).toMatchObject({ id: job.id, state: "succeeded", images: [IMAGE] });
    expect((await waiting).attempts).toHaveLength(2);
  });

  it("waitForJob sees a job another process finished at its next poll", async () => {
    const clock = new ManualClock();
    const store = createMemoryJobStore();
    const here = createJobQueue({ store, clock, pollIntervalMs: 1000 });
    const elsewhere = createJobQueue({ store, clock, pollIntervalMs: 1000 });
    const { job } = await here.enqueue(REQUEST);
    let settled = false;
    const waiting = here.waitForJob(job.id, { timeoutMs: 60_000 }).finally(() => {
      settled = true;
    });
    const claimed = await mustClaim(elsewhere);
    await claimed.succeed([IMAGE]);
    await clock.advance(10);
    expect(settled).toBe(false);
    await clock.advance(1000);
    expect(settled).toBe(true);
    expect(await waiting).toMatchObject({ id: job.id, state: "succeeded" });
  });

  it("lists jobs newest first through the queue", async () => {
    const { queue, clock } = setup();
    const a = await queue.enqueue(REQUEST, { keyId: "k" });
    await clock.advance(1);
    const b = await queue.enqueue(REQUEST, { keyId: "k" });
    const page = await queue.list({ keyId: "k", limit: 1 });
    expect(page.jobs.map((j) => j.id)).toEqual([b.job.id]);
    const next = await queue.list({ keyId: "k", limit: 1, cursor: page.nextCursor ?? "" });
    expect(next.jobs.map((j) => j.id)).toEqual([a.job.id]);
  });
});
