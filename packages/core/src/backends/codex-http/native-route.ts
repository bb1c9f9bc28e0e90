import type { NormalizedImageRequest } from "../../request.js";
import type { UpstreamUsage } from "../../types.js";
import type { StreamedJsonDocument } from "./streamed-json-reader.js";
import { parseUpstreamUsage } from "./upstream-usage.js";

/**
 * Body of `POST {base}/images/generations` (or `/images/edits` when there are references) with the
 * fields and key order of the official CLI's image tool (upstream.md Appendix A): `images` first on an
 * edit, then `prompt`, `background` (`opaque` unless `transparent` was asked; the CLI never sends
 * `auto`), `model`, `quality`, `size`. `n` is sent only when more than one image is asked (the CLI never
 * sends it). References are always inline data URLs (multipart is rejected, remote URLs fail upstream);
 * `dataUrl` gives each one's text, typically a placeholder that `jsonWithBase64` streams the base64 into.
 */
export function buildNativeImageBody<T>(
  normalized: NormalizedImageRequest,
  references: readonly T[],
  dataUrl: (reference: T) => string,
): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  if (references.length > 0) {
    body.images = references.map((ref) => ({ image_url: dataUrl(ref) }));
  }
  body.prompt = normalized.prompt;
  body.background = normalized.background === "transparent" ? "transparent" : "opaque";
  body.model = normalized.model;
  body.quality = normalized.quality;
  body.size = normalized.size;
  if (normalized.n > 1) body.n = normalized.n;
  return body;
}

export interface NativeImagesReply {
  /** Each image: the index of its streamed `b64_json` value (see `StreamedJsonReader`). */
  images: Array<{ streamed: number; revisedPrompt?: string }>;
  delivered: { size?: string; quality?: string; background?: string; outputFormat?: string };
  usage?: UpstreamUsage;
  created?: number;
}

/**
 * Reads the public ImagesResponse shape:
 * `{created, data: [{b64_json, revised_prompt?}], background, output_format, quality, size, usage}`.
 * Returns undefined when the body is not that shape.
 */
export function parseImagesResponse(json: StreamedJsonDocument | undefined): NativeImagesReply | undefined {
  if (typeof json?.value !== "object" || json.value === null) return undefined;
  const reply = json.value as Record<string, unknown>;
  if (!Array.isArray(reply.data)) return undefined;
  const images: NativeImagesReply["images"] = [];
  for (const entry of reply.data as unknown[]) {
    const item = (entry ?? {}) as Record<string, unknown>;
    const streamed = json.streamed(item.b64_json);
    if (streamed === undefined) continue;
    images.push({
      streamed,
      ...(typeof item.revised_prompt === "string" ? { revisedPrompt: item.revised_prompt } : {}),
    });
  }
  const text = (key: string): string | undefined =>
    typeof reply[key] === "string" ? (reply[key] as string) : undefined;
  const delivered: NativeImagesReply["delivered"] = {};
  const size = text("size");
  const quality = text("quality");
  const background = text("background");
  const outputFormat = text("output_format");
  if (size) delivered.size = size;
  if (quality) delivered.quality = quality;
  if (background) delivered.background = background;
  if (outputFormat) delivered.outputFormat = outputFormat;
  const usage = parseUpstreamUsage(reply.usage);
  return {
    images,
    delivered,
    ...(usage ? { usage } : {}),
    ...(typeof reply.created === "number" ? { created: reply.created } : {}),
  };
}
