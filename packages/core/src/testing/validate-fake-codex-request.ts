import { headerValue } from "./fake-upstream.js";
import type { RecordedRequest } from "./fake-upstream-types.js";

/** Mirrors upstream's checks on `/responses` (upstream.md §2b); returns the 400 message or undefined. */
export function validateResponsesRequest(request: RecordedRequest): string | undefined {
  const body = request.json;
  if (typeof body !== "object" || body === null) return "Invalid JSON body";
  const b = body as Record<string, unknown>;
  if (b.store !== false) return "Store must be set to false";
  if (b.stream !== true) return "Stream must be set to true";
  if ("max_output_tokens" in b) return "Unsupported parameter: max_output_tokens";
  const choice = b.tool_choice;
  const forced =
    choice === "image_generation" ||
    (typeof choice === "object" &&
      choice !== null &&
      (choice as { type?: unknown }).type === "image_generation");
  if (forced) return "Tool choice 'image_generation' not found in 'tools' parameter.";
  for (const message of Array.isArray(b.input) ? (b.input as Array<{ content?: unknown }>) : []) {
    for (const part of Array.isArray(message?.content)
      ? (message.content as Array<{ type?: unknown; image_url?: unknown }>)
      : []) {
      if (part?.type !== "input_image") continue;
      if (typeof part.image_url !== "string" || !part.image_url.startsWith("data:"))
        return "Error while downloading file";
    }
  }
  const tools = Array.isArray(b.tools) ? (b.tools as Array<{ type?: unknown }>) : [];
  if (
    typeof b.model === "string" &&
    b.model.endsWith("-codex") &&
    tools.some((t) => t?.type === "image_generation")
  ) {
    return `Tool 'image_generation' is not supported with ${b.model}.`;
  }
  // The hosted tool's `input_fidelity` is OpenAI's enum; anything else is refused as the public API does.
  const fidelity = (tools.find((t) => t?.type === "image_generation") as { input_fidelity?: unknown })
    ?.input_fidelity;
  if (fidelity !== undefined && fidelity !== "low" && fidelity !== "high") {
    return `Invalid value: '${String(fidelity)}'. Supported values are: 'low' and 'high'.`;
  }
  return undefined;
}

/** Mirrors upstream's checks on `/images/*` (upstream.md §2a); returns the 400 message or undefined. */
export function validateImagesRequest(request: RecordedRequest, edit: boolean): string | undefined {
  const type = headerValue(request.headers["content-type"]) ?? "";
  if (type.includes("multipart/")) return "Multipart form data is not supported; send JSON.";
  const body = request.json;
  if (typeof body !== "object" || body === null) return "Invalid JSON body";
  const b = body as Record<string, unknown>;
  if (typeof b.prompt !== "string" || b.prompt.trim() === "") return "prompt is required";
  if (edit) {
    if (!Array.isArray(b.images) || b.images.length === 0) return "images is required for edits";
    for (const image of b.images as Array<{ image_url?: unknown }>) {
      const url = image?.image_url;
      if (typeof url !== "string") return "images[].image_url is required";
      if (!url.startsWith("data:")) return "Error while downloading file";
      if (!/^data:image\/(png|jpeg|webp);base64,/.test(url)) return "Invalid image data URL";
    }
  }
  return undefined;
}
