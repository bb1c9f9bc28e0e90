"use client";

import { useMutation } from "@tanstack/react-query";
import Image from "next/image";
import Link from "next/link";
import { useEffect, useMemo } from "react";
import type { JobState } from "@/lib/api-types";
import { formatTime } from "@/lib/format-time";
import { applyJobEvent, initialLiveJob } from "@/lib/live-job";
import { queryKeys } from "@/lib/query-keys";
import { trpc } from "@/lib/trpc-client";
import { useInvalidate } from "@/lib/use-invalidate";
import { useJobEvents } from "@/lib/use-job-events";
import { ErrorBanner } from "./error-banner";
import { jobHref } from "./history-table";
import { MutationButton } from "./mutation-button";
import { isFinished, StateBadge } from "./state-badge";
import { linkClass, panelClass } from "./ui-classes";

/** A job the playground started, followed live: state, stages, partial images, then the results. */
export function JobLiveView({ job }: { job: { id: string; state: JobState } }) {
  const invalidate = useInvalidate();
  const stream = useJobEvents(job.id);
  const live = useMemo(
    () => stream.events.reduce(applyJobEvent, initialLiveJob(job.state)),
    [stream.events, job.state],
  );
  const cancel = useMutation({
    mutationFn: () => trpc().jobs.cancel.mutate({ id: job.id }),
    // The rest refreshes once the stream reports the job canceled (below); the audit entry is new now.
    onSettled: () => invalidate(queryKeys.auditAll),
  });
  const finished = isFinished(live.state);

  useEffect(() => {
    // History, key usage and account counters changed once the job ended.
    if (!finished) return;
    void invalidate(queryKeys.jobs.all, queryKeys.keys, queryKeys.overview, queryKeys.usageAll);
  }, [finished, invalidate]);

  return (
    <section aria-label="Job" className={`${panelClass} space-y-3`}>
      <div className="flex flex-wrap items-center justify-between gap-2">
        <p data-testid="job-status" role="status" aria-live="polite" className="text-sm">
          Job <code className="text-xs">{job.id}</code> is <StateBadge state={live.state} />
          {live.attempt !== null ? <span className="text-zinc-500"> (attempt {live.attempt})</span> : null}
          {live.retryAt ? (
            <span className="text-zinc-500"> · retrying at {formatTime(live.retryAt)}</span>
          ) : null}
        </p>
        <div className="flex items-center gap-3">
          <Link data-testid="job-link" href={jobHref(job.id)} className={linkClass}>
            Job details
          </Link>
          {!finished ? <MutationButton mutation={cancel}>Cancel</MutationButton> : null}
        </div>
      </div>

      {/* The stages are what is happening now: once the job has ended, its state badge says the rest. */}
      {live.stages.length > 0 && !finished ? (
        <ol aria-label="Progress" className="flex flex-wrap gap-1 text-xs">
          {live.stages.map((stage) => (
            <li key={stage} className="rounded bg-zinc-100 px-2 py-0.5 dark:bg-zinc-800">
              {stage}
            </li>
          ))}
          {live.message ? <li className="px-1 text-zinc-500">{live.message}</li> : null}
        </ol>
      ) : null}

      {live.error ? (
        <p className="text-sm text-red-700 dark:text-red-400">
          <code>{live.error.code}</code>: {live.error.message}
        </p>
      ) : null}
      <ErrorBanner error={cancel.error} title="Cancel failed" />
      {stream.status === "error" ? <ErrorBanner error={stream.error} title="Lost the live updates" /> : null}

      {live.partials.length > 0 ? (
        <div>
          <h3 className="text-sm font-medium">Partial images</h3>
          <div className="mt-1 flex flex-wrap gap-2">
            {live.partials.map((image, index) => (
              <Image
                key={image.url}
                data-testid="partial-image"
                src={image.url}
                alt={`Partial image ${index + 1}`}
                width={160}
                height={160}
                className="h-40 w-40 rounded object-contain opacity-80"
              />
            ))}
          </div>
        </div>
      ) : null}

      {live.text !== null ? (
        <p data-testid="vision-answer" className="whitespace-pre-wrap text-sm">
          {live.text}
        </p>
      ) : null}

      {live.images.length > 0 ? (
        <div className="grid gap-3 sm:grid-cols-2">
          {live.images.map((image, index) => (
            <figure key={image.url} className="space-y-1">
              <Image
                data-testid="result-image"
                src={image.url}
                alt={`Result ${index + 1}`}
                width={512}
                height={512}
                className="h-auto w-full rounded border border-zinc-200 object-contain dark:border-zinc-700"
              />
              <figcaption>
                <a href={image.url} download className={linkClass}>
                  Download image {index + 1}
                </a>
              </figcaption>
            </figure>
          ))}
        </div>
      ) : null}
    </section>
  );
}
