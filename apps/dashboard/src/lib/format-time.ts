/**
 * Every time on the dashboard goes through here: the server sends epoch ms (or ISO strings in job events)
 * and the viewer's own locale and time zone decide how they read.
 */
export type TimeInput = number | string | null | undefined;

const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "medium" });
const timeOnly = new Intl.DateTimeFormat(undefined, { timeStyle: "medium" });
const relative = new Intl.RelativeTimeFormat(undefined, { numeric: "auto" });

export function toMs(value: TimeInput): number | null {
  if (value === null || value === undefined || value === "") return null;
  const ms = typeof value === "number" ? value : Date.parse(value);
  return Number.isFinite(ms) ? ms : null;
}

/** Date and time; a dash when there is none. */
export function formatTime(value: TimeInput): string {
  const ms = toMs(value);
  return ms === null ? "—" : dateTime.format(ms);
}

/** Time of day only, for events of one job. */
export function formatClock(value: TimeInput): string {
  const ms = toMs(value);
  return ms === null ? "—" : timeOnly.format(ms);
}

const UNITS: Array<[Intl.RelativeTimeFormatUnit, number]> = [
  ["day", 86_400_000],
  ["hour", 3_600_000],
  ["minute", 60_000],
  ["second", 1_000],
];

/** "in 3 hours", "5 minutes ago", relative to `now`. */
export function formatRelative(value: TimeInput, now: number = Date.now()): string {
  const ms = toMs(value);
  if (ms === null) return "—";
  const diff = ms - now;
  for (const [unit, size] of UNITS) {
    if (Math.abs(diff) >= size || unit === "second") return relative.format(Math.round(diff / size), unit);
  }
  return relative.format(0, "second");
}

/** "1 h 05 min", "42 s", "850 ms": how long something took. */
export function formatDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return "—";
  if (ms < 1_000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1_000).toFixed(1)} s`;
  const totalMinutes = Math.floor(ms / 60_000);
  if (totalMinutes < 60) return `${totalMinutes} min ${Math.floor((ms % 60_000) / 1_000)} s`;
  const hours = Math.floor(totalMinutes / 60);
  if (hours < 48) return `${hours} h ${String(totalMinutes % 60).padStart(2, "0")} min`;
  return `${Math.floor(hours / 24)} d ${hours % 24} h`;
}

/** A live countdown to `target`: "2 h 03 min 10 s", or "now" once it has passed. */
export function formatCountdown(target: TimeInput, now: number = Date.now()): string {
  const ms = toMs(target);
  if (ms === null) return "—";
  const left = Math.max(0, Math.round((ms - now) / 1_000));
  if (left === 0) return "now";
  const d = Math.floor(left / 86_400);
  const h = Math.floor((left % 86_400) / 3_600);
  const m = Math.floor((left % 3_600) / 60);
  const s = left % 60;
  if (d > 0) return `${d} d ${h} h ${m} min`;
  if (h > 0) return `${h} h ${String(m).padStart(2, "0")} min ${String(s).padStart(2, "0")} s`;
  return m > 0 ? `${m} min ${String(s).padStart(2, "0")} s` : `${s} s`;
}

/** `<input type="datetime-local">` value (local time, no zone) → epoch ms, or undefined when empty. */
export function fromDateTimeLocal(value: string): number | undefined {
  if (!value) return undefined;
  const ms = new Date(value).getTime();
  return Number.isFinite(ms) ? ms : undefined;
}
