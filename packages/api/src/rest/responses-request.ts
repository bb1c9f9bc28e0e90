import { CodexImgError, type ImageRequest, REQUEST_LIMITS } from "@codex-img/core";
import { z } from "zod";
import type { JsonWithReferences } from "../http/json-references.js";
import { referenceFromString } from "../services/reference-input.js";

/** The `image_generation` tool of the Responses API, with the options codex-img passes on. */
const imageTool = z.looseObject({
  type: z.literal("image_generation"),
  model: z.string().max(100).nullish(),
  size: z.string().max(20).nullish(),
  quality: z.enum(["auto", "low", "medium", "high"]).nullish(),
  background: z.enum(["auto", "opaque", "transparent"]).nullish(),
  output_format: z.enum(["png", "jpeg", "webp"]).nullish(),
  output_compression: z.number().int().min(0).max(100).nullish(),
  partial_images: z.number().int().min(0).max(3).nullish(),
  /** How closely an edit keeps its input images; passed to every backend that can take it. */
  input_fidelity: z.enum(["low", "high"]).nullish(),
  moderation: z.enum(["auto", "low"]).nullish(),
});

const contentPart = z.looseObject({
  type: z.string(),
  text: z.string().optional(),
  image_url: z.string().nullish(),
});

const inputItem = z.looseObject({
  type: z.string().optional(),
  role: z.string().optional(),
  content: z.union([z.string(), z.array(contentPart)]).optional(),
});

/** `POST /v1/responses`: the fields codex-img reads; the rest of OpenAI's body is accepted and ignored. */
export const responsesCreateSchema = z.looseObject({
  model: z.string().max(200).nullish(),
  input: z.union([z.string().min(1), z.array(inputItem).min(1)]),
  // Kept with the job and answered back; capped like a prompt so a history row stays small.
  instructions: z.string().max(REQUEST_LIMITS.promptMaxChars).nullish(),
  /** OpenAI's rule: up to 16 pairs, keys up to 64 characters, values up to 512. */
  metadata: z
    .record(z.string().max(64), z.string().max(512))
    .refine((pairs) => Object.keys(pairs).length <= 16, "metadata holds at most 16 pairs")
    .nullish(),
  tools: z.array(z.looseObject({ type: z.string() })).nullish(),
  stream: z.boolean().nullish(),
  store: z.boolean().nullish(),
  previous_response_id: z.string().max(100).nullish(),
  user: z.string().max(256).nullish(),
});

export type ResponsesCreateBody = z.infer<typeof responsesCreateSchema>;
export type ImageToolOptions = z.infer<typeof imageTool>;

/**
 * The image tool of a Responses request. Without it the request asks for text chat, which codex-img does
 * not serve: `unsupported_tool`, rather than a silent proxy.
 */
export function imageToolOf(body: ResponsesCreateBody): ImageToolOptions {
  const tool = body.tools?.find((t) => t.type === "image_generation");
  if (!tool) {
    throw new CodexImgError(
      "unsupported_tool",
      'codex-img serves the Responses API only with the image tool: add tools: [{ type: "image_generation" }]. Text-only responses are not supported.',
      { details: { param: "tools" } },
    );
  }
  const parsed = imageTool.safeParse(tool);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = `tools.image_generation.${issue?.path.map(String).join(".") ?? ""}`;
    throw new CodexImgError("invalid_request", `${where}: ${issue?.message ?? "invalid"}`, {
      details: { param: where },
    });
  }
  return parsed.data;
}

/**
 * What to draw: the last user message's text is the prompt and its `input_image` parts (data URLs) are
 * references, after the images of the previous response (`previous`), which a multi-turn edit works on.
 */
export function responsesImageRequest(
  body: ResponsesCreateBody,
  tool: ImageToolOptions,
  previous: Uint8Array[],
  json?: JsonWithReferences,
): ImageRequest {
  const { prompt, images } = lastUserMessage(body, json);
  const references = [...previous, ...images];
  return {
    prompt,
    n: 1,
    ...(tool.size ? { size: tool.size as ImageRequest["size"] } : {}),
    ...(tool.quality ? { quality: tool.quality } : {}),
    ...(tool.background ? { background: tool.background } : {}),
    ...(tool.output_format ? { outputFormat: tool.output_format } : {}),
    ...(tool.input_fidelity ? { inputFidelity: tool.input_fidelity } : {}),
    ...(references.length > 0 ? { referenceImages: references.map((bytes) => ({ bytes })) } : {}),
  };
}

function lastUserMessage(
  body: ResponsesCreateBody,
  json?: JsonWithReferences,
): { prompt: string; images: Uint8Array[] } {
  if (typeof body.input === "string") return { prompt: body.input, images: [] };
  let index = body.input.length - 1;
  while (index >= 0 && !isUserMessage(body.input[index])) index--;
  const message = body.input[index];
  const texts: string[] = [];
  const images: Uint8Array[] = [];
  const content = message?.content ?? "";
  if (typeof content === "string") texts.push(content);
  else {
    content.forEach((part, partIndex) => {
      const param = `input.${index}.content.${partIndex}`;
      if ((part.type === "input_text" || part.type === "text") && part.text) texts.push(part.text);
      if (part.type === "input_image") {
        if (!part.image_url) {
          throw new CodexImgError("invalid_request", "input_image needs an image_url (a data: URL).", {
            details: { param: `${param}.image_url` },
          });
        }
        images.push(referenceFromString(part.image_url, images.length, `${param}.image_url`, json));
      }
    });
  }
  const prompt = texts.join("\n").trim();
  if (!prompt) {
    throw new CodexImgError("invalid_request", "input must end with a user message that has text.", {
      details: { param: "input" },
    });
  }
  return { prompt, images };
}

function isUserMessage(item: z.infer<typeof inputItem> | undefined): boolean {
  return item !== undefined && (item.type === undefined || item.type === "message") && item.role === "user";
}

/** `resp_…` is the job id's random part under OpenAI's prefix; `img_…` back again. */
export function responseIdOf(jobId: string): string {
  return `resp_${jobId.slice(jobId.indexOf("_") + 1)}`;
}

export function jobIdOfResponse(responseId: string): string | undefined {
  const match = /^resp_([a-z2-7]{26})$/.exec(responseId);
  return match ? `img_${match[1]}` : undefined;
}
