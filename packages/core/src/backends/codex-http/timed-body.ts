import { CodexImgError } from "../../errors.js";
import { concatBytes } from "../../image/index.js";
import type { CallTimer } from "./call-timer.js";

/**
 * The reply body chunk by chunk; every chunk restarts the idle countdown, and a stopped call ends the
 * read at once. Leaving early cancels the body so the connection is released.
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
      if (value && value.length > 0) yield value;
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

/**
 * The whole reply body as bytes, read under the call's timeouts and refused past `maxBytes` (an upstream
 * that never stops sending must not fill the server's memory). With a declared length the bytes are
 * written into one buffer as they arrive, so the chunks are garbage at once instead of being held until
 * a final copy (half the peak memory per reply).
 */
export async function readTimedBytes(
  body: ReadableStream<Uint8Array> | null,
  timer: CallTimer,
  maxBytes: number,
  declaredLength?: number,
): Promise<Uint8Array> {
  const tooLarge = (): CodexImgError =>
    new CodexImgError("upstream_failed", `The upstream reply is larger than ${maxBytes} bytes.`, {
      details: { accountFault: false },
    });
  const known = declaredLength !== undefined && Number.isSafeInteger(declaredLength) && declaredLength >= 0;
  if (known && declaredLength > maxBytes) throw tooLarge();
  const buffer = known ? new Uint8Array(declaredLength) : undefined;
  const parts: Uint8Array[] = [];
  let total = 0;
  let written = 0;
  for await (const chunk of timedChunks(body, timer)) {
    total += chunk.length;
    if (total > maxBytes) throw tooLarge();
    if (buffer && parts.length === 0 && total <= buffer.length) {
      buffer.set(chunk, written);
      written = total;
    } else parts.push(chunk);
  }
  // A reply that was not its declared length (compressed by a proxy, cut) is taken as it came.
  if (buffer && written === buffer.length && parts.length === 0) return buffer;
  if (buffer) parts.unshift(buffer.subarray(0, written));
  return parts.length === 1 && parts[0] ? parts[0] : concatBytes(parts);
}
