import {
  bytesToBase64,
  CodexImgError,
  fromDataUrlOrBase64,
  type ImageFormat,
  type Job,
  REQUEST_LIMITS,
  type StoredImageRef,
  sniffImage,
} from "@codex-img/core";
import { imageUrl } from "../services/image-urls.js";
import type { ApiServices } from "../services.js";

/** Usage as OpenAI reports it; the subscription tells us no token counts, so they are zeros. */
export interface OpenAiImageUsage {
  input_tokens: number;
  output_tokens: number;
  total_tokens: number;
  input_tokens_details: { text_tokens: number; image_tokens: number };
}

export interface OpenAiImageData {
  b64_json?: string;
  url?: string;
  /** Extension next to `url`: when the file goes away. */
  expires_at?: string;
  revised_prompt: string;
}

/** `ImagesResponse` of the OpenAI Images API. */
export interface OpenAiImagesResponse {
  created: number;
  data: OpenAiImageData[];
  background: string;
  output_format: ImageFormat;
  quality: string;
  size: string;
  usage: OpenAiImageUsage;
}

export type ResponseFormat = "b64_json" | "url";

export function zeroUsage(): OpenAiImageUsage {
  return {
    input_tokens: 0,
    output_tokens: 0,
    total_tokens: 0,
    input_tokens_details: { text_tokens: 0, image_tokens: 0 },
  };
}

/**
 * Fields describing what was delivered. Size and format come from the image bytes (the subscription
 * normalises sizes); quality and background are what the job asked for, since nothing reports what upstream
 * really used.
 */
export function describeImage(
  job: Job,
  image: Pick<StoredImageRef, "width" | "height" | "format"> | undefined,
): { size: string; output_format: ImageFormat; quality: string; background: string } {
  return {
    size: image ? `${image.width}x${image.height}` : job.request.size,
    output_format: image?.format ?? job.request.outputFormat,
    quality: job.request.quality,
    background: job.request.background,
  };
}

/** The bytes of a stored image the job just produced; missing bytes are our fault, never the caller's. */
export async function readStoredImage(services: ApiServices, image: StoredImageRef): Promise<Uint8Array> {
  const bytes = await services.images.get(image.key);
  if (!bytes) throw new CodexImgError("internal", `Stored image ${image.key} is missing.`);
  return bytes;
}

/** The synchronous reply for a succeeded job. */
export async function imagesResponse(
  services: ApiServices,
  job: Job,
  responseFormat: ResponseFormat,
): Promise<OpenAiImagesResponse> {
  const data: OpenAiImageData[] = [];
  for (const image of job.images) {
    const revised_prompt = image.revisedPrompt ?? job.request.prompt;
    if (responseFormat === "url") {
      const { url, expires_at } = await imageUrl(services, image, job);
      data.push({ url, expires_at, revised_prompt });
    } else {
      data.push({ b64_json: bytesToBase64(await readStoredImage(services, image)), revised_prompt });
    }
  }
  return {
    created: Math.floor((job.finishedAt ?? services.clock.now()) / 1000),
    data,
    ...describeImage(job, job.images[0]),
    usage: zeroUsage(),
  };
}

/** The error a finished-but-unsuccessful job stands for, with its code, retry hint and details. */
export function jobFailure(job: Job): CodexImgError {
  if (job.error) {
    return new CodexImgError(job.error.code, job.error.message, {
      ...(job.error.retryAfterMs === undefined ? {} : { retryAfterMs: job.error.retryAfterMs }),
      details: { ...job.error.details, jobId: job.id },
    });
  }
  if (job.state === "canceled") return new CodexImgError("canceled", `Job ${job.id} was canceled.`);
  if (job.state === "expired") return new CodexImgError("not_found", `The images of job ${job.id} expired.`);
  return new CodexImgError("internal", `Job ${job.id} ended as ${job.state} without an error.`);
}

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
