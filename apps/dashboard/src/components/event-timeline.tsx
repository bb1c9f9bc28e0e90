import { formatClock, formatTime } from "@/lib/format-time";
import { type JobEventView, toJobEvent } from "@/lib/job-event";
import { linkClass } from "./ui-classes";

function EventDetails({ event }: { event: JobEventView }) {
  switch (event.type) {
    case "queued":
      return <>priority {event.priority}</>;
    case "started":
      return <>attempt {event.attempt}</>;
    case "progress":
      return (
        <>
          attempt {event.attempt} · {event.stage}
          {event.message ? ` — ${event.message}` : ""}
        </>
      );
    case "partial_image":
      return (
        <>
          attempt {event.attempt} ·{" "}
          <a href={event.image.url} className={linkClass} target="_blank" rel="noreferrer">
            partial image {event.index + 1}
          </a>
        </>
      );
    case "attempt_failed":
      return (
        <>
          attempt {event.attempt} · <code>{event.error.code}</code> {event.error.message} ·{" "}
          {event.will_retry ? `retry at ${formatTime(event.retry_at)}` : "no retry"}
        </>
      );
    case "succeeded":
      return <>{event.images.length} image(s)</>;
    case "failed":
      return (
        <>
          <code>{event.error.code}</code> {event.error.message}
        </>
      );
    case "canceled":
      return event.error ? (
        <>
          <code>{event.error.code}</code> {event.error.message}
        </>
      ) : null;
  }
}

/** The job's events in order, as stored: the ground truth of what happened when. */
export function EventTimeline({ events }: { events: readonly unknown[] }) {
  return (
    <ol className="space-y-1 border-l-2 border-zinc-200 pl-4 text-sm dark:border-zinc-700">
      {events.map((raw) => {
        const event = toJobEvent(raw);
        // An event of a type this page does not know has no trusted seq; its JSON is unique enough.
        const key = event ? String(event.seq) : JSON.stringify(raw);
        return (
          <li key={key} data-testid="event" className="flex flex-wrap gap-x-3">
            <time
              dateTime={event?.at ?? undefined}
              title={formatTime(event?.at)}
              className="tabular-nums text-zinc-500"
            >
              {formatClock(event?.at)}
            </time>
            <span className="font-medium">{event ? event.type : "unknown"}</span>
            <span className="text-zinc-700 dark:text-zinc-300">
              {event ? <EventDetails event={event} /> : JSON.stringify(raw)}
            </span>
          </li>
        );
      })}
    </ol>
  );
}
