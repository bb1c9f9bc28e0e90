const bun = (globalThis as { Bun?: { gc(force: boolean): void } }).Bun;

/**
 * A counter of bytes that leave garbage behind them (chunks copied, inflated, encoded and dropped), which
 * asks Bun for one full collection every `everyBytes`. Bun counts little of that memory (ArrayBuffers,
 * strings built from them) towards its next collection, so under a burst of large images dead buffers pile
 * up by the hundred megabytes before it collects (bench:memory, edits). A full collection costs 10-20 ms
 * of the one thread, so the threshold keeps it to one per several megabytes; small images rarely add up
 * to one. Nothing on other runtimes, whose collectors count these buffers.
 */
export function garbageCounter(everyBytes: number): (bytes: number) => void {
  let since = 0;
  return (bytes) => {
    if (!bun) return;
    since += bytes;
    if (since < everyBytes) return;
    since = 0;
    // Now, between the caller's steps: a collection put off to a timer runs late under load, when the
    // garbage has already piled up.
    bun.gc(true);
  };
}
