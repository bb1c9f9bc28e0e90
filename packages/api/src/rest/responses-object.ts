import { CodexImgError, type Job, type StoredImageRef } from "@codex-img/core";
import type { Base64Of } from "../services/json-with-images.js";
import type { ApiServices } from "../services.js";
import { describeImage, jobUsage } from "./openai-images.js";
import { type ResponsesCreateBody, responseIdOf } from "./responses-request.js";

/**
 * What a response answers back of its create request, kept with its job (`Job.echo`, written with the
 * job's insert) so that `GET /v1/responses/{id}` answers the same object the create did.
 */
// A type, not an interface: it must fit `JobEcho`'s index signature.
export type ResponseEcho = {
  model: string | null;
  tools: unknown[];
  previous_response_id: string | null;
  instructions: string | null;
  metadata: Record<string, string>;
  user: string | null;
  store: boolean;
};

/**
 * The echo is written with the job's row on each of its writes: bounded, so an oversized `tools` list
 * (other tools are accepted and answered back, not used) cannot make every write of the job heavy.
 */
const MAX_ECHO_CHARS = 64 * 1024;

export function responseEchoOf(body: ResponsesCreateBody): ResponseEcho {
  const echo: ResponseEcho = {
    model: body.model ?? null,
    tools: body.tools ?? [],
    previous_response_id: body.previous_response_id ?? null,
    instructions: body.instructions ?? null,
    metadata: body.metadata ?? {},
    user: body.user ?? null,
    store: body.store ?? true,
  };
  if (JSON.stringify(echo).length > MAX_ECHO_CHARS) {
    throw new CodexImgError(
      "invalid_request",
      `tools, instructions and metadata together are larger than ${MAX_ECHO_CHARS / 1024} KiB; send the image_generation tool alone.`,
      { details: { param: "tools" } },
    );
  }
  return echo;
}

/** The echo of a response's job; a job without one (made before echoes were kept) answers the defaults. */
function echoOf(job: Job): ResponseEcho {
  const echo = (job.echo ?? {}) as Partial<ResponseEcho>;
  return {
    model: echo.model ?? null,
    tools: echo.tools ?? [{ type: "image_generation" }],
    previous_response_id: echo.previous_response_id ?? null,
    instructions: echo.instructions ?? null,
    metadata: echo.metadata ?? {},
    user: echo.user ?? null,
    store: echo.store ?? true,
  };
}

/**
 * Whether the Responses API may hand this job out again (GET, DELETE, `previous_response_id`): not when
 * it was made with `store: false`. The job itself stays, for the caller's history and usage counts.
 */
export function isStoredResponse(job: Job): boolean {
  return echoOf(job).store;
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
  base64Of: Base64Of | undefined,
): Record<string, unknown> {
  const status = STATUS[job.state];
  const echo = echoOf(job);
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
    instructions: echo.instructions,
    max_output_tokens: null,
    metadata: echo.metadata,
    model: echo.model || job.request.model,
    output,
    parallel_tool_calls: true,
    previous_response_id: echo.previous_response_id,
    reasoning: { effort: null, summary: null },
    store: echo.store,
    temperature: 1,
    text: { format: { type: "text" } },
    tool_choice: "auto",
    tools: echo.tools,
    top_p: 1,
    truncation: "disabled",
    usage: responseUsage(job),
    user: echo.user,
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
