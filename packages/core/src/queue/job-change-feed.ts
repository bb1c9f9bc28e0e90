import type { Clock } from "../clock.js";
import type { JobState } from "./job.js";

/**
 * A wake-up for one job: resolves on the next local change, poll tick or abort, whichever comes first;
 * with the state this process just gave the job when the wake is a local change that says so, otherwise
 * undefined (read the store to know).
 */
export interface JobChangeWaiter {
  promise: Promise<JobState | undefined>;
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
  /** `state`: the job's state after the change, when the notifier knows it (lets a waiter skip a read). */
  notify(jobId: string, state?: JobState): void;
  /** Register before reading the store, then await, so a change between the read and the wait is not lost. */
  waiter(jobId: string, signal?: AbortSignal, pollMs?: number): JobChangeWaiter;
}

export function createJobChangeFeed(clock: Clock, pollIntervalMs: number): JobChangeFeed {
  const listeners = new Map<string, Set<(state?: JobState) => void>>();
  return {
    notify(jobId, state) {
      for (const wake of [...(listeners.get(jobId) ?? []), ...(listeners.get(ANY_JOB) ?? [])]) wake(state);
    },
    waiter(jobId, signal, pollMs = pollIntervalMs) {
      let wake: (state?: JobState) => void = () => {};
      const promise = new Promise<JobState | undefined>((resolve) => {
        wake = resolve;
      });
      // Poll ticks and aborts carry no state: the waiter reads the store.
      const wakeUnknown = (): void => wake();
      const set = listeners.get(jobId) ?? new Set();
      listeners.set(jobId, set);
      set.add(wake);
      const cancelPoll = pollMs > 0 ? clock.setTimeout(wakeUnknown, pollMs) : () => {};
      signal?.addEventListener("abort", wakeUnknown, { once: true });
      const cancel = (): void => {
        cancelPoll();
        signal?.removeEventListener("abort", wakeUnknown);
        const current = listeners.get(jobId);
        current?.delete(wake);
        if (current?.size === 0) listeners.delete(jobId);
      };
      return { promise, cancel };
    },
  };
}
