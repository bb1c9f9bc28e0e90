import { CodexImgError, type ImageStore, type JsonWithBase64, jsonWithBase64 } from "@codex-img/core";

/** Writes a stored image's base64 into a JSON value being built; returns the placeholder to put there. */
export type Base64Of = (key: string) => string;

/**
 * On Bun, a reply body is Bun's direct stream: each chunk is written into the connection as it is made,
 * so an image kept as base64 goes out from the store's one reused buffer and leaves no garbage, and an
 * image kept as bytes goes out as the strings the encoder made. Hono's SSE writer takes strings, which it
 * writes without a byte copy of each (a third less CPU for a 1.5 MB image in a probe). Node wants bytes.
 */
const ON_BUN = "Bun" in globalThis;

/** Where a JSON document with images goes: a `Response` body, or the data of an SSE event. */
export type JsonImagesUse = "response" | "event";

/**
 * A JSON reply whose `base64Of(key)` placeholders are stored images, streamed from the store and
 * encoded chunk by chunk (`jsonWithBase64`): no reply holds a whole image or its base64 string. A stored
 * image that is missing is our fault, never the caller's: `internal`, before any byte is sent.
 */
export function jsonWithImages(
  images: ImageStore,
  use: JsonImagesUse,
  build: (base64Of: Base64Of) => unknown,
): Promise<JsonWithBase64<Uint8Array | string>> {
  return jsonWithBase64(
    build,
    async (key: string) => {
      // Each chunk is encoded before the next is read: the store may read them all into one buffer. An
      // image kept as base64 (every one the Codex backend made) is sent as its text, never encoded again.
      const image = await images.stream(key, { transient: true, base64: true });
      if (!image) throw new CodexImgError("internal", `Stored image ${key} is missing.`);
      return image;
    },
    { chunks: !ON_BUN ? "bytes" : use === "response" ? "direct" : "text" },
  );
}
