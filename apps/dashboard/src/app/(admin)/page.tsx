"use client";

import { useQuery } from "@tanstack/react-query";
import { AccountCard } from "@/components/account-card";
import { DemoBanner } from "@/components/demo-banner";
import { DispatchModeSelect } from "@/components/dispatch-mode-select";
import { ErrorBanner } from "@/components/error-banner";
import { LoginBanner } from "@/components/login-banner";
import { PageHeading } from "@/components/page-heading";
import { QueuePanel } from "@/components/queue-panel";
import { UsagePanel } from "@/components/usage-panel";
import { formatClock } from "@/lib/format-time";
import { queryKeys } from "@/lib/query-keys";
import { trpc } from "@/lib/trpc-client";

/** Polled every 2 s: the queue and account states are the live part of the dashboard. */
const OVERVIEW_POLL_MS = 2_000;

export default function OverviewPage() {
  const overview = useQuery({
    queryKey: queryKeys.overview,
    queryFn: () => trpc().system.overview.query(),
    refetchInterval: OVERVIEW_POLL_MS,
  });
  const data = overview.data;

  return (
    <div className="space-y-4">
      <PageHeading title="Overview">
        {data ? (
          <p className="text-xs text-zinc-500">
            {data.backend} backend · v{data.version} · updated {formatClock(overview.dataUpdatedAt)}
          </p>
        ) : null}
      </PageHeading>
      <ErrorBanner error={overview.error} title="Overview unavailable" />
      {overview.isPending ? <p role="status">Loading…</p> : null}
      {data ? (
        <>
          {data.demo ? <DemoBanner /> : null}
          <LoginBanner accounts={data.needsLogin} />
          <div className="grid gap-3 sm:grid-cols-2">
            <QueuePanel queued={data.queue.queued} running={data.queue.running} />
            <DispatchModeSelect value={data.dispatchMode} />
          </div>
          <section aria-labelledby="accounts-heading" className="space-y-3">
            <h2 id="accounts-heading" className="text-lg font-semibold">
              Accounts
            </h2>
            {data.accounts.length === 0 ? (
              <p className="text-sm text-zinc-500">
                No accounts{data.demo ? ": the demo backend runs without any." : "."}
              </p>
            ) : (
              <div className="grid gap-3 md:grid-cols-2 xl:grid-cols-3">
                {data.accounts.map((account) => (
                  <AccountCard key={account.label} account={account} />
                ))}
              </div>
            )}
          </section>
          {data.accounts.length > 0 ? <UsagePanel overview={data} /> : null}
        </>
      ) : null}
    </div>
  );
}
