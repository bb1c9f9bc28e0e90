"use client";

import { ErrorBanner } from "@/components/error-banner";
import { PageHeading } from "@/components/page-heading";
import { UsagePanel } from "@/components/usage-panel";
import { UsageSummary } from "@/components/usage-summary";
import { useOverview } from "@/lib/use-overview";

/** Requests, images and failures over 7 and 30 days, per key, and each account's wall. */
export default function UsagePage() {
  const overview = useOverview();
  const data = overview.data;
  return (
    <div className="space-y-4">
      <PageHeading title="Usage" />
      <UsageSummary />
      <ErrorBanner error={overview.error} title="Accounts unavailable" />
      {data && data.accounts.length > 0 ? <UsagePanel overview={data} /> : null}
    </div>
  );
}
