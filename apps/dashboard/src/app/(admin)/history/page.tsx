"use client";

import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { ErrorBanner } from "@/components/error-banner";
import { HistoryFilters, type HistoryFilterValues, NO_FILTERS } from "@/components/history-filters";
import { HistoryTable } from "@/components/history-table";
import { PageHeading } from "@/components/page-heading";
import { Pager } from "@/components/pager";
import type { JobListInput } from "@/lib/api-types";
import { fromDateTimeLocal } from "@/lib/format-time";
import { queryKeys } from "@/lib/query-keys";
import { trpc } from "@/lib/trpc-client";
import { useCursorPages } from "@/lib/use-cursor-pages";
import { useDebouncedValue } from "@/lib/use-debounced-value";

const PAGE_SIZE = 50;

function toInput(filters: HistoryFilterValues, cursor: string | undefined): JobListInput {
  const since = fromDateTimeLocal(filters.from);
  const until = fromDateTimeLocal(filters.to);
  const text = filters.text.trim();
  return {
    limit: PAGE_SIZE,
    ...(cursor ? { cursor } : {}),
    ...(filters.state ? { state: filters.state } : {}),
    ...(filters.kind ? { kind: filters.kind } : {}),
    ...(filters.keyId ? { keyId: filters.keyId } : {}),
    ...(filters.account ? { account: filters.account } : {}),
    ...(since === undefined ? {} : { since }),
    ...(until === undefined ? {} : { until }),
    ...(text ? { text } : {}),
  };
}

export default function HistoryPage() {
  const [filters, setFilters] = useState<HistoryFilterValues>(NO_FILTERS);
  const pages = useCursorPages();
  // Typing in the search box settles before it queries; the other filters apply at once.
  const text = useDebouncedValue(filters.text);
  const input = toInput({ ...filters, text }, pages.cursor);
  const jobs = useQuery({
    queryKey: queryKeys.jobs.list(input),
    queryFn: () => trpc().jobs.list.query(input),
    placeholderData: keepPreviousData,
    refetchInterval: 10_000,
  });
  const keys = useQuery({ queryKey: queryKeys.keys, queryFn: () => trpc().keys.list.query() });
  const overview = useQuery({ queryKey: queryKeys.overview, queryFn: () => trpc().system.overview.query() });

  return (
    <div className="space-y-4">
      <PageHeading title="History" />
      <HistoryFilters
        values={filters}
        keys={(keys.data ?? []).map((key) => ({ id: key.id, name: key.name }))}
        accounts={(overview.data?.accounts ?? []).map((account) => account.label)}
        onChange={(next) => {
          setFilters(next);
          pages.reset();
        }}
      />
      <ErrorBanner error={jobs.error} title="History unavailable" />
      {jobs.isPending ? <p role="status">Loading…</p> : null}
      {jobs.data ? (
        jobs.data.items.length === 0 ? (
          <p className="text-sm text-zinc-500">No jobs match.</p>
        ) : (
          <HistoryTable items={jobs.data.items} />
        )
      ) : null}
      <Pager
        page={pages.page}
        hasPrevious={pages.hasPrevious}
        nextCursor={jobs.isPlaceholderData ? null : jobs.data?.nextCursor}
        onPrevious={pages.previous}
        onNext={pages.next}
      />
    </div>
  );
}
