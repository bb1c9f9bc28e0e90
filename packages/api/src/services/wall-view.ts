import type { UsageWallSetting } from "@codex-img/db";
import type { AccountWallView } from "./admin-views.js";

const HOUR_MS = 3_600_000;

/**
 * Where an account's rolling window stands, and whether and when the last 24 h rate takes it to the wall.
 *
 * A rolling window of W hours at a steady r images/hour settles at r·W images: what enters is what leaves.
 * So the wall L is reached only if r·W ≥ L; below that it is never reached at this rate, however close the
 * window is now. When it is reached, the images now in the window are taken to leave evenly (used/W per
 * hour) while new ones come at r, so the count moves by (r - used/W) per hour until it meets L, which
 * happens within W hours.
 */
export function wallView(
  used: number,
  last24h: number,
  wall: UsageWallSetting,
  now: number,
): AccountWallView {
  const percent = wall.limit === 0 ? 100 : (used / wall.limit) * 100;
  const ratePerHour = last24h / 24;
  const level = percent >= wall.dangerPercent ? "danger" : percent >= wall.warnPercent ? "warn" : "ok";
  const settlesAt = ratePerHour * wall.windowHours;
  let forecastAt: number | null = null;
  if (used < wall.limit && settlesAt >= wall.limit) {
    const netPerHour = ratePerHour - used / wall.windowHours;
    forecastAt = now + Math.round(((wall.limit - used) / netPerHour) * HOUR_MS);
  }
  return { used, limit: wall.limit, percent, level, ratePerHour, settlesAt, forecastAt };
}
