import type { ImageSink, StoredGeneratedImage } from "../../types.js";
import { type NativeImagesReply, parseImagesResponse } from "./native-route.js";
import { storeBase64Image } from "./store-base64-image.js";
import { StreamedJsonReader } from "./streamed-json-reader.js";

export interface NativeReplyErrors {
  /** The reply passed the size limit. */
  tooLarge: () => Error;
  /** An image's bytes are not a PNG, JPEG or WebP image. */
  notImage: () => Error;
  /** The reply is not the ImagesResponse shape, has no image, or ended inside one. */
  noImage: () => Error;
}

/**
 * Reads the native route's ImagesResponse from its body chunks as they arrive: each `b64_json` is decoded
 * and written into `sink` while it streams (never held whole, never a JS string), the few other fields
 * are parsed at the end. On any failure the images already stored are deleted before the error goes on.
 */
export async function readNativeReply(
  chunks: AsyncIterable<Uint8Array>,
  sink: ImageSink,
  maxBytes: number,
  errors: NativeReplyErrors,
): Promise<Omit<NativeImagesReply, "images"> & { images: StoredGeneratedImage[] }> {
  const iterator = chunks[Symbol.asyncIterator]();
  const reader = new StreamedJsonReader(iterator, B64_JSON, maxBytes, errors.tooLarge);
  const stored = new Map<number, Omit<StoredGeneratedImage, "revisedPrompt">>();
  try {
    for (let value = await reader.nextString(); value; value = await reader.nextString()) {
      const image = await storeBase64Image(() => reader.nextPiece(), sink, {
        notImage: errors.notImage,
        cutShort: () => (reader.cutShort ? errors.noImage() : undefined),
      });
      if (image) stored.set(value.index, image);
    }
    const reply = parseImagesResponse(reader.document());
    const images: StoredGeneratedImage[] = [];
    for (const item of reply?.images ?? []) {
      const image = stored.get(item.streamed);
      if (image)
        images.push(
          item.revisedPrompt === undefined ? image : { ...image, revisedPrompt: item.revisedPrompt },
        );
    }
    if (!reply || images.length === 0) throw errors.noImage();
    // Stored but not among the reply's images (a `b64_json` outside `data`): not ours to keep.
    const used = new Set(images.map((image) => image.stored.key));
    await Promise.all(
      [...stored.values()]
        .filter((image) => !used.has(image.stored.key))
        .map((image) => sink.delete(image.stored.key)),
    );
    return { ...reply, images };
  } catch (error) {
    await Promise.all([...stored.values()].map((image) => sink.delete(image.stored.key).catch(() => false)));
    throw error;
  } finally {
    // Leaving early (an error) cancels the body so the connection is released.
    await iterator.return?.(undefined).catch(() => undefined);
  }
}

const B64_JSON: ReadonlySet<string> = new Set(["b64_json"]);
