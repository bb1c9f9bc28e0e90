import type { ApiServices, CleanupReport } from "@codex-img/api";
import type { Clock, Logger } from "@codex-img/core";
import { expireJobs, sweepOrphanFiles } from "@codex-img/db";

const DAY_MS = 24 * 3_600_000;

/**
 * One retention pass: finished jobs older than the retention lose their images (the row stays as history,
 * state `expired`), expired counters, sessions and leftover temporary files go away, and so do image
 * files older than a day that no job refers to (`sweepOrphanFiles`; after expiry, so a file expiry failed
 * to delete goes in the same pass). The retention is read from the settings each time, so a change from
 * the dashboard applies to the next pass.
 */
export async function runRetentionSweep(services: ApiServices, clock: Clock): Promise<CleanupReport> {
  const now = clock.now();
  const retentionDays = await services.settings.get("retentionDays");
  const jobs = await expireJobs(services.database, services.images, {
    before: now - retentionDays * DAY_MS,
    now,
  });
  const orphans = await sweepOrphanFiles(services.database, services.images, { now });
  const images = services.images as { sweepTemporaryFiles?: () => Promise<number> };
  return {
    expiredJobs: jobs.expired,
    deletedFiles: jobs.deletedFiles,
    freedBytes: jobs.freedBytes,
    sweptCounters: await services.counters.sweepExpired(now),
    sweptSessions: await services.sessions.sweep(now),
    temporaryFiles: (await images.sweepTemporaryFiles?.()) ?? 0,
    orphanFiles: orphans.files,
    orphanBytes: orphans.bytes,
    retentionDays,
  };
}

/**
 * Runs the sweep now and then every `cleanupIntervalHours` (read from the settings after each pass);
 * returns a function that stops it.
 */
export function scheduleRetentionSweep(
  services: ApiServices,
  options: { clock: Clock; logger: Logger },
): () => void {
  let cancel: (() => void) | undefined;
  let stopped = false;
  const tick = async (): Promise<void> => {
    let intervalHours = 1;
    try {
      const report = await runRetentionSweep(services, options.clock);
      options.logger.info("retention sweep", { ...report });
      intervalHours = await services.settings.get("cleanupIntervalHours");
    } catch (error) {
      options.logger.error("retention sweep failed", { error });
    }
    if (!stopped) cancel = options.clock.setTimeout(() => void tick(), intervalHours * 3_600_000);
  };
  void tick();
  return () => {
    stopped = true;
    cancel?.();
  };
}
