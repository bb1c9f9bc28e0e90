"use client";

import { useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { queryKeys } from "@/lib/query-keys";
import { trpc } from "@/lib/trpc-client";
import { AttemptCard } from "./attempt-card";
import { ErrorBanner } from "./error-banner";
import { EventTimeline } from "./event-timeline";
import { JobActions } from "./job-actions";
import { JobFacts } from "./job-facts";
import { JobImages } from "./job-images";
import { PageHeading } from "./page-heading";
import { isFinished } from "./state-badge";
import { linkClass, panelClass } from "./ui-classes";

/** Everything about one job; refreshed every 2 s until it is over. */
export function JobDetailView({ id }: { id: string }) {
  const detail = useQuery({
    queryKey: queryKeys.jobs.detail(id),
    queryFn: () => trpc().jobs.detail.query({ id }),
    refetchInterval: (query) => {
      const state = query.state.data?.job.state;
      return state && isFinished(state) ? false : 2_000;
    },
  });
  const data = detail.data;

  return (
    <div className="space-y-4">
      <PageHeading title={`Job ${id}`}>
        <Link href="/history/" className={linkClass}>
          All jobs
        </Link>
      </PageHeading>
      <ErrorBanner error={detail.error} title="Job unavailable" />
      {detail.isPending ? <p role="status">Loading…</p> : null}
      {data ? (
        <>
          <JobActions job={data.job} />
          <JobFacts job={data.job} />
          <section aria-labelledby="images-heading" className={panelClass}>
            <h2 id="images-heading" className="mb-2 font-semibold">
              Images
            </h2>
            <JobImages images={data.job.images} />
          </section>
          <section aria-labelledby="attempts-heading" className="space-y-2">
            <h2 id="attempts-heading" className="font-semibold">
              Attempts
            </h2>
            {data.job.attempts.length === 0 ? <p className="text-sm text-zinc-500">No attempt yet.</p> : null}
            {data.job.attempts.map((attempt) => (
              <AttemptCard key={attempt.number} attempt={attempt} />
            ))}
          </section>
          <section aria-labelledby="events-heading" className={panelClass}>
            <h2 id="events-heading" className="mb-2 font-semibold">
              Events
            </h2>
            <EventTimeline events={data.events} />
          </section>
        </>
      ) : null}
    </div>
  );
}
