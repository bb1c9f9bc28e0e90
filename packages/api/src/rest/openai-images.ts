import {
  CodexImgError,
  type ImageFormat,
  type Job,
  type JsonWithBase64,
  type StoredImageRef,
} from "@codex-img/core";
import type { Context } from "hono";
import type { AppEnv } from "../app-env.js";
import { imageUrl } from "../services/image-urls.js";
import { jsonWithImages } from "../services/json-with-images.js";
import type { ApiServices } from "../services.js";

/** Usage as OpenAI reports it: what upstream reported for the job's calls, zeros where it reported none. */
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

export function jobUsage(job: Job): OpenAiImageUsage {
  const sum = { input: 0, output: 0, total: 0, text: 0, image: 0 };
  for (const image of job.images) {
    const usage = image.reported?.usage;
    if (!usage) continue;
    sum.input += usage.inputTokens;
    sum.output += usage.outputTokens;
    sum.total += usage.totalTokens;
    sum.text += usage.inputTextTokens ?? 0;
    sum.image += usage.inputImageTokens ?? 0;
  }
  return {
    input_tokens: sum.input,
    output_tokens: sum.output,
    total_tokens: sum.total,
    input_tokens_details: { text_tokens: sum.text, image_tokens: sum.image },
  };
}

/**
 * Fields describing what was delivered. Size and format come from the image bytes (the subscription
 * normalises sizes); quality and background are what upstream reported for the image (it serves `high`
 * as `medium`), else what the job asked for.
 */
export function describeImage(
  job: Job,
  image: Pick<StoredImageRef, "width" | "height" | "format" | "reported"> | undefined,
): { size: string; output_format: ImageFormat; quality: string; background: string } {
  return {
    size: image ? `${image.width}x${image.height}` : job.request.size,
    output_format: image?.format ?? job.request.outputFormat,
    quality: image?.reported?.quality ?? job.request.quality,
    background: image?.reported?.background ?? job.request.background,
  };
}

/**
 * The synchronous reply for a succeeded job, an `OpenAiImagesResponse` whose `b64_json` fields are
 * streamed from the stored files (a missing file is our fault, never the caller's: `internal`).
 */
export async function imagesReply(
  c: Context<AppEnv>,
  services: ApiServices,
  job: Job,
  responseFormat: ResponseFormat,
): Promise<Response> {
  const urls =
    responseFormat === "url"
      ? await Promise.all(job.images.map((image) => imageUrl(services, image, job)))
      : undefined;
  const reply = await jsonWithImages(
    services.images,
    "response",
    (base64Of): OpenAiImagesResponse => ({
      created: Math.floor((job.finishedAt ?? services.clock.now()) / 1000),
      data: job.images.map((image, index): OpenAiImageData => {
        const revised_prompt = image.revisedPrompt ?? job.request.prompt;
        const link = urls?.[index];
        return link
          ? { url: link.url, expires_at: link.expires_at, revised_prompt }
          : { b64_json: base64Of(image.key), revised_prompt };
      }),
      ...describeImage(job, job.images[0]),
      usage: jobUsage(job),
    }),
  );
  return streamedJson(c, reply);
}

/** A streamed JSON reply; the headers already set on `c` (job id, warnings) are kept. */
export function streamedJson(c: Context<AppEnv>, reply: JsonWithBase64<Uint8Array | string>): Response {
  return c.body(reply.body, 200, {
    "Content-Type": "application/json",
    "Content-Length": String(reply.length),
  });
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
