import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  type AccountPool,
  type BackendResult,
  CodexImgError,
  createAccountPool,
  createCodexCliBackend,
  createDemoBackend,
  createJobQueue,
  createMemoryImageStore,
  createMemoryJobStore,
  createRunner,
  enqueueImageJob,
  type GenerateOptions,
  type ImageBackend,
  type ImageRequest,
  type ImageStore,
  type JobEvent,
  type JobQueue,
  sniffImage,
} from "@codex-img/core";
import {
  createCodexHome,
  FAKE_CODEX_PATH,
  ManualClock,
  readFakeCodexRuns,
  startFakeCodexBackend,
  testImage,
  testPng,
  writeFakeCodexScenario,
} from "@codex-img/core/testing";
import { describe, expect, it } from "vitest";

type Script = (request: ImageRequest, options: GenerateOptions, call: number) => Promise<BackendResult>;

/** A backend whose every call is decided by the test, and which records who called it. */
function scriptedBackend(script: Script): ImageBackend & { calls: Array<{ account?: string; at: number }> } {
  const calls: Array<{ account?: string; at: number }> = [];
  return {
    kind: "codex-http",
    calls,
    async generate(request, options = {}) {
      calls.push({ ...(options.account ? { account: options.account.label } : {}), at: calls.length });
      return script(request, options, calls.length);
    },
  };
}

async function imageResult(seed: number): Promise<BackendResult> {
  const bytes = await testPng(32, 32, seed);
  return {
    images: [{ bytes, format: "png", width: 32, height: 32 }],
    backend: "codex-http",
    route: "native",
    requested: { size: "auto", quality: "auto", n: 1 },
    delivered: {},
    upstreamIds: { imagegen_request_id: `req-${seed}` },
  };
}

function pool(clock: ManualClock, labels: string[], maxConcurrency = 1): AccountPool {
  return createAccountPool({
    accounts: labels.map((label) => ({ label, maxConcurrency })),
    mode: "primary-first",
    clock,
  });
}

function setup(backend: ImageBackend, accounts?: AccountPool, clock = new ManualClock()) {
  const queue = createJobQueue({
    store: createMemoryJobStore(),
    clock,
    heartbeatIntervalMs: 0,
    pollIntervalMs: 0,
  });
  const images = createMemoryImageStore({ clock });
  const runner = createRunner({ queue, backend, images, clock, ...(accounts ? { pool: accounts } : {}) });
  return { queue, images, runner, clock };
}

async function events(queue: JobQueue, jobId: string): Promise<JobEvent[]> {
  const seen: JobEvent[] = [];
  for await (const event of queue.subscribe(jobId)) seen.push(event);
  return seen;
}

async function storedKeys(images: ImageStore): Promise<string[]> {
  const keys: string[] = [];
  for await (const object of images.list()) keys.push(object.key);
  return keys;
}

