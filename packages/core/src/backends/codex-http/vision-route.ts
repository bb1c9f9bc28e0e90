import type { NormalizedVisionRequest } from "../../request.js";
import { buildTurnBody } from "./responses-route.js";

/**
 * Body of `POST {base}/responses` for a question about images (upstream.md Appendix B): the images as
 * `input_image` data URLs beside the question, a text model and no tools (`tools: []`: the key stays, as
 * the CLI's turns always carry it), otherwise the same top-level fields in the same order as the image
 * turn (`buildResponsesBody`): instructions as the first `developer` message, `store: false`,
 * `stream: true`, `prompt_cache_key` and `client_metadata`.
 */
export function buildVisionBody<T>(
  request: NormalizedVisionRequest,
  references: { images: readonly T[]; dataUrl: (image: T) => string },
  options: { model: string; instructions: string; threadId: string; clientMetadata: Record<string, string> },
): Record<string, unknown> {
  return buildTurnBody({ ...options, ...references, text: request.prompt, tools: [] });
}
