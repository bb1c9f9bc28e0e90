/**
 * Job events as `jobs.events` and `jobs.detail` send them (packages/api `eventView`): snake_case fields,
 * ISO times. The server types them loosely, so they are checked here once and narrowed by `type`.
 */
export interface EventError {
  code: string;
  message: string;
  retry_after_ms?: number;
}

export interface EventImage {
  url: string;
  expires_at?: string;
}

interface Base {
  job_id: string;
  seq: number;
  at: string | null;
}

export type JobEventView =
  | (Base & { type: "queued"; priority: number })
  | (Base & { type: "started"; attempt: number })
  | (Base & { type: "progress"; attempt: number; stage: string; message: string | null })
  | (Base & { type: "partial_image"; attempt: number; index: number; image: EventImage })
  | (Base & {
      type: "attempt_failed";
      attempt: number;
      error: EventError;
      will_retry: boolean;
      retry_at: string | null;
    })
  | (Base & { type: "succeeded"; images: EventImage[]; text?: string })
  | (Base & { type: "failed"; error: EventError })
  | (Base & { type: "canceled"; error: EventError | null });

export type JobEventType = JobEventView["type"];

const TYPES: ReadonlySet<string> = new Set<JobEventType>([
  "queued",
  "started",
  "progress",
  "partial_image",
  "attempt_failed",
  "succeeded",
  "failed",
  "canceled",
]);

export const TERMINAL_EVENT_TYPES: ReadonlySet<JobEventType> = new Set(["succeeded", "failed", "canceled"]);

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null;
}

/**
 * An event from the wire, or null for anything unrecognised (a newer server's event type is skipped, not
 * fatal). A `tracked()` subscription delivers `{ id, data }`; both forms are accepted.
 */
export function toJobEvent(value: unknown): JobEventView | null {
  const event = isRecord(value) && isRecord(value.data) && "id" in value ? value.data : value;
  if (!isRecord(event) || typeof event.type !== "string" || !TYPES.has(event.type)) return null;
  if (typeof event.seq !== "number") return null;
  return event as unknown as JobEventView;
}
