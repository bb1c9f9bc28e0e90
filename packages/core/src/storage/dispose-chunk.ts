/**
 * Chunks whose buffer belongs to one reader and is dead once it has read them: the receive buffers of an
 * upstream reply on Bun's sockets. Bun hands a fresh buffer for every read, 2 MB for a 1.5 MB image, and
 * frees none of them before a full collection, which it runs late for memory it does not count: at
 * concurrency 32 they were the peak of the server's memory (docs/performance.md). The reader that is done
 * with such a chunk frees its buffer at once (`disposeChunk`): detaching it (`ArrayBuffer.transfer(0)`)
 * releases its memory to the allocator, which hands it to the next read.
 *
 * A buffer is marked by its last view (`markDisposable`): its earlier views (a chunked reply's pieces) are
 * read first, so when the last one is done, every one is.
 */
const disposable = new WeakSet<Uint8Array>();

/** `chunk` is the last view of a buffer nothing else holds: the reader may free it once done with it. */
export function markDisposable(chunk: Uint8Array): void {
  disposable.add(chunk);
}

/** Frees the buffer of a chunk marked by `markDisposable` (and that chunk's only); nothing otherwise. */
export function disposeChunk(chunk: Uint8Array): void {
  if (!disposable.delete(chunk)) return;
  const buffer = chunk.buffer as ArrayBuffer & { transfer?: (length: number) => ArrayBuffer };
  buffer.transfer?.(0);
}
