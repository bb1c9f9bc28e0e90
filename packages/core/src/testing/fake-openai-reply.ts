import { bytesToBase64 } from "../image/index.js";
import type { ImageFormat } from "../types.js";
import type { FakeOpenAiImageSpec, FakeOpenAiRequest, FakeOpenAiStep } from "./fake-openai-types.js";
import { testImage } from "./test-images.js";

/** The Images API's success body for `request`: test images of the asked format and size, and usage. */
export async function fakeOpenAiImagesReply(
  request: FakeOpenAiRequest,
  step: Extract<FakeOpenAiStep, { kind: "images" }>,
  created: number,
): Promise<Record<string, unknown>> {
  const { fields } = request;
  const format = (fields.output_format as ImageFormat | undefined) ?? "png";
  const sized = /^(\d+)x(\d+)$/.exec(fields.size ?? "");
  const width = Number(sized?.[1] ?? 1024);
  const height = Number(sized?.[2] ?? 1024);
  const specs: FakeOpenAiImageSpec[] =
    step.images ?? Array.from({ length: Number(fields.n ?? 1) }, () => ({}));
  const data = await Promise.all(
    specs.map(async (spec, index) => {
      const bytes = await testImage(
        spec.format ?? format,
        spec.width ?? width,
        spec.height ?? height,
        index + 1,
      );
      return {
        b64_json: bytesToBase64(bytes),
        ...(step.revisedPrompt ? { revised_prompt: step.revisedPrompt } : {}),
      };
    }),
  );
  const first: FakeOpenAiImageSpec = specs[0] ?? {};
  const promptTokens = Math.ceil((fields.prompt ?? "").length / 4);
  const imageTokens = request.files.length * 323;
  return {
    created,
    data,
    background: fields.background && fields.background !== "auto" ? fields.background : "opaque",
    output_format: first.format ?? format,
    quality: fields.quality && fields.quality !== "auto" ? fields.quality : "medium",
    size: `${first.width ?? width}x${first.height ?? height}`,
    usage: {
      input_tokens: promptTokens + imageTokens,
      output_tokens: 1056 * specs.length,
      total_tokens: promptTokens + imageTokens + 1056 * specs.length,
      input_tokens_details: { text_tokens: promptTokens, image_tokens: imageTokens },
    },
    ...step.reply,
  };
}

/** How the real API quotes a wrong key back: prefix, stars, last four. */
export function maskOpenAiKey(key: string): string {
  if (key.length <= 8) return "*".repeat(key.length);
  return `${key.slice(0, 3)}${"*".repeat(Math.max(4, key.length - 7))}${key.slice(-4)}`;
}
