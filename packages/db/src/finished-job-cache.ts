import { copyJson, frozenCopyJson, isTerminalJobState, type Job } from "@codex-img/core";
import type { Client } from "@libsql/client";

/** Finished jobs kept in memory per database connection; past this many, the least recently read goes. */
export const FINISHED_JOB_CACHE_SIZE = 2_000;
/**
 * How long a finished job is served from memory before the database is read again. Writes through this
 * process (delete, retention's `expired`) clear it at once; this is how late another instance's delete
 * or expiry of a finished job can show here.
 */
export const FINISHED_JOB_CACHE_MS = 2_000;

export interface FinishedJobCache {
  /** A copy of the cached job, or undefined when it is not cached or its time is up. */
  get(id: string, now: number): Job | undefined;
  /**
   * The cached job itself, frozen and shared (no copy), or undefined as for `get`. The same object until
   * the entry is replaced, dropped or its time is up.
   */
  peek(id: string, now: number): Readonly<Job> | undefined;
  /** Counts invalidations: pass its value from before a read to `remember`. */
  readonly version: number;
  /**
   * Keeps `job` if it is finished (running jobs change with every transition) and nothing was
   * invalidated since `version` was read before the job was (a delete racing the read must win).
   */
  remember(job: Job, now: number, version: number): void;
  forget(id: string): void;
  /** Drops everything (after a write that may change many finished jobs). */
  clear(): void;
}

/**
 * One cache per client, shared by every store and helper on that connection, so that retention and
 * deletion, which write jobs outside the job store, invalidate what the job store serves. Keyed weakly so
 * a closed client's cache goes with it.
 */
const caches = new WeakMap<Client, FinishedJobCache>();

export function finishedJobCache(client: Client): FinishedJobCache {
  let cache = caches.get(client);
  if (!cache) {
    cache = createFinishedJobCache();
    caches.set(client, cache);
  }
  return cache;
}

function createFinishedJobCache(): FinishedJobCache {
  const entries = new Map<string, { job: Job; until: number }>();
  let version = 0;
  const peek = (id: string, now: number): Job | undefined => {
    const entry = entries.get(id);
    if (!entry) return undefined;
    entries.delete(id);
    if (entry.until <= now) return undefined;
    // Map order is insertion order: re-inserting marks it as the most recently read.
    entries.set(id, entry);
    return entry.job;
  };
  return {
    get version() {
      return version;
    },
    get(id, now) {
      const job = peek(id, now);
      return job && copyJson(job);
    },
    peek,
    remember(job, now, readVersion) {
      if (!isTerminalJobState(job.state) || readVersion !== version) return;
      entries.delete(job.id);
      // Frozen: `peek` hands this very object to every reader.
      entries.set(job.id, { job: frozenCopyJson(job), until: now + FINISHED_JOB_CACHE_MS });
      if (entries.size > FINISHED_JOB_CACHE_SIZE) {
        const oldest = entries.keys().next().value;
        if (oldest !== undefined) entries.delete(oldest);
      }
    },
    forget(id) {
      version++;
      entries.delete(id);
    },
    clear() {
      version++;
      entries.clear();
    },
  };
}
