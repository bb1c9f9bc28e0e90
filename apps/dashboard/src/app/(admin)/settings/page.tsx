"use client";

import { useQuery } from "@tanstack/react-query";
import { CleanupPanel } from "@/components/cleanup-panel";
import { ErrorBanner } from "@/components/error-banner";
import { PageHeading } from "@/components/page-heading";
import { SettingsForm } from "@/components/settings-form";
import { queryKeys } from "@/lib/query-keys";
import { trpc } from "@/lib/trpc-client";

export default function SettingsPage() {
  const settings = useQuery({
    queryKey: queryKeys.settings,
    queryFn: () => trpc().settings.get.query(),
    // The form owns its draft; a background refetch must not overwrite what is being typed.
    refetchOnWindowFocus: false,
  });
  return (
    <div className="space-y-4">
      <PageHeading title="Settings" />
      <ErrorBanner error={settings.error} title="Settings unavailable" />
      {settings.isPending ? <p role="status">Loading…</p> : null}
      {settings.data ? <SettingsForm settings={settings.data} /> : null}
      <CleanupPanel />
    </div>
  );
}
