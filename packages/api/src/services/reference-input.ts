import { CodexImgError, fromDataUrlOrBase64, REQUEST_LIMITS, sniffImage } from "@codex-img/core";

// Reference images as callers send them (files, data URLs, bare base64): shared by REST (OpenAI edits,
// chat) and tRPC (the playground).

/**
 * Checks one reference at the door so the error names which one is wrong; the limits are the same ones
 * the engine enforces again when it takes the job.
 */
export function checkReference(bytes: Uint8Array, index: number, param: string): Uint8Array {
  if (bytes.length > REQUEST_LIMITS.maxReferenceBytes) {
    throw invalidImage(param, `image ${index + 1} is larger than 50 MB`);
  }
  if (!sniffImage(bytes)) throw invalidImage(param, `image ${index + 1} is not a PNG, JPEG or WebP image`);
  return bytes;
}

/**
 * A reference given as a string: only `data:` URLs and bare base64. Remote URLs are refused rather than
 * fetched, so the server never requests addresses chosen by callers.
 */
export function referenceFromString(value: string, index: number, param: string): Uint8Array {
  if (/^https?:\/\//i.test(value)) {
    throw invalidImage(param, `image ${index + 1}: remote URLs are not fetched; send a data: URL instead`);
  }
  let bytes: Uint8Array;
  try {
    bytes = fromDataUrlOrBase64(value);
  } catch {
    throw invalidImage(param, `image ${index + 1} is not a valid data: URL or base64 string`);
  }
  return checkReference(bytes, index, param);
}

export function invalidImage(param: string, message: string): CodexImgError {
  return new CodexImgError("invalid_request", message, { details: { param } });
}
