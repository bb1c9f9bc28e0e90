import type { EventsOptions } from "./codex-img-client.js";
import { CodexImgClientError, errorFromTrpc } from "./errors.js";
import { networkError } from "./network-error.js";
import { readSse } from "./sse.js";
import type { JobEventView } from "./types.js";

const MAX_EVENT_RECONNECTS = 5;

/**
 * A job's events from `GET /v1/images/jobs/{id}/events`, resumed after the last one seen (`last-event-id`)
 * when a proxy or a restart cuts the stream, a few times with a growing pause; ends after the final event.
 */
export async function* jobEventStream(
  send: (path: string, init?: RequestInit) => Promise<Response>,
  baseUrl: string,
  id: string,
  options: EventsOptions = {},
): AsyncGenerator<JobEventView> {
  let last = options.afterSeq ?? 0;
  let reconnects = 0;
  for (;;) {
    const response = await send(`/v1/images/jobs/${encodeURIComponent(id)}/events`, {
      headers: { accept: "text/event-stream", ...(last > 0 ? { "last-event-id": String(last) } : {}) },
      ...(options.signal ? { signal: options.signal } : {}),
    });
    if (!response.body) throw new CodexImgClientError("internal", "The event stream has no body.");
    try {
      for await (const message of readSse(response.body)) {
        if (message.event === "error") throw streamError(message.data, id);
        const event = JSON.parse(message.data) as JobEventView;
        last = event.seq;
        reconnects = 0;
        yield event;
        if (event.type === "succeeded" || event.type === "failed" || event.type === "canceled") return;
      }
    } catch (error) {
      if (error instanceof CodexImgClientError) throw error;
      if (options.signal?.aborted) throw networkError(baseUrl, error, options.signal);
      // A proxy or a restart cut the stream: resume after the last event we saw.
    }
    if (++reconnects > MAX_EVENT_RECONNECTS) {
      throw new CodexImgClientError("unreachable", `The event stream of ${id} kept closing early.`);
    }
    await new Promise((resolve) => setTimeout(resolve, 200 * reconnects));
  }
}

function streamError(data: string, jobId: string): CodexImgClientError {
  try {
    const parsed = JSON.parse(data) as { error?: { code?: string; message?: string } };
    return errorFromTrpc({
      message: parsed.error?.message ?? "The event stream failed.",
      data: { code: parsed.error?.code },
    });
  } catch {
    return new CodexImgClientError("internal", `The event stream of ${jobId} failed.`, { jobId });
  }
}
