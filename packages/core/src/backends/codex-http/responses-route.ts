import type { NormalizedImageRequest } from "../../request.js";
import type { ImageRequest } from "../../types.js";
import { CODEX_DEFAULT_REASONING_EFFORT } from "./constants.js";

export interface ResponsesBodyOptions {
  /** Chat model that carries the hosted tool (not the image model). */
  carrierModel: string;
  /** What the carrier is told; sent as the first `developer` message, as the CLI sends its base instructions. */
  instructions: string;
  /** 1-3 asks upstream to stream partial images; 0 or undefined sends none. */
  partialImages?: number;
  /** The turn's thread id (`prompt_cache_key`). */
  threadId: string;
  /** The turn's `client_metadata` (see `responsesClientMetadata`). */
  clientMetadata: Record<string, string>;
}

/**
 * Body of `POST {base}/responses` with the hosted `image_generation` tool, with the top-level fields
 * and key order of the official CLI's turns (upstream.md Appendix A): no `instructions` field (they are
 * the first `developer` message), `parallel_tool_calls: true`, `reasoning` with a summary,
 * `prompt_cache_key` and `client_metadata`. The tool is not forced through `tool_choice` (400 "Tool
 * choice 'image_generation' not found"), and `max_output_tokens` is never sent (rejected).
 */
export function buildResponsesBody<T>(
  request: ImageRequest,
  normalized: NormalizedImageRequest,
  references: { images: readonly T[]; dataUrl: (image: T) => string },
  options: ResponsesBodyOptions,
): Record<string, unknown> {
  const tool: Record<string, unknown> = {
    type: "image_generation",
    output_format: normalized.outputFormat,
    size: normalized.size,
    quality: normalized.quality,
  };
  if (request.background !== undefined) tool.background = normalized.background;
  // The hosted tool takes it as OpenAI's Responses tool does; the native route's body has no such field.
  if (normalized.inputFidelity !== undefined) tool.input_fidelity = normalized.inputFidelity;
  if (options.partialImages !== undefined && options.partialImages > 0)
    tool.partial_images = options.partialImages;
  return buildTurnBody({
    model: options.carrierModel,
    instructions: options.instructions,
    ...references,
    text: normalized.prompt,
    tools: [tool],
    threadId: options.threadId,
    clientMetadata: options.clientMetadata,
  });
}

export interface TurnBodyParts<T> {
  model: string;
  instructions: string;
  /** Sent as `input_image` data URLs (each one's text from `dataUrl`) before the text. */
  images: readonly T[];
  /** An image's data URL, typically a placeholder that `jsonWithBase64` streams the base64 into. */
  dataUrl: (image: T) => string;
  text: string;
  /** The CLI's turns always carry the key, empty when there is no tool. */
  tools: Array<Record<string, unknown>>;
  threadId: string;
  clientMetadata: Record<string, string>;
}

/**
 * One CLI turn's top-level fields in the CLI's key order (upstream.md Appendices A and B), shared by the
 * image turn above and the vision turn: the fake compares this order byte for byte with the CLI's.
 */
export function buildTurnBody<T>(parts: TurnBodyParts<T>): Record<string, unknown> {
  const content: Array<Record<string, unknown>> = parts.images.map((image) => ({
    type: "input_image",
    image_url: parts.dataUrl(image),
  }));
  content.push({ type: "input_text", text: parts.text });
  return {
    model: parts.model,
    stream: true,
    input: [
      {
        type: "message",
        role: "developer",
        content: [{ type: "input_text", text: parts.instructions }],
      },
      { type: "message", role: "user", content },
    ],
    tools: parts.tools,
    tool_choice: "auto",
    parallel_tool_calls: true,
    reasoning: { effort: CODEX_DEFAULT_REASONING_EFFORT, summary: "auto" },
    store: false,
    include: ["reasoning.encrypted_content"],
    prompt_cache_key: parts.threadId,
    client_metadata: parts.clientMetadata,
  };
}
