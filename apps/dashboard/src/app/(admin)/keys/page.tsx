"use client";

import { useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { ErrorBanner } from "@/components/error-banner";
import { KeyCreateForm } from "@/components/key-create-form";
import { KeysTable } from "@/components/keys-table";
import { PageHeading } from "@/components/page-heading";
import { RawKeyBox } from "@/components/raw-key-box";
import { primaryButtonClass } from "@/components/ui-classes";
import { queryKeys } from "@/lib/query-keys";
import { trpc } from "@/lib/trpc-client";

export default function KeysPage() {
  const [creating, setCreating] = useState(false);
  // The raw key of the last create or rotate: component state only, so a reload forgets it.
  const [issued, setIssued] = useState<{ name: string; rawKey: string } | null>(null);
  const keys = useQuery({
    queryKey: queryKeys.keys,
    queryFn: () => trpc().keys.list.query(),
    refetchInterval: 10_000,
  });

  return (
    <div className="space-y-4">
      <PageHeading title="API keys">
        <button
          type="button"
          className={primaryButtonClass}
          aria-expanded={creating}
          onClick={() => {
            setCreating(true);
            setIssued(null);
          }}
        >
          New key
        </button>
      </PageHeading>
      {/* Keyed by the key: a newly issued one must not inherit the last one's "Copied" note. */}
      {issued ? (
        <RawKeyBox
          key={issued.rawKey}
          name={issued.name}
          rawKey={issued.rawKey}
          onDismiss={() => setIssued(null)}
        />
      ) : null}
      {creating ? (
        <KeyCreateForm
          onCreated={(name, rawKey) => {
            setIssued({ name, rawKey });
            setCreating(false);
          }}
          onCancel={() => setCreating(false)}
        />
      ) : null}
      <ErrorBanner error={keys.error} title="Keys unavailable" />
      {keys.isPending ? <p role="status">Loading…</p> : null}
      {keys.data && keys.data.length === 0 ? <p className="text-sm text-zinc-500">No keys yet.</p> : null}
      {keys.data && keys.data.length > 0 ? (
        <KeysTable keys={keys.data} onRotated={(name, rawKey) => setIssued({ name, rawKey })} />
      ) : null}
    </div>
  );
}
