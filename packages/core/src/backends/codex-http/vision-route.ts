import { toDataUrl } from "../../image/index.js";
import type { NormalizedVisionRequest } from "../../request.js";

/**
 * Body of `POST {base}/responses` for a question about images (upstream.md Appendix B): the images as
 * `input_image` data URLs beside the question, a text model, no tools; `stream`, `store: false` and
 * non-empty `instructions` as on every Responses call.
 */
export function buildVisionBody(
  request: NormalizedVisionRequest,
  options: { model: string; instructions: string },
): Record<string, unknown> {
  const content: Array<Record<string, unknown>> = request.images.map((image) => ({
    type: "input_image",
    image_url: toDataUrl(image.bytes, image.format),
  }));
  content.push({ type: "input_text", text: request.prompt });
  return {
    model: options.model,
    instructions: options.instructions,
    input: [{ type: "message", role: "user", content }],
    tool_choice: "auto",
    parallel_tool_calls: false,
    store: false,
    stream: true,
    include: ["reasoning.encrypted_content"],
    reasoning: { effort: "low" },
  };
}
