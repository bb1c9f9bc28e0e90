/**
 * Default longest wait for a lane. A reply holds its lane while its body arrives, and a body that stalls
 * halfway (a slow network) must not hold every other reply back: past this, a waiting reply goes ahead
 * without one. Reading a whole reply takes a few milliseconds to a few tens (8 MB), so under any load the
 * server keeps up with, no reply waits this long.
 */
export const REPLY_LANE_MAX_WAIT_MS = 2_000;

/** Upstream replies read in turn. */
export interface ReplyLanes {
  /**
   * `chunks`, read in turn: when the first chunk has arrived, the reply waits for a lane and keeps it until
   * its body ends (or the reader stops). A reply whose body has not started holds nothing.
   */
  inTurn(chunks: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array, void, undefined>;
}

/**
 * Replies of image calls arrive in bursts (a client's parallel requests, answered together), and reading
 * one is work for the one JavaScript thread: decoding, hashing, writing. Read all at once, they share the
 * thread and all finish when the last does; read `lanes` at a time (default 1) in arrival order, the first
 * is stored and answered while the others wait, so the median caller waits about half as long for the same
 * CPU. The waiting replies stay in the socket, not in memory. `lanes` 0 reads every reply at once.
 */
export function createReplyLanes(lanes = 1, maxWaitMs = REPLY_LANE_MAX_WAIT_MS): ReplyLanes {
  let busy = 0;
  const waiting: Array<() => void> = [];
  /** Hands the lane to the next waiting reply, or frees it. */
  const handOver = (): void => {
    const next = waiting.shift();
    if (next) next();
    else busy -= 1;
  };
  const acquire = (): Promise<() => void> => {
    if (lanes <= 0) return Promise.resolve(() => {});
    if (busy < lanes) {
      busy += 1;
      return Promise.resolve(once(handOver));
    }
    return new Promise((resolve) => {
      const take = (): void => {
        clearTimeout(timer);
        resolve(once(handOver));
      };
      const timer = setTimeout(() => {
        // Waited too long: go ahead without a lane (nothing to hand over at the end).
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
