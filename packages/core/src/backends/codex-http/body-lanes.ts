import { noteGarbage } from "../../storage/garbage-ledger.js";
import { byteChunks } from "../../storage/image-store.js";
import { createLanes } from "./lanes.js";

/** Upstream request bodies sent in turn. */
export interface BodyLanes {
  /**
   * `body` as it is sent: once its first chunk is ready it waits for a lane and keeps it until the body
   * ends or is cancelled (cancelling this stream cancels `body`). A body never read holds nothing.
   */
  inTurn(body: ReadableStream<Uint8Array>): ReadableStream<Uint8Array>;
}

export interface BodyLaneOptions {
  /** Bodies sent at once. Default 2; 0 sends every body as it comes. */
  lanes?: number;
  /** Longest wait for a lane, after which a body goes ahead without one. Default 30,000 ms. */
  maxWaitMs?: number;
}

export const BODY_LANE_DEFAULTS = { lanes: 2, maxWaitMs: 30_000 } as const;

/**
 * An edit's upstream body is tens of megabytes of base64 (4 references of 5 MB: 27 MB), encoded chunk by
 * chunk from the image store while it is sent. Each chunk is a fresh string and a fresh buffer, garbage
 * once written, which Bun barely counts towards its next collection: 50 edits sending at once piled
 * hundreds of megabytes of dead chunks (bench:memory, edits). So bodies are sent `lanes` at a time (they
 * share one uplink and one thread to encode them, so the last call ends about as soon, and the first ones
 * sooner) and what they leave is noted in the garbage ledger (`noteGarbage`). The wait is bounded: a
 * body whose peer stops reading keeps its lane, and past `maxWaitMs` the next body goes ahead without one
 * (well inside the call's idle timeout, which runs meanwhile).
 */
export function createBodyLanes(options: BodyLaneOptions = {}): BodyLanes {
  const { lanes, maxWaitMs } = { ...BODY_LANE_DEFAULTS, ...options };
  const turns = createLanes(lanes, maxWaitMs);
  return {
    inTurn(body) {
      // Returning early from `byteChunks` cancels `body` (whatever it reads from is closed).
      const chunks = turns.inTurn(byteChunks(body));
      return new ReadableStream<Uint8Array>(
        {
          async pull(controller) {
            const next = await chunks.next();
            if (next.done) {
              controller.close();
              return;
            }
            controller.enqueue(next.value);
            // Each chunk sent was encoded for it and is garbage once written. Its bytes are noted once:
            // noting the base64 string it was made from too cost ~40 % more server CPU for ~5 % less peak
            // (bench:memory, edits).
            noteGarbage(next.value.length);
          },
          async cancel() {
            // Ends the turn: `body` is cancelled and the lane freed.
            await chunks.return(undefined);
          },
        },
        // Nothing read ahead: a chunk is encoded when the socket asks for it.
        { highWaterMark: 0 },
      );
    },
  };
}
