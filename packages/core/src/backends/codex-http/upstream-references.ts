import { CodexImgError } from "../../errors.js";
import { type Base64Source, base64SourceOf } from "../../image/json-with-base64.js";
import type { NormalizedImageRequest } from "../../request.js";
import type { ImageFormat, ImageRequest, ImageSink } from "../../types.js";

/** A reference image as an upstream body takes it: what it is, and its bytes as whole base64 quanta. */
export interface UpstreamReference {
  format: ImageFormat;
  width: number;
  height: number;
  /** Opened when the body is written: a stored reference streams from the store, never loaded whole. */
  open(): Promise<Base64Source>;
}

/** A reference given as bytes, opened as a view of them (no copy). */
export function inMemoryReference({
  bytes,
  ...info
}: NormalizedImageRequest["referenceImages"][number]): UpstreamReference {
  return { ...info, open: async () => base64SourceOf(bytes) };
}

/** The call's references: the request's own bytes first, then the ones in the store (`storedReferences`). */
export function upstreamReferences(
  request: ImageRequest,
  normalized: NormalizedImageRequest,
  sink: ImageSink,
): UpstreamReference[] {
  const inMemory = normalized.referenceImages.map(inMemoryReference);
  const stored = (request.storedReferences ?? []).map(
    ({ key, format, width, height }): UpstreamReference => ({
      format,
      width,
      height,
      async open() {
        // Encoded chunk by chunk into the request body (`jsonWithBase64`): the store may reuse its buffer.
        const source = await sink.stream(key, { transient: true, base64: true });
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
