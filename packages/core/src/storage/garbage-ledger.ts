/**
 * Bytes of garbage made since the last collection (chunks received and dropped, a reference's copy, the
 * pixels inflated to verify it, an upstream body's encoded chunks), all requests and all sources
 * together, and one full collection every `everyBytes` of them.
 *
 * Why by hand: Bun counts little of that memory (ArrayBuffers made natively, strings built from them)
 * towards its next collection, so under a burst of large images dead buffers pile up by the hundred
 * megabytes before it collects (bench:memory: edits, flood). A full collection costs 10-20 ms of the one
 * thread whatever it finds, so one ledger for every source: a collection that one source asked for
 * settles the others' garbage too, and none is run for a few megabytes that another just collected.
 */
export interface GarbageLedger {
  /** Records `bytes` of garbage just made; collects now when the ledger reaches its threshold. */
  note(bytes: number): void;
}

export function createGarbageLedger(options: { everyBytes: number; collect: () => void }): GarbageLedger {
  let since = 0;
  return {
    note(bytes) {
      since += bytes;
      if (since < options.everyBytes) return;
      since = 0;
      // Now, between the caller's steps: a collection put off to a timer runs late under load, when the
      // garbage has already piled up.
      options.collect();
    },
  };
}

/**
 * Garbage between two collections of the process-wide ledger. bench:memory: at 12 or 16 MiB the flood
 * peaked ~60 MiB higher in a quarter of its runs (a large body's dead chunks outlived the burst); at 8 MiB
 * it stays where the door's own collections kept it, and the edits cost ~40 % less server CPU than the two
 * triggers this ledger replaced.
 */
export const GARBAGE_COLLECT_EVERY_BYTES = 8 * 2 ** 20;

const bun = (globalThis as { Bun?: { gc(force: boolean): void } }).Bun;

/**
 * The process's ledger: a full synchronous collection on Bun; nothing on other runtimes, whose collectors
 * count these buffers.
 */
const processLedger: GarbageLedger | undefined = bun
  ? createGarbageLedger({ everyBytes: GARBAGE_COLLECT_EVERY_BYTES, collect: () => bun.gc(true) })
  : undefined;

/** Records `bytes` of garbage just made in the process-wide ledger (see `createGarbageLedger`). */
export function noteGarbage(bytes: number): void {
  processLedger?.note(bytes);
}
