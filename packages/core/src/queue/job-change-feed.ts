import type { Clock } from "../clock.js";

/** A wake-up for one job: resolves on the next local change, poll tick or abort, whichever comes first. */
export interface JobChangeWaiter {
  promise: Promise<void>;
  /** Releases the listener and timer; call when done waiting. */
  cancel(): void;
}

/**
 * In-process change notification per job, so followers wake at once when this process changes a job. The
 * store stays the source of truth: a wake-up only means "read again". Changes made by other processes are
 * picked up by polling every `pollIntervalMs` (0 turns polling off).
 */
/** `waiter(ANY_JOB)` wakes on a change to any job. */
export const ANY_JOB = "\u0000any";

export interface JobChangeFeed {
  notify(jobId: string): void;
  /** Register before reading the store, then await, so a change between the read and the wait is not lost. */
  waiter(jobId: string, signal?: AbortSignal, pollMs?: number): JobChangeWaiter;
}

export function createJobChangeFeed(clock: Clock, pollIntervalMs: number): JobChangeFeed {
  const listeners = new Map<string, Set<() => void>>();
  return {
    notify(jobId) {
      for (const wake of [...(listeners.get(jobId) ?? []), ...(listeners.get(ANY_JOB) ?? [])]) wake();
    },
    waiter(jobId, signal, pollMs = pollIntervalMs) {
      let wake = (): void => {};
      const promise = new Promise<void>((resolve) => {
        wake = resolve;
      });
      const set = listeners.get(jobId) ?? new Set();
      listeners.set(jobId, set);
      set.add(wake);
      const cancelPoll = pollMs > 0 ? clock.setTimeout(wake, pollMs) : () => {};
      signal?.addEventListener("abort", wake, { once: true });
      const cancel = (): void => {
        cancelPoll();
        signal?.removeEventListener("abort", wake);
        const current = listeners.get(jobId);
        current?.delete(wake);
        if (current?.size === 0) listeners.delete(jobId);
      };
      return { promise, cancel };
    },
  };
}
