import {
  CodexImgError,
  type ImageRequest,
  isCodexImgError,
  REQUEST_LIMITS,
  sniffImage,
} from "@codex-img/core";
import { z } from "@hono/zod-openapi";
import type { JsonWithReferences } from "../http/json-references.js";
import { decodeDataUrlOrBase64 } from "../services/reference-input.js";

/** The predecessor's body rules (interfaces.md §1), plus `auto` for size. Unknown fields are ignored, as pydantic did. */
export const PredecessorImageBody = z.object({
  prompt: z.string().min(1).max(REQUEST_LIMITS.promptMaxChars),
  size: z
    .string()
    .regex(/^(auto|\d{3,4}x\d{3,4})$/, { message: 'size must be "auto" or WIDTHxHEIGHT (e.g. 1024x1024)' })
    .default("1024x1024"),
  quality: z.enum(["low", "medium", "high", "auto"]).default("medium"),
  count: z.number().int().min(1).max(4).default(1),
  reference_images_base64: z.array(z.string()).max(REQUEST_LIMITS.maxReferenceImages).nullish(),
  reference_image_base64: z.string().nullish(),
});
export type PredecessorImageBody = z.infer<typeof PredecessorImageBody>;

/** Where the predecessor's body carries reference images (kept as bytes while read). */
export const PREDECESSOR_REFERENCES = ["reference_images_base64.*", "reference_image_base64"];

/**
 * The predecessor's fields as an engine request, and its references decoded and sniffed here, at the door
 * (to be staged in the image store: the request itself carries none).
 */
export function predecessorImageRequest(
  body: PredecessorImageBody,
  json?: JsonWithReferences,
): {
  request: Omit<ImageRequest, "referenceImages">;
  references: Uint8Array[];
  referenceParam: string;
} {
  const list = body.reference_images_base64;
  const referenceParam = list?.length ? "reference_images_base64" : "reference_image_base64";
  const sources = list?.length ? list : body.reference_image_base64 ? [body.reference_image_base64] : [];
  const references = sources.map((source, index) => {
    const label = sources.length > 1 ? `reference image ${index + 1}` : "the reference image";
    let bytes: Uint8Array;
    try {
      bytes = decodeDataUrlOrBase64(source, json);
    } catch (error) {
      if (isCodexImgError(error)) throw error;
      throw invalid(referenceParam, `${label} is not valid base64`);
    }
    if (bytes.length > REQUEST_LIMITS.maxReferenceBytes) {
      throw invalid(
        referenceParam,
        `${label} is larger than ${REQUEST_LIMITS.maxReferenceBytes / 1024 / 1024} MB`,
      );
    }
    if (!sniffImage(bytes)) throw invalid(referenceParam, `${label} is not a PNG, JPEG or WebP image`);
    return bytes;
  });
  return {
    request: {
      prompt: body.prompt,
      size: body.size as ImageRequest["size"],
      quality: body.quality,
      // The predecessor made one composed image from references whatever `count` said.
      n: references.length > 0 ? 1 : body.count,
    },
    references,
    referenceParam,
  };
}

function invalid(param: string, message: string): CodexImgError {
  return new CodexImgError("invalid_request", message, { details: { param } });
}
