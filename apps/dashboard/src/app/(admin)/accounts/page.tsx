"use client";

import { AccountsSection } from "@/components/accounts-section";
import { ErrorBanner } from "@/components/error-banner";
import { LoginBanner } from "@/components/login-banner";
import { PageHeading } from "@/components/page-heading";
import { UsagePanel } from "@/components/usage-panel";
import { useOverview } from "@/lib/use-overview";

/** Every Codex account and configured home, with each account's usage wall. */
export default function AccountsPage() {
  const overview = useOverview();
  const data = overview.data;
  return (
    <div className="space-y-4">
      <PageHeading title="Accounts" />
      <ErrorBanner error={overview.error} title="Accounts unavailable" />
      {overview.isPending ? <p role="status">Loading…</p> : null}
      {data ? (
        <>
          <LoginBanner accounts={data.needsLogin} />
          <AccountsSection overview={data} />
          {data.accounts.length > 0 ? <UsagePanel overview={data} /> : null}
        </>
      ) : null}
    </div>
  );
}
