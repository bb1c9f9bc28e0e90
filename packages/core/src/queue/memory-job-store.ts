import { CodexImgError } from "../errors.js";
import type { Job } from "./job.js";
import type { JobEvent, NewJobEvent } from "./job-events.js";
import type {
  InsertJobResult,
  JobPage,
  JobStore,
  LeaseGuard,
  ListJobsQuery,
  RecoveredJob,
  RenewedLease,
} from "./job-store.js";
import {
  cancelChanges,
  cancelTransition,
  claimTransition,
  compareClaimOrder,
  finishTransition,
  heartbeatTransition,
  holdsLease,
  isClaimable,
  isLeaseExpired,
  isOverdue,
  type JobTransition,
  overdueTransition,
  queuedEvent,
  recoverTransition,
  requeueTransition,
} from "./job-transitions.js";

interface MemoryRecord {
  job: Job;
  /** Insertion order: breaks ties of equal `createdAt`, as a SQL store's rowid does. */
  order: number;
  events: JobEvent[];
}

/**
 * A JobStore in process memory, for tests and library use. Each method does all its work before its first
 * `await`, so in a single-threaded runtime every method is atomic without locks. Records are cloned on the
 * way in and out.
 */
export function createMemoryJobStore(): JobStore {
  const records = new Map<string, MemoryRecord>();
  const idempotency = new Map<string, string>();
  let nextOrder = 0;

  const scopeKey = (keyId: string | undefined, key: string): string => `${keyId ?? ""}\n${key}`;

  const apply = (record: MemoryRecord, transition: JobTransition): Job => {
    record.job = transition.job;
    for (const event of transition.events) appendTo(record, event);
    return structuredClone(record.job);
  };

  const appendTo = (record: MemoryRecord, event: NewJobEvent): void => {
    record.events.push({
      ...structuredClone(event),
      jobId: record.job.id,
      seq: record.events.length + 1,
    } as JobEvent);
  };

  const leased = (guard: LeaseGuard): MemoryRecord | undefined => {
    const record = records.get(guard.jobId);
    return record && holdsLease(record.job, guard) ? record : undefined;
  };

  const countQueued = (): number => {
    let count = 0;
    for (const record of records.values()) if (record.job.state === "queued") count++;
    return count;
  };

  return {
    async insert(job, options = {}) {
      // Synchronous, so nothing interleaves between the checks and the insert below.
      const check = (): InsertJobResult | undefined => {
        if (job.idempotencyKey !== undefined) {
          const existingId = idempotency.get(scopeKey(job.keyId, job.idempotencyKey));
          const existing = existingId === undefined ? undefined : records.get(existingId);
          if (existing) {
            if (existing.job.requestHash !== job.requestHash) {
              throw new CodexImgError(
                "invalid_request",
                "This idempotency key was already used with a different request.",
                { details: { param: "idempotency_key" } },
              );
            }
            return { job: structuredClone(existing.job), created: false };
          }
        }
        if (records.has(job.id)) throw new CodexImgError("internal", `Job ${job.id} already exists.`);
        if (options.maxQueued !== undefined) {
          const queued = countQueued();
          if (queued >= options.maxQueued) {
            throw new CodexImgError("queue_full", "The queue is full.", {
              details: { queued, maxQueued: options.maxQueued },
            });
          }
        }
        return undefined;
      };
      const found = check();
      if (found) return found;
      if (options.admit) {
        // No transaction here: `admit` runs between two rounds of the checks (its own writes, if any,
        // are not undone when the second round refuses).
        await options.admit(undefined, structuredClone(job));
        const raced = check();
        if (raced) return raced;
      }
      const record: MemoryRecord = { job: structuredClone(job), order: nextOrder++, events: [] };
      records.set(job.id, record);
      if (job.idempotencyKey !== undefined) idempotency.set(scopeKey(job.keyId, job.idempotencyKey), job.id);
      appendTo(record, queuedEvent(job));
      return { job: structuredClone(record.job), created: true };
    },

    async get(id) {
      const record = records.get(id);
      return record ? structuredClone(record.job) : undefined;
    },

    async list(query: ListJobsQuery): Promise<JobPage> {
      const states = query.state === undefined ? undefined : ([] as string[]).concat(query.state);
      const after = decodeCursor(query.cursor);
      const matching = [...records.values()]
        .filter((r) => query.keyId === undefined || r.job.keyId === query.keyId)
        .filter((r) => states === undefined || states.includes(r.job.state))
        .sort((a, b) => b.job.createdAt - a.job.createdAt || b.order - a.order)
        .filter(
          (r) =>
            after === undefined ||
            r.job.createdAt < after.createdAt ||
            (r.job.createdAt === after.createdAt && r.order < after.order),
        );
      const limit = Math.max(1, Math.floor(query.limit));
      const page = matching.slice(0, limit);
      const last = page.at(-1);
      return {
        jobs: page.map((r) => structuredClone(r.job)),
        ...(matching.length > limit && last ? { nextCursor: `${last.job.createdAt}.${last.order}` } : {}),
      };
    },

    async countActive() {
      return countQueued();
    },

    async claim(options) {
      let best: MemoryRecord | undefined;
      for (const record of records.values()) {
        if (!isClaimable(record.job, options.now)) continue;
        if (!best || (compareClaimOrder(record.job, best.job) || record.order - best.order) < 0)
          best = record;
      }
      if (!best) return undefined;
      const job = apply(best, claimTransition(best.job, options));
      return { job, lastSeq: best.events.length };
    },

    async renewLeases(guards, now, leaseMs) {
      const renewed: RenewedLease[] = [];
      for (const guard of guards) {
        const record = leased(guard);
        if (!record) continue;
        record.job = heartbeatTransition(record.job, now, leaseMs);
        renewed.push({ jobId: record.job.id, cancelRequested: record.job.cancelRequested === true });
      }
      return renewed;
    },

    async finish(guard, outcome) {
      const record = leased(guard);
      return record ? apply(record, finishTransition(record.job, outcome)) : undefined;
    },

    async requeue(guard, retry) {
      const record = leased(guard);
      return record ? apply(record, requeueTransition(record.job, retry)) : undefined;
    },

    async requestCancel(id, now, options = {}) {
      const record = records.get(id);
      if (!record) return undefined;
      const transition = cancelTransition(record.job, now);
      // No transaction here (as for `admit`): the release runs just before the change is applied.
      if (options.release && cancelChanges(record.job, transition)) {
        await options.release(undefined, structuredClone(transition.job));
      }
      return apply(record, transition);
    },

    async recoverExpiredLeases(now, options = {}) {
      const changed: RecoveredJob[] = [];
      for (const record of records.values()) {
        if (!isLeaseExpired(record.job, now)) continue;
        const { outcome, ...transition } = recoverTransition(record.job, now, options.retryDelayMs);
        changed.push({ job: apply(record, transition), outcome });
      }
      return changed;
    },

    async failOverdue(now) {
      const changed: Job[] = [];
      for (const record of records.values()) {
        if (record.job.state !== "queued" || !isOverdue(record.job, now)) continue;
        changed.push(apply(record, overdueTransition(record.job, now)));
      }
      return changed;
    },

    async readEvents(jobId, afterSeq = 0, limit) {
      const events = records.get(jobId)?.events.filter((e) => e.seq > afterSeq) ?? [];
      return structuredClone(limit === undefined ? events : events.slice(0, limit));
    },

    async delete(id) {
      const record = records.get(id);
      if (!record) return false;
      records.delete(id);
      const { keyId, idempotencyKey } = record.job;
      if (idempotencyKey !== undefined && idempotency.get(scopeKey(keyId, idempotencyKey)) === id) {
        idempotency.delete(scopeKey(keyId, idempotencyKey));
      }
      return true;
    },
  };
}

function decodeCursor(cursor: string | undefined): { createdAt: number; order: number } | undefined {
  if (cursor === undefined) return undefined;
  const [createdAt, order] = cursor.split(".").map(Number);
  if (!Number.isFinite(createdAt) || !Number.isFinite(order)) {
    throw new CodexImgError("invalid_request", "Unknown cursor.", { details: { param: "cursor" } });
  }
  return { createdAt: createdAt as number, order: order as number };
}
