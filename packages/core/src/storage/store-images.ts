import type { GeneratedImage, ImageSink, StoredGeneratedImage } from "../types.js";
import { singleChunk } from "./image-store.js";

/**
 * Images already in memory written into a sink, as `generateInto` writes streamed ones: for backends that
 * read their images whole. If one write fails, the ones written before it are deleted.
 */
export async function storeImages(
  sink: ImageSink,
  images: GeneratedImage[],
): Promise<StoredGeneratedImage[]> {
  const stored: StoredGeneratedImage[] = [];
  try {
    for (const { bytes, ...image } of images) {
      const object = await sink.putStream(singleChunk(bytes), { format: image.format, prefix: "img" });
      stored.push({ ...image, stored: object });
    }
    return stored;
  } catch (error) {
    await Promise.all(stored.map((image) => sink.delete(image.stored.key).catch(() => false)));
    throw error;
  }
}
