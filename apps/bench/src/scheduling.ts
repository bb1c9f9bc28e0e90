/**
 * Scheduling benchmark: 200 jobs over 4 simulated accounts with 2 slots each and a fixed upstream latency;
 * one account hits its usage limit after 10 images. Prints the makespan as a ratio to the ideal for the
 * capacity that was really available, and the number of failed jobs. Target: ratio <= 1.10, 0 failed.
 *
 *   bun run bench:scheduling [--jobs 200] [--latency-ms 100] [--limit-after 10]
 */
import { parseArgs } from "node:util";
import {
  type BackendResult,
  CodexImgError,
  createAccountPool,
  createJobQueue,
  createMemoryImageStore,
  createMemoryJobStore,
  createRunner,
  encodePng,
  enqueueImageJob,
  type ImageBackend,
  isTerminalJobState,
} from "@codex-img/core";

const { values } = parseArgs({
  options: {
    jobs: { type: "string", default: "200" },
    "latency-ms": { type: "string", default: "100" },
    "limit-after": { type: "string", default: "10" },
  },
});
const JOBS = Number(values.jobs);
const LATENCY_MS = Number(values["latency-ms"]);
const LIMIT_AFTER = Number(values["limit-after"]);
const ACCOUNTS = ["a", "b", "c", "d"];
const SLOTS = 2;
const LIMITED = "d";

let served = 0;
const servedBy = new Map<string, number>();

/** Every call takes LATENCY_MS; account `d` answers a usage limit once it has made LIMIT_AFTER images. */
const backend: ImageBackend = {
  kind: "codex-http",
  async generate(_request, options = {}): Promise<BackendResult> {
    const label = options.account?.label ?? "?";
    // Counted when a call starts, so exactly LIMIT_AFTER images get through even with both slots busy.
    const before = servedBy.get(label) ?? 0;
    if (label === LIMITED && before >= LIMIT_AFTER) {
      const resetsAt = Date.now() + 3_600_000;
      throw new CodexImgError("quota_exhausted", "The usage limit has been reached", {
        retryAfterMs: 3_600_000,
        details: { resetsAt, accountFault: true, account: label },
      });
    }
    servedBy.set(label, before + 1);
    await new Promise((resolve, reject) => {
      const timer = setTimeout(resolve, LATENCY_MS);
      options.signal?.addEventListener("abort", () => reject(options.signal?.reason), { once: true });
      void timer;
    });
    const seed = ++served;
    const rgba = new Uint8Array(8 * 8 * 4).map((_, i) => (i * seed) & 0xff);
    const bytes = await encodePng({ width: 8, height: 8, rgba });
    return {
      images: [{ bytes, format: "png", width: 8, height: 8 }],
      backend: "codex-http",
      route: "native",
      requested: { size: "auto", quality: "auto", n: 1 },
      delivered: {},
      upstreamIds: {},
    };
  },
};

const pool = createAccountPool({
  accounts: ACCOUNTS.map((label) => ({ label, maxConcurrency: SLOTS })),
  mode: "quota-aware",
});
const queue = createJobQueue({
  store: createMemoryJobStore(),
  maxQueueLength: JOBS,
  workerCount: 1,
  pollIntervalMs: 0,
});
const images = createMemoryImageStore();
const runner = createRunner({
  queue,
  backend,
  images,
  pool,
  concurrency: ACCOUNTS.length * SLOTS,
  pollIntervalMs: 5,
});

const ids: string[] = [];
for (let i = 0; i < JOBS; i++) {
  ids.push((await enqueueImageJob({ queue, images }, { prompt: `job ${i}` })).job.id);
}
const started = performance.now();
runner.start();
const jobs = await Promise.all(ids.map((id) => queue.waitForJob(id, { timeoutMs: 600_000 })));
const makespanMs = performance.now() - started;
await runner.stop({ graceMs: 0 });

const failed = jobs.filter((job) => job.state !== "succeeded").length;
const unfinished = jobs.filter((job) => !isTerminalJobState(job.state)).length;
// Ideal: the limited account's images made in parallel with the rest, the remaining work spread over
// the slots of the accounts that never hit a limit (a lower bound for any schedule).
const limitedImages = servedBy.get(LIMITED) ?? 0;
const healthySlots = (ACCOUNTS.length - 1) * SLOTS;
const idealMs = ((JOBS - limitedImages) * LATENCY_MS) / healthySlots;
const result = {
  benchmark: "scheduling",
  runtime: runtimeName(),
  jobs: JOBS,
  accounts: ACCOUNTS.length,
  slotsPerAccount: SLOTS,
  latencyMs: LATENCY_MS,
  limitAfter: LIMIT_AFTER,
  imagesPerAccount: Object.fromEntries([...servedBy.entries()].sort()),
  makespanMs: Math.round(makespanMs),
  idealMs: Math.round(idealMs),
  ratioToIdeal: Number((makespanMs / idealMs).toFixed(3)),
  failedJobs: failed,
  unfinishedJobs: unfinished,
  target: { ratioToIdeal: 1.1, failedJobs: 0 },
};
console.log(JSON.stringify(result, null, 2));
console.error(
  [
    "",
    "| jobs | accounts x slots | latency | makespan | ideal | ratio | failed |",
    "| --- | --- | --- | --- | --- | --- | --- |",
    `| ${JOBS} | ${ACCOUNTS.length} x ${SLOTS} | ${LATENCY_MS} ms | ${result.makespanMs} ms | ${result.idealMs} ms | ${result.ratioToIdeal} | ${failed} |`,
  ].join("\n"),
);
process.exit(failed === 0 && result.ratioToIdeal <= 1.1 ? 0 : 1);

function runtimeName(): string {
  const bun = (globalThis as { Bun?: { version: string } }).Bun;
  return bun ? `bun ${bun.version}` : `node ${process.version}`;
}
