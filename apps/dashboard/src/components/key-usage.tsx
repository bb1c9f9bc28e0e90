import type { KeyWithUsage } from "@/lib/api-types";
import { formatCount, formatLimit } from "@/lib/format-number";

const WINDOWS = [
  { name: "minute", label: "min" },
  { name: "day", label: "day" },
  { name: "month", label: "month" },
  { name: "concurrent", label: "running" },
] as const;

/** Use against each limit right now; "∞" where there is none, red where the limit is reached. */
export function KeyUsage({ usage }: { usage: KeyWithUsage["usage"] }) {
  return (
    <dl className="grid grid-cols-[auto_auto] gap-x-2 text-xs tabular-nums">
      {WINDOWS.map(({ name, label }) => {
        const { used, limit } = usage[name];
        // Unlimited minute/day/month windows are not counted at all: the server sends `used: null`.
        const full = limit !== null && used !== null && used >= limit;
        return (
          <div key={name} className="contents">
            <dt className="text-zinc-500">{label}</dt>
            <dd className={full ? "font-semibold text-red-700 dark:text-red-400" : undefined}>
              {used === null ? formatLimit(limit) : `${formatCount(used)} / ${formatLimit(limit)}`}
            </dd>
          </div>
        );
      })}
    </dl>
  );
}
