"use client";

import { useEffect, useState } from "react";
import { type JobEventView, TERMINAL_EVENT_TYPES, toJobEvent } from "./job-event";
import { trpc } from "./trpc-client";

export interface JobEventsState {
  events: JobEventView[];
  /** `done` after a terminal event; the server then ends the stream. */
  status: "connecting" | "open" | "done" | "error";
  error: unknown;
}

/**
 * Follows `jobs.events` over SSE. The link reconnects by itself and sends the last event id back, so a
 * dropped connection repeats nothing and misses nothing; events are still deduplicated by `seq`.
 */
export function useJobEvents(jobId: string): JobEventsState {
  const [state, setState] = useState<JobEventsState>({ events: [], status: "connecting", error: null });

  useEffect(() => {
    // Start from nothing: a changed id must not keep the previous job's events.
    setState({ events: [], status: "connecting", error: null });
    const subscription = trpc().jobs.events.subscribe(
      { id: jobId },
      {
        onStarted: () => setState((current) => ({ ...current, status: "open" })),
        onData: (value) => {
          const event = toJobEvent(value);
          if (!event) return;
          setState((current) => {
            if (current.events.some((seen) => seen.seq === event.seq)) return current;
            const events = [...current.events, event].sort((a, b) => a.seq - b.seq);
            return {
              ...current,
              events,
              status: TERMINAL_EVENT_TYPES.has(event.type) ? "done" : current.status,
            };
          });
        },
        onError: (error) => setState((current) => ({ ...current, status: "error", error })),
        onComplete: () =>
          setState((current) => (current.status === "error" ? current : { ...current, status: "done" })),
      },
    );
    return () => subscription.unsubscribe();
  }, [jobId]);

  return state;
}
