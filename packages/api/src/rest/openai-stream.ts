import { isCodexImgError, type Job, type StoredImageRef } from "@codex-img/core";
import type { Context } from "hono";
import { type SSEStreamingApi, streamSSE } from "hono/streaming";
import type { AppEnv } from "../app-env.js";
import { openAiErrorObject } from "../http/openai-error.js";
import { type Base64Of, jsonWithImages } from "../services/json-with-images.js";
import type { ApiServices } from "../services.js";
import { describeImage, jobFailure, jobUsage } from "./openai-images.js";

export interface ImageStreamOptions {
  /** `image_generation.*` for generations, `image_edit.*` for edits. */
  eventPrefix: "image_generation" | "image_edit";
  /** How many partial images the caller asked for (0-3); later ones are not sent. */
  partialImages: number;
  /** The caller's connection: when it goes, the stream stops (and the job is canceled by its submitter). */
  signal: AbortSignal;
}

/** Proxies drop idle connections; an SSE comment keeps a long generation's stream open and is ignored by clients. */
export const KEEPALIVE_MS = 15_000;

/**
 * Streams one job as OpenAI's image streaming events: `<prefix>.partial_image` as the job reports partial
 * images, then `<prefix>.completed` per final image, or an `error` event carrying OpenAI's error object
 * (the SDK raises it as an APIError).
 */
export function streamImageJob(
  c: Context<AppEnv>,
  services: ApiServices,
  job: Job,
  options: ImageStreamOptions,
): Response {
  const { eventPrefix, partialImages, signal } = options;
  return streamSSE(c, async (stream) => {
    const keepalive = setInterval(() => {
      stream.write(": keepalive\n\n").catch(() => undefined);
    }, KEEPALIVE_MS);
    try {
      let sent = 0;
      for await (const event of services.queue.subscribe(job.id, { signal })) {
        if (event.type === "partial_image") {
          if (sent >= partialImages) continue;
          const delivered = await sendImage(
            stream,
            services,
            job,
            event.image,
            `${eventPrefix}.partial_image`,
            { partial_image_index: sent },
          ).catch((error: unknown) => {
            // The runner deletes partials when the job ends; one already gone is simply skipped.
            if (isCodexImgError(error, "internal")) return false;
            throw error;
          });
          if (delivered) sent++;
        } else if (event.type === "succeeded") {
          const usage = jobUsage({ ...job, images: event.images });
          for (const image of event.images) {
            await sendImage(stream, services, job, image, `${eventPrefix}.completed`, { usage });
          }
        } else if (event.type === "failed" || event.type === "canceled") {
          const finished = (await services.queue.get(job.id)) ?? job;
          await sendError(stream, jobFailure(finished));
        }
      }
    } catch (error) {
      if (signal.aborted) return;
      if (!isCodexImgError(error)) services.logger.error("openai stream failed", { jobId: job.id, error });
      await sendError(stream, error).catch(() => undefined);
    } finally {
      clearInterval(keepalive);
    }
  });
}

/** One image event; its `b64_json` is streamed from the stored file into the event's single data line. */
async function sendImage(
  stream: SSEStreamingApi,
  services: ApiServices,
  job: Job,
  image: StoredImageRef,
  type: string,
  extra: Record<string, unknown>,
): Promise<true> {
  await writeImageEvent(stream, services, type, (base64Of) => ({
    type,
    b64_json: base64Of(image.key),
    created_at: Math.floor(services.clock.now() / 1000),
    ...describeImage(job, image),
    ...extra,
  }));
  return true;
}

/**
 * One SSE event whose data line is JSON with stored images streamed into it (`base64Of(key)`), so no
 * event holds a whole image or its base64 string.
 */
export async function writeImageEvent(
  stream: SSEStreamingApi,
  services: ApiServices,
  type: string,
  build: (base64Of: Base64Of) => Record<string, unknown>,
): Promise<void> {
  const event = await jsonWithImages(services.images, "event", build);
  await stream.write(`event: ${type}\ndata: `);
  const reader = event.body.getReader();
  try {
    for (let read = await reader.read(); !read.done; read = await reader.read())
      await stream.write(read.value);
  } catch (error) {
    // The caller went away mid-image: release the file now, not when the collector finds it.
    await reader.cancel().catch(() => undefined);
    throw error;
  }
  await stream.write("\n\n");
}

async function sendError(stream: SSEStreamingApi, error: unknown): Promise<void> {
  await stream.writeSSE({
    event: "error",
    data: JSON.stringify({ type: "error", error: openAiErrorObject(error) }),
  });
}
