import { toDataUrl } from "../../image/index.js";
import type { NormalizedVisionRequest } from "../../request.js";
import { CODEX_DEFAULT_REASONING_EFFORT } from "./constants.js";

/**
 * Body of `POST {base}/responses` for a question about images (upstream.md Appendix B): the images as
 * `input_image` data URLs beside the question, a text model and no tools (`tools: []`: the key stays, as
 * the CLI's turns always carry it), otherwise the same top-level fields in the same order as the image
 * turn (`buildResponsesBody`): instructions as the first `developer` message, `store: false`,
 * `stream: true`, `prompt_cache_key` and `client_metadata`.
 */
export function buildVisionBody(
  request: NormalizedVisionRequest,
  options: { model: string; instructions: string; threadId: string; clientMetadata: Record<string, string> },
): Record<string, unknown> {
  const content: Array<Record<string, unknown>> = request.images.map((image) => ({
    type: "input_image",
    image_url: toDataUrl(image.bytes, image.format),
  }));
  content.push({ type: "input_text", text: request.prompt });
  return {
    model: options.model,
    stream: true,
    input: [
      { type: "message", role: "developer", content: [{ type: "input_text", text: options.instructions }] },
      { type: "message", role: "user", content },
    ],
    tools: [],
    tool_choice: "auto",
    parallel_tool_calls: true,
    reasoning: { effort: CODEX_DEFAULT_REASONING_EFFORT, summary: "auto" },
    store: false,
    include: ["reasoning.encrypted_content"],
    prompt_cache_key: options.threadId,
    client_metadata: options.clientMetadata,
  };
}
