import { IMAGE_MIME_TYPES } from "../../image/index.js";
import type { NormalizedImageRequest } from "../../request.js";
import type { ImageFormat, ImageRequest } from "../../types.js";

const EXTENSION: Record<ImageFormat, string> = { png: "png", jpeg: "jpg", webp: "webp" };

/**
 * The option fields both routes share. Fields the caller left unset or `auto` are omitted: they are
 * the API's own defaults, and omitting them keeps requests valid for models that lack an option.
 */
export function openAiOptionFields(
  request: ImageRequest,
  normalized: NormalizedImageRequest,
  model: string,
): Record<string, string | number> {
  const fields: Record<string, string | number> = { prompt: normalized.prompt, model };
  if (request.n !== undefined) fields.n = normalized.n;
  if (normalized.size !== "auto") fields.size = normalized.size;
  if (normalized.quality !== "auto") fields.quality = normalized.quality;
  if (normalized.background !== "auto") fields.background = normalized.background;
  if (request.outputFormat !== undefined) fields.output_format = normalized.outputFormat;
  // DALL·E models answer with URLs unless told otherwise; gpt-image models reject the field.
  if (model.startsWith("dall-e")) fields.response_format = "b64_json";
  return fields;
}

/** Multipart body of `/images/edits`, shaped as the official SDK sends an array of images. */
export function openAiEditForm(
  request: ImageRequest,
  normalized: NormalizedImageRequest,
  model: string,
): FormData {
  const form = new FormData();
  for (const [name, value] of Object.entries(openAiOptionFields(request, normalized, model))) {
    form.append(name, String(value));
  }
  // Edits only: the generations route does not take it.
  if (normalized.inputFidelity !== undefined) form.append("input_fidelity", normalized.inputFidelity);
  normalized.referenceImages.forEach((reference, index) => {
    // The mime type comes from the sniffed bytes: the API rejects a part whose type it does not accept.
    // Copy into a fresh ArrayBuffer: a view over a shared or pooled buffer is not a valid BlobPart.
    const blob = new Blob([new Uint8Array(reference.bytes)], { type: IMAGE_MIME_TYPES[reference.format] });
    form.append("image[]", blob, `image-${index + 1}.${EXTENSION[reference.format]}`);
  });
  return form;
}
