import { toDataUrl } from "../../image/index.js";
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
export function buildResponsesBody(
  request: ImageRequest,
  normalized: NormalizedImageRequest,
  options: ResponsesBodyOptions,
): Record<string, unknown> {
  const tool: Record<string, unknown> = {
    type: "image_generation",
    output_format: normalized.outputFormat,
    size: normalized.size,
    quality: normalized.quality,
  };
  if (request.background !== undefined) tool.background = normalized.background;
  if (options.partialImages !== undefined && options.partialImages > 0)
    tool.partial_images = options.partialImages;
  const content: Array<Record<string, unknown>> = normalized.referenceImages.map((ref) => ({
    type: "input_image",
    image_url: toDataUrl(ref.bytes, ref.format),
  }));
  content.push({ type: "input_text", text: normalized.prompt });
  return {
    model: options.carrierModel,
    stream: true,
    input: [
      {
        type: "message",
        role: "developer",
        content: [{ type: "input_text", text: options.instructions }],
      },
      { type: "message", role: "user", content },
    ],
    tools: [tool],
    tool_choice: "auto",
    parallel_tool_calls: true,
    reasoning: { effort: CODEX_DEFAULT_REASONING_EFFORT, summary: "auto" },
    store: false,
    include: ["reasoning.encrypted_content"],
    prompt_cache_key: options.threadId,
    client_metadata: options.clientMetadata,
  };
}
