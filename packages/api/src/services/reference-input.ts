import {
  CodexImgError,
  fromDataUrlOrBase64,
  fromDataUrlOrBase64Bytes,
  type ImageBytes,
  imageByteLength,
  isCodexImgError,
  REQUEST_LIMITS,
  receivedImage,
  sniffImage,
} from "@codex-img/core";
import { type JsonWithReferences, jsonStringContent } from "../http/json-references.js";

// Reference images as callers send them (files, data URLs, bare base64): shared by REST (OpenAI edits,
// chat) and tRPC (the playground).

/**
 * Checks one reference at the door so the error names which one is wrong; the limits are the same ones
 * the engine enforces again when it takes the job.
 */
export function checkReference<T extends ImageBytes>(image: T, index: number, param: string): T {
  if (imageByteLength(image) > REQUEST_LIMITS.maxReferenceBytes) {
    throw invalidImage(param, `image ${index + 1} is larger than 50 MB`);
  }
  if (!sniffImage(receivedImage(image).head)) {
    throw invalidImage(param, `image ${index + 1} is not a PNG, JPEG or WebP image`);
  }
  return image;
}

/**
 * A reference given as a string: only `data:` URLs and bare base64. Remote URLs are refused rather than
 * fetched, so the server never requests addresses chosen by callers.
 */
export function referenceFromString(
  value: string,
  index: number,
  param: string,
  body?: JsonWithReferences,
): Uint8Array {
  if (REMOTE_URL.test(stringHead(value, body))) {
    throw invalidImage(param, `image ${index + 1}: remote URLs are not fetched; send a data: URL instead`);
  }
  let bytes: Uint8Array;
  try {
    bytes = decodeDataUrlOrBase64(value, body);
  } catch (error) {
    if (isCodexImgError(error)) throw error;
    throw invalidImage(param, `image ${index + 1} is not a valid data: URL or base64 string`);
  }
  return checkReference(bytes, index, param);
}

/**
 * `fromDataUrlOrBase64` of a body's string; when `body` kept it as bytes (a long one), decoded natively
 * from them, with the same outcome: a `TypeError` when it is not base64, or the body's own JSON error
 * when the whole-body parse would have refused the string (a raw control character, a bad escape).
 */
export function decodeDataUrlOrBase64(value: string, body?: JsonWithReferences): Uint8Array {
  const raw = body?.referenceBytes(value);
  if (!raw) return fromDataUrlOrBase64(value);
  // Escapes inside (`\/`, as some encoders write) are rare: such a string takes the string path.
  if (raw.includes(0x5c)) return fromDataUrlOrBase64(jsonStringContent(raw));
  // The decoded copy sits beside the body until the references are stored: it counts against the budget.
  body?.hold(Math.floor((raw.length * 3) / 4));
  try {
    return fromDataUrlOrBase64Bytes(raw);
  } catch (error) {
    jsonStringContent(raw);
    throw error;
  }
}

const REMOTE_URL = /^https?:\/\//i;

/** The start of a string, enough to tell a URL scheme, without decoding a long one whole. */
function stringHead(value: string, body?: JsonWithReferences): string {
  const raw = body?.referenceBytes(value);
  return raw ? new TextDecoder().decode(raw.subarray(0, 16)).replaceAll("\\/", "/") : value;
}

export function invalidImage(param: string, message: string): CodexImgError {
  return new CodexImgError("invalid_request", message, { details: { param } });
}
