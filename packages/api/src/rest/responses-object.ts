import type { Job, StoredImageRef } from "@codex-img/core";
import type { Base64Of } from "../services/json-with-images.js";
import type { ApiServices } from "../services.js";
import { describeImage, jobUsage } from "./openai-images.js";
import { responseIdOf } from "./responses-request.js";

/** What a response echoes of its request (not kept with the job: a GET answers the defaults). */
export interface ResponseEcho {
  model?: string | null;
  tools?: unknown[];
  previousResponseId?: string | null;
  store?: boolean;
  instructions?: string | null;
}

type ResponseStatus = "queued" | "in_progress" | "completed" | "failed" | "cancelled" | "incomplete";

const STATUS: Record<Job["state"], ResponseStatus> = {
  queued: "queued",
  running: "in_progress",
  succeeded: "completed",
  failed: "failed",
  canceled: "cancelled",
  expired: "incomplete",
};

/** The `image_generation_call` output item of one image; `result` is bare base64 (streamed from the store). */
export function imageCallItem(
  job: Job,
  image: StoredImageRef | undefined,
  base64Of: Base64Of | undefined,
): Record<string, unknown> {
  const done = image !== undefined;
  return {
    id: `ig_${job.id.slice(job.id.indexOf("_") + 1)}`,
    type: "image_generation_call",
    status: done ? "completed" : job.state === "failed" ? "failed" : "in_progress",
    ...(done && base64Of ? { result: base64Of(image.key) } : { result: null }),
    ...(done
      ? { revised_prompt: image.revisedPrompt ?? job.request.prompt, ...describeImage(job, image) }
      : {}),
  };
}

/**
 * A job as OpenAI's `Response` object. The output is one `image_generation_call` item per image once
 * the job succeeded; failed jobs carry OpenAI's `error` object. Usage is the token counts upstream
 * reported for the job's calls (zeros where it reported none).
 */
export function responseObject(
  services: ApiServices,
  job: Job,
  echo: ResponseEcho,
  base64Of: Base64Of | undefined,
): Record<string, unknown> {
  const status = STATUS[job.state];
  const output =
    job.state === "succeeded"
      ? job.images.map((image) => imageCallItem(job, image, base64Of))
      : job.state === "running"
        ? [imageCallItem(job, undefined, undefined)]
        : [];
  return {
    id: responseIdOf(job.id),
    object: "response",
    created_at: Math.floor(job.createdAt / 1000),
    status,
    ...(job.finishedAt === undefined ? {} : { completed_at: Math.floor(job.finishedAt / 1000) }),
    background: false,
    error: job.error && status !== "completed" ? { code: job.error.code, message: job.error.message } : null,
    incomplete_details: null,
    instructions: echo.instructions ?? null,
    max_output_tokens: null,
    metadata: {},
    model: echo.model || job.request.model,
    output,
    parallel_tool_calls: true,
    previous_response_id: echo.previousResponseId ?? null,
    reasoning: { effort: null, summary: null },
    store: echo.store ?? true,
    temperature: 1,
    text: { format: { type: "text" } },
    tool_choice: "auto",
    tools: echo.tools ?? [{ type: "image_generation" }],
    top_p: 1,
    truncation: "disabled",
    usage: responseUsage(job),
    user: null,
    ...(services.backend === "demo" ? { codex_img_demo: true } : {}),
  };
}

/** The Responses `usage` shape from what upstream reported for the job's calls. */
function responseUsage(job: Job): Record<string, unknown> {
  const usage = jobUsage(job);
  return {
    input_tokens: usage.input_tokens,
    input_tokens_details: { cached_tokens: 0 },
    output_tokens: usage.output_tokens,
    output_tokens_details: { reasoning_tokens: 0 },
    total_tokens: usage.total_tokens,
  };
}
