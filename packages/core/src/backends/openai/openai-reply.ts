import { CodexImgError } from "../../errors.js";
import { base64ToBytes, sniffImage } from "../../image/index.js";
import type { BackendResult, GeneratedImage } from "../../types.js";

/** The parts of an ImagesResponse that end up in a `BackendResult`. */
export interface OpenAiImagesReply {
  images: GeneratedImage[];
  delivered: BackendResult["delivered"];
  /** `usage` as upstream sent it, JSON-encoded for diagnostics (cost tracking needs the token counts). */
  usage?: string;
}

/** Reads `{"data": [{"b64_json", "revised_prompt"}], "size", "quality", …}`; formats and sizes come from the bytes. */
export function parseOpenAiImagesReply(text: string): OpenAiImagesReply {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (cause) {
    throw new CodexImgError("upstream_failed", "OpenAI answered with a body that is not JSON.", { cause });
  }
  if (!isRecord(parsed) || !Array.isArray(parsed.data)) {
    throw new CodexImgError("upstream_failed", "OpenAI answered without a `data` list of images.");
  }
  const images = parsed.data.map((entry: unknown, index: number): GeneratedImage => {
    const b64 = isRecord(entry) ? entry.b64_json : undefined;
    if (typeof b64 !== "string" || b64.length === 0) {
      throw new CodexImgError("upstream_failed", `OpenAI image ${index + 1} carried no b64_json data.`);
    }
    let bytes: Uint8Array;
    try {
      bytes = base64ToBytes(b64);
    } catch (cause) {
      throw new CodexImgError("upstream_failed", `OpenAI image ${index + 1} is not valid base64.`, { cause });
    }
    const sniffed = sniffImage(bytes);
    if (!sniffed) {
      throw new CodexImgError(
        "upstream_failed",
        `OpenAI image ${index + 1} is not a readable PNG, JPEG or WebP.`,
      );
    }
    const revised = isRecord(entry) ? entry.revised_prompt : undefined;
    return {
      bytes,
      ...sniffed,
      ...(typeof revised === "string" && revised ? { revisedPrompt: revised } : {}),
    };
  });
  if (images.length === 0) throw new CodexImgError("upstream_failed", "OpenAI answered with no images.");

  const delivered: BackendResult["delivered"] = {};
  const stringField = (value: unknown): string | undefined =>
    typeof value === "string" && value ? value : undefined;
  const size = stringField(parsed.size);
  const quality = stringField(parsed.quality);
  const background = stringField(parsed.background);
  const outputFormat = stringField(parsed.output_format);
  if (size) delivered.size = size;
  if (quality) delivered.quality = quality;
  if (background) delivered.background = background;
  if (outputFormat) delivered.outputFormat = outputFormat;
  return { images, delivered, ...(isRecord(parsed.usage) ? { usage: JSON.stringify(parsed.usage) } : {}) };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
