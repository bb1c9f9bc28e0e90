"use client";

import { useQuery } from "@tanstack/react-query";
import type { UsageSummary as Summary, UsageTotals } from "@/lib/api-types";
import { formatCount } from "@/lib/format-number";
import { queryKeys } from "@/lib/query-keys";
import { trpc } from "@/lib/trpc-client";
import { DailyChart } from "./daily-chart";
import { DataTable } from "./data-table";
import { ErrorBanner } from "./error-banner";
import { panelClass, tdClass } from "./ui-classes";

const NONE: UsageTotals = { requests: 0, succeeded: 0, failed: 0, images: 0 };

function sum(days: Summary["byDay"]): UsageTotals {
  return days.reduce(
    (total, day) => ({
      requests: total.requests + day.requests,
      succeeded: total.succeeded + day.succeeded,
      failed: total.failed + day.failed,
      images: total.images + day.images,
    }),
    NONE,
  );
}

function Totals({ label, totals }: { label: string; totals: UsageTotals }) {
  return (
    <div data-testid="usage-totals" data-range={label}>
      <h4 className="text-xs font-medium text-zinc-500">{label}</h4>
      <dl className="mt-1 grid grid-cols-3 gap-2 text-center">
        {(
          [
            ["Requests", totals.requests],
            ["Images", totals.images],
            ["Failures", totals.failed],
          ] as const
        ).map(([name, value]) => (
          <div key={name}>
            <dd className="text-lg font-semibold tabular-nums">{formatCount(value)}</dd>
            <dt className="text-xs text-zinc-500">{name}</dt>
          </div>
        ))}
      </dl>
    </div>
  );
}

/**
 * What was asked and delivered over 7 and 30 days, whatever the backend (the demo backend too, which
 * has no accounts), overall, by day and per key. From the `usage_daily` counters.
 */
export function UsageSummary() {
  const week = useQuery({
    queryKey: queryKeys.usage(7),
    queryFn: () => trpc().usage.summary.query({ days: 7 }),
  });
  const month = useQuery({
    queryKey: queryKeys.usage(30),
    queryFn: () => trpc().usage.summary.query({ days: 30 }),
  });
  const keys = useQuery({ queryKey: queryKeys.keys, queryFn: () => trpc().keys.list.query() });
  const names = new Map((keys.data ?? []).map((key) => [key.id, key.name]));
  const keyIds = [
    ...new Set([...Object.keys(month.data?.byKey ?? {}), ...Object.keys(week.data?.byKey ?? {})]),
  ];
  const keyName = (id: string): string =>
    id === "" ? "dashboard (no key)" : (names.get(id) ?? `deleted key ${id}`);

  return (
    <section aria-labelledby="usage-summary-heading" className="space-y-3">
      <h2 id="usage-summary-heading" className="text-lg font-semibold">
        Requests and images
      </h2>
      <ErrorBanner error={week.error ?? month.error} title="Usage unavailable" />
      {week.data && month.data ? (
        <>
          <div data-testid="usage-summary" className={`${panelClass} space-y-4`}>
            <div className="grid gap-4 sm:grid-cols-2">
              <Totals label="Last 7 days" totals={sum(week.data.byDay)} />
              <Totals label="Last 30 days" totals={sum(month.data.byDay)} />
            </div>
            <DailyChart days={month.data.byDay} />
          </div>
          <h3 className="font-semibold">Per key</h3>
          {keyIds.length === 0 ? (
            <p className="text-sm text-zinc-500">No requests in the last 30 days.</p>
          ) : (
            <DataTable
              columns={[
                "Key",
                "7 d requests",
                "7 d images",
                "7 d failures",
                "30 d requests",
                "30 d images",
                "30 d failures",
              ]}
            >
              {keyIds
                .sort((a, b) => (month.data.byKey[b]?.requests ?? 0) - (month.data.byKey[a]?.requests ?? 0))
                .map((id) => {
                  const w = week.data.byKey[id] ?? NONE;
                  const m = month.data.byKey[id] ?? NONE;
                  return (
                    <tr key={id} data-testid="usage-key-row" data-key-name={keyName(id)}>
                      <td className={tdClass}>{keyName(id)}</td>
                      {[w.requests, w.images, w.failed, m.requests, m.images, m.failed].map(
                        (value, index) => (
                          // biome-ignore lint/suspicious/noArrayIndexKey: a fixed set of columns
                          <td key={index} className={`${tdClass} tabular-nums`}>
                            {formatCount(value)}
                          </td>
                        ),
                      )}
                    </tr>
                  );
                })}
            </DataTable>
          )}
        </>
      ) : week.isPending || month.isPending ? (
        <p role="status">Loading…</p>
      ) : null}
    </section>
  );
}
