import type { AccountOverview, SystemOverview } from "@/lib/api-types";
import { formatCount } from "@/lib/format-number";
import { formatTime } from "@/lib/format-time";
import { DailyChart } from "./daily-chart";
import { panelClass } from "./ui-classes";
import { WallBar } from "./wall-bar";

function forecastText(wall: AccountOverview["wall"], windowHours: number): string {
  // Per day when the pace is slow: "0.0/h" would read as no use at all.
  const rate =
    wall.ratePerHour >= 1 ? `${wall.ratePerHour.toFixed(1)}/h` : `${(wall.ratePerHour * 24).toFixed(0)}/day`;
  if (wall.used >= wall.limit) return `Wall reached (${rate} over the last 24 h).`;
  if (wall.forecastAt === null) {
    // A rolling window settles at rate × window; below the wall it is never reached, however full it is now.
    return `Not at this rate: ${rate} keeps the ${windowHours} h window near ${formatCount(Math.round(wall.settlesAt))} of ${formatCount(wall.limit)}.`;
  }
  return `Wall reached around ${formatTime(wall.forecastAt)} at ${rate}.`;
}

/** Per account: the rolling image wall, when this pace would hit it, and the last week by day. */
export function UsagePanel({ overview }: { overview: SystemOverview }) {
  return (
    <section aria-labelledby="usage-heading" className="space-y-3">
      <h2 id="usage-heading" className="text-lg font-semibold">
        Usage
      </h2>
      <div className="grid gap-3 md:grid-cols-2">
        {overview.accounts.map((account) => (
          <article key={account.label} aria-label={`Usage of ${account.label}`} className={panelClass}>
            <h3 className="mb-2 font-semibold">{account.label}</h3>
            <WallBar wall={account.wall} setting={overview.wall} />
            <p className="mt-2 text-sm">{forecastText(account.wall, overview.wall.windowHours)}</p>
            <div className="mt-3">
              <DailyChart days={account.daily} />
            </div>
          </article>
        ))}
      </div>
    </section>
  );
}
