import type { AccountOverview, SystemOverview } from "@/lib/api-types";
import { formatCount } from "@/lib/format-number";
import { levelFillClass, levelTextClass, wallLevel } from "./level-colors";

/** Images in the rolling window against the wall, with ticks where warn and danger begin. */
export function WallBar({
  wall,
  setting,
}: {
  wall: AccountOverview["wall"];
  setting: SystemOverview["wall"];
}) {
  const level = wallLevel(wall.level);
  const width = Math.max(0, Math.min(100, wall.percent));
  return (
    <div>
      <p className="flex justify-between text-sm">
        <span>
          <span className={`font-semibold tabular-nums ${levelTextClass[level]}`}>
            {formatCount(wall.used)}
          </span>{" "}
          / {formatCount(wall.limit)} images in {setting.windowHours} h
        </span>
        <span className="tabular-nums">{Math.round(wall.percent)}%</span>
      </p>
      <div aria-hidden="true" className="relative mt-1 h-3 rounded bg-zinc-200 dark:bg-zinc-700">
        <div className={`h-full rounded ${levelFillClass[level]}`} style={{ width: `${width}%` }} />
        <span
          title={`warn at ${setting.warnPercent}%`}
          className="absolute -top-1 -bottom-1 w-0.5 bg-amber-600"
          style={{ left: `${setting.warnPercent}%` }}
        />
        <span
          title={`danger at ${setting.dangerPercent}%`}
          className="absolute -top-1 -bottom-1 w-0.5 bg-red-600"
          style={{ left: `${setting.dangerPercent}%` }}
        />
      </div>
      <p className="mt-1 text-xs text-zinc-500">
        Marks: warn {setting.warnPercent}%, danger {setting.dangerPercent}%.
      </p>
    </div>
  );
}
