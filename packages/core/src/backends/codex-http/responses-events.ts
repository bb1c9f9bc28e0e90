import { asRecord } from "../../json-values.js";
import type { ImageSink, StoredGeneratedImage } from "../../types.js";
import { SseByteReader } from "./sse-byte-reader.js";
import { storeBase64Image } from "./store-base64-image.js";
import { StreamedJsonReader } from "./streamed-json-reader.js";

/** One `/responses` event: its JSON payload (undefined when the data is not JSON), or the `[DONE]` mark. */
export interface ResponsesEvent {
  payload: Record<string, unknown> | undefined;
  done: boolean;
}

/** An image streamed out of an event into the sink, without what the event says about it. */
export type StreamedImage = Omit<StoredGeneratedImage, "revisedPrompt" | "partial">;

/**
 * What the events' `result` values became: the stored image, an error when its bytes were not an image,
 * or undefined for an empty value. Keyed by the placeholder string left in the payload.
 */
export type StreamedResults = Map<string, StreamedImage | Error | undefined>;

/**
 * The `/responses` SSE events read from the body's bytes. Every `result` value (the final image's bare
 * base64 in `response.output_item.done`, and again in `response.completed`'s output) is decoded and
 * written into `sink` while it arrives and replaced by a placeholder that `results` resolves; the rest of
 * each event (a few hundred bytes, or a partial image) is parsed as before. Without a sink (a question
 * about images) nothing is streamed. The caller deletes the stored images it does not keep.
 */
export async function* readResponsesEvents(
  chunks: AsyncIterable<Uint8Array>,
  options: {
    sink?: ImageSink;
    results: StreamedResults;
    maxEventBytes: number;
    tooLarge: () => Error;
    notImage: () => Error;
  },
): AsyncGenerator<ResponsesEvent, void, undefined> {
  const iterator = chunks[Symbol.asyncIterator]();
  const sse = new SseByteReader(iterator);
  const streamKeys: ReadonlySet<string> = options.sink ? RESULT : NONE;
  try {
    while (await sse.nextEvent()) {
      const data: AsyncIterator<Uint8Array> = {
        next: async () => {
          const piece = await sse.nextData();
          return piece === undefined ? { done: true, value: undefined } : { done: false, value: piece };
        },
      };
      const reader = new StreamedJsonReader(data, streamKeys, options.maxEventBytes, options.tooLarge);
      const streamed = new Map<number, StreamedImage | Error | undefined>();
      for (let value = await reader.nextString(); value; value = await reader.nextString()) {
        const sink = options.sink;
        if (!sink) continue;
        let outcome: StreamedImage | Error | undefined;
        try {
          outcome = await storeBase64Image(() => reader.nextPiece(), sink, {
            notImage: options.notImage,
            cutShort: () => undefined,
          });
        } catch (error) {
          // Not an image: known only when an image item claims it (other `result`s are not ours).
          outcome = error instanceof Error ? error : new Error(String(error));
        }
        streamed.set(value.index, outcome);
      }
      for (const [index, outcome] of streamed) options.results.set(reader.placeholder(index), outcome);
      yield {
        payload: asRecord(reader.document()?.value),
        done: streamed.size === 0 && reader.keptText().trim() === "[DONE]",
      };
    }
  } finally {
    await iterator.return?.(undefined).catch(() => undefined);
  }
}

const RESULT: ReadonlySet<string> = new Set(["result"]);
const NONE: ReadonlySet<string> = new Set();
