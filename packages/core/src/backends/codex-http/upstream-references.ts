import { CodexImgError } from "../../errors.js";
import { concatBytes } from "../../image/concat-bytes.js";
import { type Base64Source, base64SourceOf } from "../../image/json-with-base64.js";
import type { NormalizedImageRequest } from "../../request.js";
import { byteChunks } from "../../storage/image-store.js";
import type { ImageFormat, ImageRequest, ImageSink } from "../../types.js";

/** A reference image as an upstream body takes it: what it is, and its bytes as whole base64 quanta. */
export interface UpstreamReference {
  format: ImageFormat;
  width: number;
  height: number;
  /** Opened when the body is written: a stored reference streams from the store, never loaded whole. */
  open(): Promise<Base64Source>;
}

/** The call's references: the request's own bytes first, then the ones in the store (`storedReferences`). */
export function upstreamReferences(
  request: ImageRequest,
  normalized: NormalizedImageRequest,
  sink: ImageSink,
): UpstreamReference[] {
  const inMemory = normalized.referenceImages.map(
    ({ bytes, ...info }): UpstreamReference => ({ ...info, open: async () => base64SourceOf(bytes) }),
  );
  const stored = (request.storedReferences ?? []).map(
    ({ key, format, width, height }): UpstreamReference => ({
      format,
      width,
      height,
      async open() {
        const source = await sink.stream(key);
        if (!source) {
          throw new CodexImgError("invalid_request", "A reference image of this job is no longer stored.", {
            retryable: false,
            details: { param: "image" },
          });
        }
        return source;
      },
    }),
  );
  return [...inMemory, ...stored];
}

/**
 * The references loaded whole, for the `/responses` route (its turn is built as one JSON document and
 * compressed); the native route, the usual one, streams them instead.
 */
export async function loadReferences(
  references: UpstreamReference[],
): Promise<NormalizedImageRequest["referenceImages"]> {
  const loaded: NormalizedImageRequest["referenceImages"] = [];
  for (const { open, ...info } of references) {
    const parts: Uint8Array[] = [];
    for await (const chunk of byteChunks((await open()).body)) parts.push(chunk);
    loaded.push({ ...info, bytes: concatBytes(parts) });
  }
  return loaded;
}
