import type { ServerResponse } from "node:http";

/** Writes one SSE reply: events as `event:` / `data:` pairs (the JSON carries its own `type`), comments. */
export interface SseWriter {
  event(type: string, payload: Record<string, unknown>): void;
  comment(text: string): void;
  end(): void;
}

export function openSse(res: ServerResponse, headers: Record<string, string>): SseWriter {
  res.writeHead(200, {
    "content-type": "text/event-stream",
    "cache-control": "no-cache",
    connection: "keep-alive",
    ...headers,
  });
  res.flushHeaders();
  return {
    event(type, payload) {
      if (!res.writableEnded && !res.destroyed)
        res.write(`event: ${type}\ndata: ${JSON.stringify({ type, ...payload })}\n\n`);
    },
    comment(text) {
      if (!res.writableEnded && !res.destroyed) res.write(`: ${text}\n\n`);
    },
    end() {
      if (!res.writableEnded && !res.destroyed) res.end();
    },
  };
}
