import type { Clock, Logger } from "@codex-img/core";
import { expireJobs } from "@codex-img/db";
import type { ComposedServices } from "./compose-services.js";

export interface RetentionSweepReport {
  expiredJobs: number;
  deletedFiles: number;
  sweptCounters: number;
  sweptSessions: number;
  temporaryFiles: number;
}

/**
 * One retention pass: finished jobs older than the retention lose their images (the row stays as history,
 * state `expired`), and expired counters, sessions and leftover temporary files go away.
 */
export async function runRetentionSweep(
  composed: ComposedServices,
  options: { retentionMs: number; clock: Clock },
): Promise<RetentionSweepReport> {
  const { services } = composed;
  const now = options.clock.now();
  const jobs = await expireJobs(services.database, services.images, {
    before: now - options.retentionMs,
    now,
  });
  const images = services.images as { sweepTemporaryFiles?: () => Promise<number> };
  return {
    expiredJobs: jobs.expired,
    deletedFiles: jobs.deletedFiles,
    sweptCounters: await services.counters.sweepExpired(now),
    sweptSessions: await services.sessions.sweep(now),
    temporaryFiles: (await images.sweepTemporaryFiles?.()) ?? 0,
  };
}

/** Runs the sweep now and then every `intervalMs`; returns a function that stops it. */
export function scheduleRetentionSweep(
  composed: ComposedServices,
  options: { retentionMs: number; intervalMs: number; clock: Clock; logger: Logger },
): () => void {
  let cancel: (() => void) | undefined;
  let stopped = false;
  const tick = async (): Promise<void> => {
    try {
      const report = await runRetentionSweep(composed, options);
      options.logger.info("retention sweep", { ...report });
    } catch (error) {
      options.logger.error("retention sweep failed", { error });
    }
    if (!stopped) cancel = options.clock.setTimeout(() => void tick(), options.intervalMs);
  };
  void tick();
  return () => {
    stopped = true;
    cancel?.();
  };
}
