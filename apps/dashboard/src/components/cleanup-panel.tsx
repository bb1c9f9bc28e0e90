"use client";

import { useMutation } from "@tanstack/react-query";
import type { CleanupReport } from "@/lib/api-types";
import { formatBytes, formatCount } from "@/lib/format-number";
import { queryKeys } from "@/lib/query-keys";
import { trpc } from "@/lib/trpc-client";
import { useInvalidate } from "@/lib/use-invalidate";
import { ErrorBanner } from "./error-banner";
import { MutationButton } from "./mutation-button";
import { panelClass } from "./ui-classes";

function describeCleanup(report: CleanupReport): string {
  return (
    `Expired ${formatCount(report.expiredJobs)} jobs, deleted ${formatCount(report.deletedFiles)} files, ` +
    `freed ${formatBytes(report.freedBytes)}, swept ${formatCount(report.sweptCounters)} counters and ` +
    `${formatCount(report.sweptSessions)} sessions, removed ${formatCount(report.temporaryFiles)} temporary ` +
    `files and ${formatCount(report.orphanFiles)} orphan files holding ${formatBytes(report.orphanBytes)} ` +
    `(retention ${report.retentionDays} days).`
  );
}

/** The retention sweep on demand, instead of waiting for its interval. */
export function CleanupPanel() {
  const invalidate = useInvalidate();
  const cleanup = useMutation({
    mutationFn: () => trpc().maintenance.cleanup.mutate(),
    onSettled: () => invalidate(queryKeys.jobs.all, queryKeys.overview, queryKeys.auditAll),
  });

  return (
    <section aria-labelledby="cleanup-heading" className={`${panelClass} space-y-3`}>
      <h2 id="cleanup-heading" className="font-semibold">
        Cleanup
      </h2>
      <p className="text-sm text-zinc-600 dark:text-zinc-400">
        Deletes images of jobs past the retention, expired counters and sessions, leftover temporary files,
        and image files older than a day that no job refers to.
      </p>
      <MutationButton mutation={cleanup}>
        {cleanup.isPending ? "Cleaning up…" : "Run cleanup now"}
      </MutationButton>
      <ErrorBanner error={cleanup.error} title="Cleanup failed" />
      {cleanup.data ? (
        <p data-testid="cleanup-result" role="status" className="text-sm">
          {describeCleanup(cleanup.data)}
        </p>
      ) : null}
    </section>
  );
}
