import { type Clock, systemClock } from "../clock.js";
import { base64AsciiToBytes } from "../image/base64.js";
import { base64TextLength } from "../image/base64-text.js";
import { concatBytes } from "../image/concat-bytes.js";
import { type Base64Source, base64SourceOf } from "../image/json-with-base64.js";
import { sha256Hex } from "../image/sha256-hex.js";
import { byteChunks, type ImageStore, isImageKey, newImageKey, type StoredObject } from "./image-store.js";

/** An `ImageStore` in memory, for tests and short-lived library use. */
export function createMemoryImageStore(options: { clock?: Clock } = {}): ImageStore {
  const clock = options.clock ?? systemClock;
  /** `data` is the image's base64 text when `base64` (kept as it was put, like the file store). */
  const objects = new Map<string, { data: Uint8Array; base64: boolean; meta: StoredObject }>();
  const bytesOf = (object: { data: Uint8Array; base64: boolean }): Uint8Array =>
    object.base64 ? base64AsciiToBytes(object.data) : object.data.slice();
  const put: ImageStore["put"] = async (bytes, { format, prefix }) => {
    const meta = { key: newImageKey(format, prefix), bytes: bytes.length, storedAt: clock.now() };
    objects.set(meta.key, { data: bytes.slice(), base64: false, meta });
    return { ...meta };
  };
  return {
    put,
    async putStream(source, options) {
      // Chunks are copied as they come: a source may reuse its buffer for the next chunk.
      const chunks: Uint8Array[] = [];
      const text = base64TextLength();
      for await (const chunk of byteChunks(source)) {
        chunks.push(chunk.slice());
        text.update(chunk);
      }
      const data = concatBytes(chunks);
      // Digested with SHA-256 too: this store is for tests and small use, where the hash's cost is nothing.
      const sha256 = await sha256Hex(data);
      const base64 = options.base64 === true;
      const meta = {
        key: newImageKey(options.format, options.prefix),
        bytes: base64 ? text.bytes : data.length,
        storedAt: clock.now(),
      };
      objects.set(meta.key, { data, base64, meta });
      return { ...meta, digest: sha256, ...(options.sha256 ? { sha256 } : {}) };
    },
    async get(key) {
      const object = isImageKey(key) ? objects.get(key) : undefined;
      return object && bytesOf(object);
    },
    async stream(key, streamOptions) {
      const object = isImageKey(key) ? objects.get(key) : undefined;
      if (!object) return undefined;
      if (!object.base64) return base64SourceOf(object.data);
      if (!streamOptions?.base64) return base64SourceOf(bytesOf(object));
      // The stored copy is never mutated (a put replaces it), so the stream hands out views of it.
      const text: Base64Source = base64SourceOf(object.data);
      return { bytes: object.meta.bytes, body: text.body, encoded: true };
    },
    async delete(key) {
      return objects.delete(key);
    },
    async *list() {
      for (const { data, meta } of [...objects.values()]) yield { ...meta, bytes: data.length };
    },
  };
}
