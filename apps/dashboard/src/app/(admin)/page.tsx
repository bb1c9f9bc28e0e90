"use client";

import { AccountsSection } from "@/components/accounts-section";
import { DemoBanner } from "@/components/demo-banner";
import { DispatchModeSelect } from "@/components/dispatch-mode-select";
import { ErrorBanner } from "@/components/error-banner";
import { LoginBanner } from "@/components/login-banner";
import { PageHeading } from "@/components/page-heading";
import { QueuePanel } from "@/components/queue-panel";
import { UsagePanel } from "@/components/usage-panel";
import { UsageSummary } from "@/components/usage-summary";
import { formatClock } from "@/lib/format-time";
import { useOverview } from "@/lib/use-overview";

export default function OverviewPage() {
  const overview = useOverview();
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
          <AccountsSection overview={data} />
          {data.accounts.length > 0 ? <UsagePanel overview={data} /> : null}
          <UsageSummary />
        </>
      ) : null}
    </div>
  );
}
