// A worker process for two-process-claim.test.ts, run with Bun: claims from the shared file as fast as it
// can and finishes each job at once. Prints `ready`, waits for `go` on stdin (so both processes really
// race), then prints one JSON line with what it claimed and any error that escaped the store.
import { createDb, createLibsqlJobStore } from "@codex-img/db";

const [url, workerId] = process.argv.slice(2);
if (!url || !workerId) throw new Error("usage: claim-child.ts <url> <workerId>");

const database = await createDb({ url, migrate: false });
// Short delays: two processes hammering one lock should both keep trying, not back off for long.
const store = createLibsqlJobStore(database, { busy: { maxWaitMs: 20_000, maxDelayMs: 10 } });
process.stdout.write("ready\n");
await new Promise<void>((resolve) => process.stdin.once("data", () => resolve()));

const claimed: string[] = [];
const errors: string[] = [];
let empty = 0;
while (empty < 3) {
  try {
    const job = (await store.claim({ workerId, now: Date.now(), leaseMs: 60_000 }))?.job;
    if (!job?.lease) {
      empty++;
      continue;
    }
    empty = 0;
    claimed.push(job.id);
    const guard = { jobId: job.id, workerId, attempt: job.lease.attempt };
    // A lease renewal: one more write transaction racing the other process's claims.
    await store.renewLeases([guard], Date.now(), 60_000);
    // The "work": a moment without the lock, as a real job has, so the other process gets its turns.
    await new Promise((resolve) => setTimeout(resolve, 1));
    const now = Date.now();
    const progress = {
      type: "progress" as const,
      at: now,
      attempt: guard.attempt,
      stage: "generating" as const,
    };
    const done = await store.finish(guard, { state: "succeeded", now, images: [], events: [progress] });
    if (!done) errors.push(`lost the lease of ${job.id}`);
  } catch (error) {
    errors.push(error instanceof Error ? `${error.name}: ${error.message}` : String(error));
    if (errors.length > 20) break;
  }
}
process.stdout.write(`${JSON.stringify({ workerId, claimed, errors })}\n`);
database.close();
process.exit(0);
