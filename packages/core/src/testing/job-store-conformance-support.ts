import { createJob, type Job, type StoredImageRequest } from "../queue/job.js";
import type { JobStore, LeaseGuard } from "../queue/job-store.js";
import { storedImageRequest } from "./stored-image-request.js";

export const T0 = Date.UTC(2026, 10, 22, 12, 0, 0);
export const LEASE = 30_000;

export const REQUEST: StoredImageRequest = storedImageRequest({
  referenceImages: [{ key: "ref/abc.png", format: "png", width: 64, height: 64, bytes: 1234 }],
});

export function makeJob(overrides: Partial<Job> = {}): Job {
  return {
    ...createJob({
      request: REQUEST,
      requestHash: "hash-a",
      now: T0,
      maxAttempts: 3,
      attemptDeadlineMs: 360_000,
    }),
    ...overrides,
  };
}

export function guardOf(job: Job): LeaseGuard {
  const lease = job.lease;
  if (!lease) throw new Error(`job ${job.id} has no lease`);
  return { jobId: job.id, workerId: lease.workerId, attempt: lease.attempt };
}

/** Claims the next job at `now` with `LEASE`; throws when there is none. */
export async function claimNext(store: JobStore, workerId = "w1", now = T0): Promise<Job> {
  const claimed = await store.claim({ workerId, now, leaseMs: LEASE });
  if (!claimed) throw new Error("nothing to claim");
  return claimed.job;
}

/** The store of the running conformance test (a fresh one per test), and a claim on it. */
export interface StoreUnderTest {
  readonly store: JobStore;
  claimOne(workerId?: string, now?: number): Promise<Job>;
}
