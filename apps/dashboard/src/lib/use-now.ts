"use client";

import { useEffect, useState } from "react";

/**
 * The current time, re-read every `intervalMs`, for countdowns and "x ago" labels. Components render times
 * only once server data is there, which never happens in the prerendered HTML, so this cannot cause a
 * hydration mismatch.
 */
export function useNow(intervalMs = 1_000): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = window.setInterval(() => setNow(Date.now()), intervalMs);
    return () => window.clearInterval(timer);
  }, [intervalMs]);
  return now;
}
