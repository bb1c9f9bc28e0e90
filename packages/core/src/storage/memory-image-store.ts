import { type Clock, systemClock } from "../clock.js";
import { concatBytes } from "../image/concat-bytes.js";
import { base64SourceOf } from "../image/json-with-base64.js";
import { sha256Hex } from "../image/sha256-hex.js";
import { byteChunks, type ImageStore, isImageKey, newImageKey, type StoredObject } from "./image-store.js";

/** An `ImageStore` in memory, for tests and short-lived library use. */
export function createMemoryImageStore(options: { clock?: Clock } = {}): ImageStore {
  const clock = options.clock ?? systemClock;
  const objects = new Map<string, { data: Uint8Array; meta: StoredObject }>();
  const put: ImageStore["put"] = async (bytes, { format, prefix }) => {
    const meta = { key: newImageKey(format, prefix), bytes: bytes.length, storedAt: clock.now() };
    objects.set(meta.key, { data: bytes.slice(), meta });
    return { ...meta };
  };
  return {
    put,
    async putStream(source, options) {
      // Chunks are copied as they come: a source may reuse its buffer for the next chunk.
      const chunks: Uint8Array[] = [];
      for await (const chunk of byteChunks(source)) chunks.push(chunk.slice());
      const bytes = concatBytes(chunks);
      // Digested with SHA-256 too: this store is for tests and small use, where the hash's cost is nothing.
      const sha256 = await sha256Hex(bytes);
      const stored = await put(bytes, {
        format: options.format,
        ...(options.prefix ? { prefix: options.prefix } : {}),
      });
      return { ...stored, digest: sha256, ...(options.sha256 ? { sha256 } : {}) };
    },
    async get(key) {
      if (!isImageKey(key)) return undefined;
      return objects.get(key)?.data.slice();
    },
    async stream(key) {
      const object = isImageKey(key) ? objects.get(key) : undefined;
      // The stored copy is never mutated (a put replaces it), so the stream can read it without copying.
      return object && base64SourceOf(object.data);
    },
    async delete(key) {
      return objects.delete(key);
    },
    async *list() {
      for (const { meta } of [...objects.values()]) yield { ...meta };
    },
  };
}
