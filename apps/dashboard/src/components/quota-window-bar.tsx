import type { QuotaWindowView } from "@/lib/api-types";
import { formatCountdown } from "@/lib/format-time";
import { levelFillClass, remainingLevel } from "./level-colors";

/** "5 h window", "7 d window": what upstream calls primary and secondary. */
function windowName(window: QuotaWindowView): string {
  const minutes = window.windowMinutes;
  if (!minutes) return window.name === "primary" ? "Short window" : "Weekly window";
  if (minutes % 1_440 === 0) return `${minutes / 1_440} d window`;
  if (minutes % 60 === 0) return `${minutes / 60} h window`;
  return `${minutes} min window`;
}

/** One quota window: percent left as a bar, and a live countdown to its reset. */
export function QuotaWindowBar({ window, now }: { window: QuotaWindowView; now: number }) {
  const left = Math.max(0, Math.min(100, window.remainingPercent));
  return (
    <div>
      <div className="flex justify-between text-xs">
        <span>{windowName(window)}</span>
        <span className="tabular-nums">{Math.round(left)}% left</span>
      </div>
      <div aria-hidden="true" className="mt-1 h-2 overflow-hidden rounded bg-zinc-200 dark:bg-zinc-700">
        <div className={`h-full ${levelFillClass[remainingLevel(left)]}`} style={{ width: `${left}%` }} />
      </div>
      <p className="mt-0.5 text-xs text-zinc-500 tabular-nums">
        {window.resetsAt === null
          ? "reset time unknown"
          : `resets in ${formatCountdown(window.resetsAt, now)}`}
      </p>
    </div>
  );
}
