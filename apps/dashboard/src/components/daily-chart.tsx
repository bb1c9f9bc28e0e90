import type { AccountOverview } from "@/lib/api-types";
import { formatCount } from "@/lib/format-number";

// The days are UTC days (`YYYY-MM-DD`), so they are labelled in UTC too, or they would shift a day.
const weekday = new Intl.DateTimeFormat(undefined, { weekday: "short", timeZone: "UTC" });
const dayOfMonth = new Intl.DateTimeFormat(undefined, { day: "numeric", timeZone: "UTC" });
const fullDay = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeZone: "UTC" });

/** One bar of images per day, plain divs: no chart library for one small picture. */
export function DailyChart({
  days,
  caption = `Images per day, last ${days.length} days (UTC)`,
}: {
  days: ReadonlyArray<AccountOverview["daily"][number]>;
  caption?: string;
}) {
  const max = Math.max(1, ...days.map((day) => day.images));
  // A week fits weekday names; a month gets day numbers.
  const tick = days.length <= 7 ? weekday : dayOfMonth;
  return (
    <figure>
      <figcaption className="text-xs text-zinc-500">{caption}</figcaption>
      <ul className={`mt-2 flex h-28 items-end overflow-hidden ${days.length <= 7 ? "gap-1.5" : "gap-0.5"}`}>
        {days.map((day) => {
          const date = new Date(`${day.day}T00:00:00Z`);
          const label = `${fullDay.format(date)}: ${day.images} images, ${day.succeeded} succeeded, ${day.failed} failed`;
          return (
            <li
              key={day.day}
              className="flex h-full min-w-0 flex-1 flex-col items-center justify-end"
              title={label}
            >
              <span className="sr-only">{label}</span>
              <span aria-hidden="true" className="text-[10px] tabular-nums text-zinc-500">
                {formatCount(day.images)}
              </span>
              <span
                aria-hidden="true"
                className="w-full rounded-t bg-sky-500 dark:bg-sky-400"
                style={{ height: `${(day.images / max) * 75}%`, minHeight: day.images > 0 ? 2 : 0 }}
              />
              <span aria-hidden="true" className="mt-1 text-[10px] text-zinc-500">
                {tick.format(date)}
              </span>
            </li>
          );
        })}
      </ul>
    </figure>
  );
}
