/** Chunked byte streams handled in turn: `count` at a time, in arrival order. */
export interface Lanes {
  /**
   * `chunks`, in turn: when the first chunk is ready the stream waits for a lane and keeps it until it ends
   * (or its reader stops). A stream whose first chunk has not come holds nothing.
   */
  inTurn(chunks: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array, void, undefined>;
}

/**
 * Lanes for bursts of large streams that share the one JavaScript thread (upstream replies to decode and
 * store, edit bodies to encode and send): handled all at once they all finish when the last does and
 * their buffers are all alive together; `count` at a time (0: no limit), the first finish first and the
 * others wait in their sockets. The wait is bounded: a stream that stalls keeps its lane, and past
 * `maxWaitMs` the next one goes ahead without a lane (nothing to hand over at its end).
 */
export function createLanes(count: number, maxWaitMs: number): Lanes {
  let busy = 0;
  const waiting: Array<() => void> = [];
  /** Hands the lane to the next waiting stream, or frees it. */
  const handOver = (): void => {
    const next = waiting.shift();
    if (next) next();
    else busy -= 1;
  };
  const acquire = (): Promise<() => void> => {
    if (count <= 0) return Promise.resolve(() => {});
    if (busy < count) {
      busy += 1;
      return Promise.resolve(once(handOver));
    }
    return new Promise((resolve) => {
      const take = (): void => {
        clearTimeout(timer);
        resolve(once(handOver));
      };
      const timer = setTimeout(() => {
        waiting.splice(waiting.indexOf(take), 1);
        resolve(() => {});
      }, maxWaitMs);
      (timer as { unref?: () => void }).unref?.();
      waiting.push(take);
    });
  };
  return {
    async *inTurn(chunks) {
      let release: (() => void) | undefined;
      try {
        for await (const chunk of chunks) {
          release ??= await acquire();
          yield chunk;
        }
      } finally {
        release?.();
      }
    },
  };
}

function once(action: () => void): () => void {
  let done = false;
  return () => {
    if (done) return;
    done = true;
    action();
  };
}
