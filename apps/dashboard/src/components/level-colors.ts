/** Text colours of the three-step levels the server computes (token freshness, usage wall). */
export const levelTextClass = {
  green: "text-emerald-700 dark:text-emerald-400",
  amber: "text-amber-700 dark:text-amber-400",
  red: "text-red-700 dark:text-red-400",
} as const;

/** Bar fills of the same levels. */
export const levelFillClass = {
  green: "bg-emerald-500",
  amber: "bg-amber-500",
  red: "bg-red-500",
} as const;

export type Level = keyof typeof levelTextClass;

/** The usage wall says ok/warn/danger; the palette is the same. */
export function wallLevel(level: "ok" | "warn" | "danger"): Level {
  return level === "ok" ? "green" : level === "warn" ? "amber" : "red";
}

/** Quota left: plenty, getting low, nearly gone. */
export function remainingLevel(percent: number): Level {
  return percent > 50 ? "green" : percent > 20 ? "amber" : "red";
}
