import { isCodexImgError, type Job } from "@codex-img/core";
import type { Context } from "hono";
import { streamSSE } from "hono/streaming";
import type { AppEnv } from "../app-env.js";
import { openAiErrorObject } from "../http/openai-error.js";
import type { Base64Of } from "../services/json-with-images.js";
import type { ApiServices } from "../services.js";
import { jobFailure } from "./openai-images.js";
import { KEEPALIVE_MS, writeImageEvent } from "./openai-stream.js";
import { imageCallItem, responseObject } from "./responses-object.js";

/**
 * The Responses streaming events for one job, as OpenAI sends them for the image tool: `response.created`,
 * `response.in_progress`, `response.output_item.added`, `response.image_generation_call.in_progress` /
 * `.generating` / `.partial_image` (up to `partialImages`) / `.completed`, `response.output_item.done`
 * with the image in `item.result`, then `response.completed`; a failed job ends with `response.failed`.
 * Every event has a `sequence_number`.
 */
export function streamResponse(
  c: Context<AppEnv>,
  services: ApiServices,
  job: Job,
  partialImages: number,
): Response {
  const signal = c.req.raw.signal;
  return streamSSE(c, async (stream) => {
    let sequence = 0;
    const send = (type: string, build: (base64Of: Base64Of) => Record<string, unknown>): Promise<void> =>
      writeImageEvent(stream, services, type, (base64Of) => ({
        type,
        sequence_number: sequence++,
        ...build(base64Of),
      }));
    const keepalive = setInterval(() => stream.write(": keepalive\n\n").catch(() => undefined), KEEPALIVE_MS);
    const item = imageCallItem(job, undefined, undefined);
    const itemRef = { output_index: 0, item_id: item.id };
    try {
      await send("response.created", () => ({ response: responseObject(services, job, undefined) }));
      await send("response.in_progress", () => ({
        response: { ...responseObject(services, job, undefined), status: "in_progress" },
      }));
      await send("response.output_item.added", () => ({ output_index: 0, item }));
      await send("response.image_generation_call.in_progress", () => itemRef);
      let generating = false;
      let partials = 0;
      for await (const event of services.queue.subscribe(job.id, { signal })) {
        if (event.type === "progress" && event.stage === "generating" && !generating) {
          generating = true;
          await send("response.image_generation_call.generating", () => itemRef);
        } else if (event.type === "partial_image" && partials < partialImages) {
          const index = partials++;
          await send("response.image_generation_call.partial_image", (base64Of) => ({
            ...itemRef,
            partial_image_index: index,
            partial_image_b64: base64Of(event.image.key),
          })).catch((error: unknown) => {
            // The runner deletes partials when the job ends; one already gone is simply skipped.
            if (!isCodexImgError(error, "internal")) throw error;
          });
        } else if (event.type === "succeeded") {
          const finished = (await services.queue.get(job.id)) ?? job;
          await send("response.image_generation_call.completed", () => itemRef);
          for (const [index, image] of finished.images.entries()) {
            await send("response.output_item.done", (base64Of) => ({
              output_index: index,
              item: imageCallItem(finished, image, base64Of),
            }));
          }
          await send("response.completed", (base64Of) => ({
            response: responseObject(services, finished, base64Of),
          }));
        } else if (event.type === "failed" || event.type === "canceled") {
          const finished = (await services.queue.get(job.id)) ?? job;
          await send("response.failed", () => ({
            response: {
              ...responseObject(services, finished, undefined),
              error: openAiErrorObject(jobFailure(finished)),
            },
          }));
        }
      }
    } catch (error) {
      if (signal.aborted) return;
      if (!isCodexImgError(error)) services.logger.error("responses stream failed", { jobId: job.id, error });
      await stream
        .writeSSE({
          event: "error",
          data: JSON.stringify({ type: "error", error: openAiErrorObject(error) }),
        })
        .catch(() => undefined);
    } finally {
      clearInterval(keepalive);
    }
  });
}
