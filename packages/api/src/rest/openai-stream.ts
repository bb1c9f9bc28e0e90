import { bytesToBase64, isCodexImgError, type Job, type StoredImageRef } from "@codex-img/core";
import type { Context } from "hono";
import { type SSEStreamingApi, streamSSE } from "hono/streaming";
import type { AppEnv } from "../app-env.js";
import { openAiErrorObject } from "../http/openai-error.js";
import type { ApiServices } from "../services.js";
import { describeImage, jobFailure, readStoredImage, zeroUsage } from "./openai-images.js";

export interface ImageStreamOptions {
  /** `image_generation.*` for generations, `image_edit.*` for edits. */
  eventPrefix: "image_generation" | "image_edit";
  /** How many partial images the caller asked for (0-3); later ones are not sent. */
  partialImages: number;
  /** The caller's connection: when it goes, the stream stops (and the job is canceled by its submitter). */
  signal: AbortSignal;
}

/** Proxies drop idle connections; an SSE comment keeps a long generation's stream open and is ignored by clients. */
const KEEPALIVE_MS = 15_000;

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
          // The runner deletes partials when the job ends; one already gone is simply skipped.
          const bytes = await services.images.get(event.image.key);
          if (!bytes) continue;
          await send(stream, `${eventPrefix}.partial_image`, {
            ...imageFields(services, job, event.image, bytes),
            partial_image_index: sent,
          });
          sent++;
        } else if (event.type === "succeeded") {
          for (const image of event.images) {
            const bytes = await readStoredImage(services, image);
            await send(stream, `${eventPrefix}.completed`, {
              ...imageFields(services, job, image, bytes),
              usage: zeroUsage(),
            });
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

function imageFields(
  services: ApiServices,
  job: Job,
  image: StoredImageRef,
  bytes: Uint8Array,
): Record<string, unknown> {
  return {
    b64_json: bytesToBase64(bytes),
    created_at: Math.floor(services.clock.now() / 1000),
    ...describeImage(job, image),
  };
}

async function send(stream: SSEStreamingApi, type: string, fields: Record<string, unknown>): Promise<void> {
  await stream.writeSSE({ event: type, data: JSON.stringify({ type, ...fields }) });
}

async function sendError(stream: SSEStreamingApi, error: unknown): Promise<void> {
  await stream.writeSSE({
    event: "error",
    data: JSON.stringify({ type: "error", error: openAiErrorObject(error) }),
  });
}
