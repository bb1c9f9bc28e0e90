import type { QuotaSnapshot, QuotaWindow } from "../types.js";

/**
 * How long a window whose reply gave neither a reset time nor a length keeps counting. Without a bound
 * one header set without reset facts could bench an account forever; a newer snapshot replaces it anyway.
 */
const UNKNOWN_WINDOW_VALIDITY_MS = 5 * 60_000;

/** Epoch ms after which a window's usage no longer applies. */
export function quotaWindowEndsAt(window: QuotaWindow, observedAt: number): number {
  if (window.resetsAt !== undefined) return window.resetsAt;
  if (window.windowMinutes !== undefined) return observedAt + window.windowMinutes * 60_000;
  return observedAt + UNKNOWN_WINDOW_VALIDITY_MS;
}

function liveWindows(snapshot: QuotaSnapshot | undefined, now: number): QuotaWindow[] {
  if (!snapshot) return [];
  return [snapshot.primary, snapshot.secondary].filter(
    (w): w is QuotaWindow => w !== undefined && quotaWindowEndsAt(w, snapshot.observedAt) > now,
  );
}

/**
 * Percent left in the tightest window that has not reset yet: 100 − the highest `usedPercent` among
 * live windows. Unknown quota counts as 100 so that new accounts get used (and thereby measured).
 */
export function quotaRemainingPercent(snapshot: QuotaSnapshot | undefined, now: number): number {
  const used = liveWindows(snapshot, now).map((w) => w.usedPercent);
  return Math.max(0, Math.min(100, 100 - Math.max(0, ...used)));
}

/**
 * When an account under `minRemainingPercent` gets back over it: the latest reset among the windows
 * that hold it under (every one of them must reset). Undefined when it is not under the minimum.
 */
export function quotaRecoversAt(
  snapshot: QuotaSnapshot | undefined,
  now: number,
  minRemainingPercent: number,
): number | undefined {
  if (!snapshot) return undefined;
  const blocking = liveWindows(snapshot, now).filter((w) => 100 - w.usedPercent < minRemainingPercent);
  if (blocking.length === 0) return undefined;
  return Math.max(...blocking.map((w) => quotaWindowEndsAt(w, snapshot.observedAt)));
}
