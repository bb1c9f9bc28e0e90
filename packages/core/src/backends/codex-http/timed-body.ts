import { disposeChunk } from "../../storage/dispose-chunk.js";
import type { CallTimer } from "./call-timer.js";

/**
 * The reply body chunk by chunk; every chunk restarts the idle countdown, and a stopped call ends the
 * read at once. Leaving early cancels the body so the connection is released. A chunk is valid until the
 * next one is asked for: then its buffer is freed when the fetch marked it so (`disposeChunk`).
 */
export async function* timedChunks(
  body: ReadableStream<Uint8Array> | null,
  timer: CallTimer,
): AsyncGenerator<Uint8Array, void, undefined> {
  if (!body) return;
  const reader = body.getReader();
  let finished = false;
  try {
    for (;;) {
      const { done, value } = await timer.race(reader.read());
      if (done) {
        finished = true;
        return;
      }
      timer.touch();
      if (value && value.length > 0) {
        yield value;
        disposeChunk(value);
      }
    }
  } finally {
    if (!finished) reader.cancel().catch(() => {});
    try {
      reader.releaseLock();
    } catch {
      // Older runtimes refuse while a read is pending; the cancel above already freed the stream.
    }
  }
}

/** The whole reply body as text, read under the call's timeouts. */
export async function readTimedText(
  body: ReadableStream<Uint8Array> | null,
  timer: CallTimer,
): Promise<string> {
  const decoder = new TextDecoder();
  let text = "";
  for await (const chunk of timedChunks(body, timer)) text += decoder.decode(chunk, { stream: true });
  return text + decoder.decode();
}
