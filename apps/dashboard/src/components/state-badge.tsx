import type { JobState } from "@/lib/api-types";
import { badgeClass } from "./ui-classes";

const STATE_CLASS: Record<JobState, string> = {
  queued: "bg-zinc-200 text-zinc-800 dark:bg-zinc-700 dark:text-zinc-100",
  running: "bg-sky-100 text-sky-900 dark:bg-sky-900 dark:text-sky-100",
  succeeded: "bg-emerald-100 text-emerald-900 dark:bg-emerald-900 dark:text-emerald-100",
  failed: "bg-red-100 text-red-900 dark:bg-red-900 dark:text-red-100",
  canceled: "bg-amber-100 text-amber-900 dark:bg-amber-900 dark:text-amber-100",
  expired: "bg-zinc-100 text-zinc-500 dark:bg-zinc-800 dark:text-zinc-400",
};

export const JOB_STATES: readonly JobState[] = [
  "queued",
  "running",
  "succeeded",
  "failed",
  "canceled",
  "expired",
];

export function isFinished(state: JobState): boolean {
  return state !== "queued" && state !== "running";
}

export function StateBadge({ state }: { state: JobState }) {
  return <span className={`${badgeClass} ${STATE_CLASS[state]}`}>{state}</span>;
}