describe("runner", () => {
  it("runs a job end to end: references kept as keys, images stored, events in order", async () => {
    const { queue, images, runner } = setup(createDemoBackend());
    const reference = await testImage("jpeg", 40, 30);
    const { job } = await enqueueImageJob(
      { queue, images },
      { prompt: "a fox", size: "512x256", n: 2, referenceImages: [{ bytes: reference }] },
    );
    expect(job.request.referenceImages[0]).toMatchObject({ format: "jpeg", width: 40, height: 30 });
    const done = await runner.runOnce();
    expect(done).toMatchObject({ state: "succeeded" });
    expect(done?.images).toHaveLength(2);
    for (const image of done?.images ?? []) {
      expect(sniffImage((await images.get(image.key)) ?? new Uint8Array())).toEqual({
        format: "png",
        width: 512,
        height: 256,
      });
    }
    expect(done?.attempts[0]).toMatchObject({ backend: "demo", route: "demo" });
    const types = (await events(queue, job.id)).map((e) => e.type);
    expect(types[0]).toBe("queued");
    expect(types[1]).toBe("started");
    expect(types.at(-1)).toBe("succeeded");
    expect(types).toContain("progress");
  });

  it("lets jobs with large references wait for the reference budget instead of loading all at once", async () => {
    const reference = await testImage("png", 64, 64, 7);
    let running = 0;
    let mostAtOnce = 0;
    const backend = scriptedBackend(async (_request, _options, call) => {
      running += 1;
      mostAtOnce = Math.max(mostAtOnce, running);
      await new Promise((resolve) => setTimeout(resolve, 20));
      running -= 1;
      return imageResult(call);
    });
    const clock = new ManualClock();
    const queue = createJobQueue({
      store: createMemoryJobStore(),
      clock,
      heartbeatIntervalMs: 0,
      pollIntervalMs: 0,
    });
    const images = createMemoryImageStore({ clock });
    // Room for one job's references (two of them), not for two jobs'.
    const runner = createRunner({
      queue,
      backend,
      images,
      clock,
      referenceBudgetBytes: reference.length * 3,
    });
    const edit = { prompt: "edit", referenceImages: [{ bytes: reference }, { bytes: reference }] };
    await enqueueImageJob({ queue, images }, edit);
    await enqueueImageJob({ queue, images }, edit);
    await enqueueImageJob({ queue, images }, { prompt: "no references" });
    const done = await Promise.all([runner.runOnce(), runner.runOnce(), runner.runOnce()]);
    expect(done.map((job) => job?.state)).toEqual(["succeeded", "succeeded", "succeeded"]);
    // The two edits ran one after the other; the job without references never waited.
    expect(mostAtOnce).toBe(2);
    expect(backend.calls).toHaveLength(3);
  });

  it("retries an account's failure on another account, and that account cools down", async () => {
    const clock = new ManualClock();
    const accounts = pool(clock, ["a", "b"]);
    const resetsAt = clock.now() + 3_600_000;
    const backend = scriptedBackend(async (_request, options, call) => {
      if (options.account?.label === "a") {
        throw new CodexImgError("quota_exhausted", "The usage limit has been reached", {
          retryAfterMs: 3_600_000,
          details: { resetsAt, accountFault: true, account: "a" },
        });
      }
      return imageResult(call);
    });
    const { queue, images, runner } = setup(backend, accounts, clock);
    const { job } = await enqueueImageJob({ queue, images }, { prompt: "a fox" });

    const first = await runner.runOnce();
    expect(first).toMatchObject({ state: "queued" });
    expect(first?.attempts[0]).toMatchObject({ account: "a", error: { code: "quota_exhausted" } });
    expect(accounts.snapshot().find((a) => a.label === "a")).toMatchObject({
      state: "cooling_down",
      cooldownUntil: resetsAt,
    });

    await clock.advance(60_000); // past the backoff
    const second = await runner.runOnce();
    expect(second).toMatchObject({ state: "succeeded" });
    expect(second?.attempts.map((a) => a.account)).toEqual(["a", "b"]);
    expect(backend.calls.map((c) => c.account)).toEqual(["a", "b"]);
    const failed = (await events(queue, job.id)).find((e) => e.type === "attempt_failed");
    expect(failed).toMatchObject({ willRetry: true, error: { code: "quota_exhausted" } });
  });

  it("moves the retry of a 5xx to another account even before the first one cools down", async () => {
    const clock = new ManualClock();
    const accounts = pool(clock, ["a", "b"]);
    const backend = scriptedBackend(async (_request, options, call) => {
      if (options.account?.label === "a") {
        throw new CodexImgError("upstream_failed", "upstream 502", {
          details: { upstreamStatus: 502, accountFault: true },
        });
      }
      return imageResult(200 + call);
    });
    const { queue, images, runner } = setup(backend, accounts, clock);
    await enqueueImageJob({ queue, images }, { prompt: "a fox" });
    await runner.runOnce();
    expect(accounts.snapshot().find((a) => a.label === "a")?.state).toBe("available"); // one failure: no cooldown yet
    await clock.advance(60_000);
    const done = await runner.runOnce();
    expect(done).toMatchObject({ state: "succeeded" });
    expect(backend.calls.map((c) => c.account)).toEqual(["a", "b"]);
  });

  it("never retries an error of the request", async () => {
    const clock = new ManualClock();
    const backend = scriptedBackend(async () => {
      throw new CodexImgError("upstream_refused", "Your request was rejected by the safety system.", {
        details: { accountFault: false },
      });
    });
    const { queue, images, runner } = setup(backend, pool(clock, ["a", "b"]), clock);
    await enqueueImageJob({ queue, images }, { prompt: "something refused" });
    const done = await runner.runOnce();
    expect(done).toMatchObject({ state: "failed", error: { code: "upstream_refused" } });
    expect(done?.attempts).toHaveLength(1);
    expect(backend.calls).toHaveLength(1);
  });

  it("rejects a stale result (another job's exact bytes) and runs the job again", async () => {
    const clock = new ManualClock();
    let call = 0;
    const backend = scriptedBackend(async () => imageResult(++call <= 2 ? 7 : call)); // calls 1 and 2: same bytes
    const { queue, images, runner } = setup(backend, pool(clock, ["a", "b"]), clock);
    const one = await enqueueImageJob({ queue, images }, { prompt: "first" });
    const two = await enqueueImageJob({ queue, images }, { prompt: "second" });
    expect(await runner.runOnce()).toMatchObject({ id: one.job.id, state: "succeeded" });
    const retried = await runner.runOnce();
    expect(retried).toMatchObject({ id: two.job.id, state: "queued" });
    expect(retried?.attempts[0]?.error).toMatchObject({ code: "upstream_failed", details: { stale: true } });
    await clock.advance(60_000);
    const done = await runner.runOnce();
    expect(done).toMatchObject({ id: two.job.id, state: "succeeded" });
    // The rejected copy was not kept: only the two real results are stored.
    expect((await storedKeys(images)).filter((k) => k.startsWith("img_"))).toHaveLength(2);
  });

  it("makes n images as parallel calls on different accounts", async () => {
    const clock = new ManualClock();
    let running = 0;
    let peak = 0;
    const backend = scriptedBackend(async (_request, _options, call) => {
      running++;
      peak = Math.max(peak, running);
      await new Promise((resolve) => setTimeout(resolve, 20));
      running--;
      return imageResult(100 + call);
    });
    const { queue, images, runner } = setup(backend, pool(clock, ["a", "b", "c"]), clock);
    await enqueueImageJob({ queue, images }, { prompt: "three foxes", n: 3 });
    const done = await runner.runOnce();
    expect(done).toMatchObject({ state: "succeeded" });
    expect(done?.images).toHaveLength(3);
    expect(peak).toBe(3);
    expect(new Set(backend.calls.map((c) => c.account))).toEqual(new Set(["a", "b", "c"]));
    expect(done?.attempts[0]?.account?.split(",").sort()).toEqual(["a", "b", "c"]);
  });

  it("fails with no_account_available and the earliest reset when every account is cooling down", async () => {
    const clock = new ManualClock();
    const accounts = pool(clock, ["a"]);
    const resetsAt = clock.now() + 2 * 3_600_000;
    const lease = await accounts.acquire();
    lease.release({
      ok: false,
      error: new CodexImgError("quota_exhausted", "limit", { details: { resetsAt, accountFault: true } }),
    });
    const { queue, images, runner } = setup(
      scriptedBackend(() => imageResult(1)),
      accounts,
      clock,
    );
    await enqueueImageJob({ queue, images }, { prompt: "a fox" });
    const done = await runner.runOnce();
    // The reset is past the job's total deadline, so waiting for it would be pointless.
    expect(done).toMatchObject({
      state: "failed",
      error: { code: "no_account_available", retryAfterMs: 2 * 3_600_000 },
    });
  });

  it("waits for an account that is only briefly cooling down instead of spending an attempt", async () => {
    const clock = new ManualClock();
    const accounts = pool(clock, ["a"]);
    const lease = await accounts.acquire();
    lease.release({
      ok: false,
      error: new CodexImgError("rate_limited", "slow down", { retryAfterMs: 5_000 }),
    });
    const backend = scriptedBackend(async (_request, _options, call) => imageResult(300 + call));
    const { queue, images, runner } = setup(backend, accounts, clock);
    await enqueueImageJob({ queue, images }, { prompt: "a fox" });
    const running = runner.runOnce();
    while (clock.pendingTimers === 0) await new Promise((resolve) => setTimeout(resolve, 1));
    expect(backend.calls).toHaveLength(0);
    await clock.advance(5_000);
    const done = await running;
    expect(done).toMatchObject({ state: "succeeded" });
    expect(done?.attempts).toHaveLength(1);
  });

  it("deletes the references of a refused or repeated request", async () => {
    const { queue, images } = setup(createDemoBackend());
    const reference = { bytes: await testImage("png", 16, 16) };
    const first = await enqueueImageJob(
      { queue, images },
      { prompt: "a", referenceImages: [reference] },
      { idempotencyKey: "k1" },
    );
    const again = await enqueueImageJob(
      { queue, images },
      { prompt: "a", referenceImages: [reference] },
      { idempotencyKey: "k1" },
    );
    expect(again).toMatchObject({ created: false, job: { id: first.job.id } });
    await expect(
      enqueueImageJob(
        { queue, images },
        { prompt: "b", referenceImages: [reference] },
        { idempotencyKey: "k1" },
      ),
    ).rejects.toMatchObject({ code: "invalid_request" });
    await expect(enqueueImageJob({ queue, images }, { prompt: "" })).rejects.toMatchObject({
      code: "invalid_request",
    });
    expect(await storedKeys(images)).toEqual([first.job.request.referenceImages[0]?.key]);
  });

  it("cancels a running job: the codex CLI process is really gone and the job ends canceled", async () => {
    const fake = await startFakeCodexBackend();
    const login = await createCodexHome();
    const workRoot = await mkdtemp(join(tmpdir(), "codex-img-runner-"));
    try {
      await writeFakeCodexScenario(login.home, { hang: true });
      const clock = new ManualClock();
      const accounts = createAccountPool({
        accounts: [{ label: "cli", codexHome: login.home, maxConcurrency: 1 }],
        clock,
      });
      const backend = createCodexCliBackend({
        codexPath: FAKE_CODEX_PATH,
        workRoot,
        killGraceMs: 2_000,
        config: { openai_base_url: fake.baseUrl },
      });
      const { queue, images, runner } = setup(backend, accounts, clock);
      const { job } = await enqueueImageJob({ queue, images }, { prompt: "a fox" });
      const running = runner.runOnce();
      let started: { pid: number } | undefined;
      for (let i = 0; i < 400 && !started; i++) {
        started = (await readFakeCodexRuns(login.home)).find((r) => r.event === "started");
        if (!started) await new Promise((resolve) => setTimeout(resolve, 25));
      }
      expect(started?.pid).toBeTypeOf("number");
      expect(() => process.kill(started?.pid ?? 0, 0)).not.toThrow();

      await queue.cancel(job.id);
      expect(await running).toMatchObject({ state: "canceled" });
      expect(() => process.kill(started?.pid ?? 0, 0)).toThrow();
      expect(accounts.snapshot()[0]).toMatchObject({ state: "available", active: 0 });
    } finally {
      await fake.close();
      await login.cleanup();
      await rm(workRoot, { recursive: true, force: true });
    }
  });

  it("stops gracefully: claims nothing more, and interrupts what outlives the grace so it runs again", async () => {
    const clock = new ManualClock();
    const backend = scriptedBackend(
      (_request, options) =>
        new Promise((_resolve, reject) => {
          options.signal?.addEventListener("abort", () => reject(options.signal?.reason), { once: true });
        }),
    );
    const { queue, images, runner } = setup(backend, undefined, clock);
    const { job } = await enqueueImageJob({ queue, images }, { prompt: "slow" });
    const running = runner.runOnce();
    while (backend.calls.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    const stopping = runner.stop({ graceMs: 1_000 });
    await clock.advance(1_000);
    await stopping;
    expect(await running).toMatchObject({ state: "queued" });
    const after = await queue.get(job.id);
    expect(after?.attempts[0]?.error).toMatchObject({ code: "interrupted" });
  });
});
