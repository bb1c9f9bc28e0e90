import { CodexImgError, type ImageStore, type JsonWithBase64, jsonWithBase64 } from "@codex-img/core";

/** Writes a stored image's base64 into a JSON value being built; returns the placeholder to put there. */
export type Base64Of = (key: string) => string;

/**
 * Bun's `Response` and Hono's SSE writer take string chunks and write their bytes straight to the socket,
 * so on Bun a reply's base64 goes out as the strings the encoder made, without a byte copy of each (a
 * third less CPU for the reply of a 1.5 MB image in a probe). Node's `Response` wants bytes.
 */
const WRITES_TEXT_CHUNKS = "Bun" in globalThis;

/**
 * A JSON reply whose `base64Of(key)` placeholders are stored images, streamed from the store and
 * encoded chunk by chunk (`jsonWithBase64`): no reply holds a whole image or its base64 string. A stored
 * image that is missing is our fault, never the caller's: `internal`, before any byte is sent.
 */
export function jsonWithImages(
  images: ImageStore,
  build: (base64Of: Base64Of) => unknown,
): Promise<JsonWithBase64<Uint8Array | string>> {
  return jsonWithBase64(
    build,
    async (key: string) => {
      // Each chunk is encoded before the next is read: the store may read them all into one buffer.
      const image = await images.stream(key, { transient: true });
      if (!image) throw new CodexImgError("internal", `Stored image ${key} is missing.`);
      return image;
    },
    { text: WRITES_TEXT_CHUNKS },
  );
}
