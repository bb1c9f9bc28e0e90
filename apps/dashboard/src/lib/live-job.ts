import type { JobState } from "./api-types";
import type { EventError, EventImage, JobEventView } from "./job-event";

/** What the playground shows of a job while it runs, folded from its events. */
export interface LiveJob {
  state: JobState;
  attempt: number | null;
  /** Progress stages in the order they arrived (deduplicated). */
  stages: string[];
  message: string | null;
  partials: EventImage[];
  images: EventImage[];
  /** A vision job's answer. */
  text: string | null;
  error: EventError | null;
  /** When the next attempt starts after a failed one. */
  retryAt: string | null;
}

export function initialLiveJob(state: JobState): LiveJob {
  return {
    state,
    attempt: null,
    stages: [],
    message: null,
    partials: [],
    images: [],
    text: null,
    error: null,
    retryAt: null,
  };
}

export function applyJobEvent(job: LiveJob, event: JobEventView): LiveJob {
  switch (event.type) {
    case "queued":
      return { ...job, state: "queued" };
    case "started":
      return { ...job, state: "running", attempt: event.attempt, retryAt: null };
    case "progress":
      return {
        ...job,
        state: "running",
        attempt: event.attempt,
        stages: job.stages.includes(event.stage) ? job.stages : [...job.stages, event.stage],
        message: event.message,
      };
    case "partial_image": {
      const partials = [...job.partials];
      partials[event.index] = event.image;
      return { ...job, partials };
    }
    case "attempt_failed":
      return {
        ...job,
        state: event.will_retry ? "queued" : job.state,
        error: event.error,
        retryAt: event.will_retry ? event.retry_at : null,
      };
    case "succeeded":
      return {
        ...job,
        state: "succeeded",
        images: event.images,
        text: event.text ?? null,
        error: null,
        retryAt: null,
      };
    case "failed":
      return { ...job, state: "failed", error: event.error, retryAt: null };
    case "canceled":
      return { ...job, state: "canceled", error: event.error, retryAt: null };
  }
}
