import { toDataUrl } from "../../image/index.js";
import type { NormalizedImageRequest } from "../../request.js";
import type { ImageRequest } from "../../types.js";

export interface ResponsesBodyOptions {
  /** Chat model that carries the hosted tool (not the image model). */
  carrierModel: string;
  /** Non-empty, else 400 "Instructions are required". */
  instructions: string;
  /** 1-3 asks upstream to stream partial images; 0 or undefined sends none. */
  partialImages?: number;
}

/**
 * Body of `POST {base}/responses` with the hosted `image_generation` tool, exactly as upstream.md §2b.
 * The tool is not forced through `tool_choice` (400 "Tool choice 'image_generation' not found"), and
 * `max_output_tokens` is never sent (rejected).
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
    instructions: options.instructions,
    input: [{ type: "message", role: "user", content }],
    tools: [tool],
    tool_choice: "auto",
    parallel_tool_calls: false,
    store: false,
    stream: true,
    include: ["reasoning.encrypted_content"],
    reasoning: { effort: "low" },
  };
}
