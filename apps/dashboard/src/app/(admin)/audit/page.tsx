"use client";

import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { useId, useState } from "react";
import { AuditTable } from "@/components/audit-table";
import { ErrorBanner } from "@/components/error-banner";
import { LabeledField } from "@/components/labeled-field";
import { PageHeading } from "@/components/page-heading";
import { Pager } from "@/components/pager";
import { fieldClass } from "@/components/ui-classes";
import { queryKeys } from "@/lib/query-keys";
import { trpc } from "@/lib/trpc-client";
import { useCursorPages } from "@/lib/use-cursor-pages";
import { useDebouncedValue } from "@/lib/use-debounced-value";

/** Suggestions for the action filter; any dotted action the server records can be typed. */
const KNOWN_ACTIONS = [
  "auth.login",
  "auth.login_failed",
  "auth.login_throttled",
  "auth.logout",
  "key.create",
  "key.update",
  "key.enable",
  "key.disable",
  "key.rotate",
  "key.delete",
  "image.generate",
  "job.cancel",
  "job.delete",
  "job.rerun",
  "maintenance.cleanup",
  "account.dispatch_mode",
  "settings.update",
];

export default function AuditPage() {
  const id = useId();
  const [action, setAction] = useState("");
  const settledAction = useDebouncedValue(action.trim());
  const pages = useCursorPages();
  const audit = useQuery({
    queryKey: queryKeys.audit(settledAction, pages.cursor),
    queryFn: () =>
      trpc().audit.list.query({
        limit: 50,
        ...(settledAction ? { action: settledAction } : {}),
        ...(pages.cursor ? { cursor: pages.cursor } : {}),
      }),
    placeholderData: keepPreviousData,
  });

  return (
    <div className="space-y-4">
      <PageHeading title="Audit log" />
      <LabeledField id={`${id}-action`} label="Action" className="max-w-xs">
        <input
          id={`${id}-action`}
          type="search"
          list={`${id}-actions`}
          placeholder="all actions"
          value={action}
          onChange={(event) => {
            setAction(event.target.value);
            pages.reset();
          }}
          className={fieldClass}
        />
        <datalist id={`${id}-actions`}>
          {KNOWN_ACTIONS.map((name) => (
            <option key={name} value={name} />
          ))}
        </datalist>
      </LabeledField>
      <ErrorBanner error={audit.error} title="Audit log unavailable" />
      {audit.isPending ? <p role="status">Loading…</p> : null}
      {audit.data ? (
        audit.data.items.length === 0 ? (
          <p className="text-sm text-zinc-500">No entries.</p>
        ) : (
          <AuditTable items={audit.data.items} />
        )
      ) : null}
      <Pager
        page={pages.page}
        hasPrevious={pages.hasPrevious}
        nextCursor={audit.isPlaceholderData ? null : audit.data?.nextCursor}
        onPrevious={pages.previous}
        onNext={pages.next}
      />
    </div>
  );
}
