// The real engine in a process of its own, for crash-recovery.test.ts (run with Bun): queue + runner +
// libSQL job store + file image store + the demo backend made slow, so a SIGKILL lands mid-job.
// Prompts containing "refuse" fail for good, to show a failure with its reason next to the successes.
import {
  CodexImgError,
  createDemoBackend,
  createFileImageStore,
  createJobQueue,
  createRunner,
  type ImageBackend,
} from "@codex-img/core";
import { createDb, createLibsqlJobStore } from "@codex-img/db";

const [url, imagesDir, workerId] = process.argv.slice(2);
if (!url || !imagesDir || !workerId) throw new Error("usage: engine-child.ts <url> <imagesDir> <workerId>");

const demo = createDemoBackend({ maxSide: 32 });
const slow: ImageBackend = {
  kind: "demo",
  async generate(request, options = {}) {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(resolve, 150 + Math.random() * 250);
      options.signal?.addEventListener("abort", () => {
        clearTimeout(timer);
        reject(options.signal?.reason);
      });
    });
    if (request.prompt.includes("refuse")) {
      throw new CodexImgError("upstream_refused", "The model declined to draw this.", { retryable: false });
    }
    return demo.generate(request, options);
  },
};

const database = await createDb({ url, migrate: false });
const queue = createJobQueue({
  store: createLibsqlJobStore(database),
  leaseMs: 500,
  maxQueueLength: 1000,
  backoff: { baseMs: 50, maxMs: 200 },
  pollIntervalMs: 50,
});
const runner = createRunner({
  queue,
  backend: slow,
  images: createFileImageStore({ dir: imagesDir }),
  concurrency: 4,
  pollIntervalMs: 20,
  recoverIntervalMs: 200,
  workerId,
});
runner.start();
process.stdout.write("ready\n");
process.on("SIGTERM", () => {
  runner.stop({ graceMs: 0 }).finally(() => process.exit(0));
});
