import {
  CodexImgError,
  DEFAULT_IMAGE_MODEL,
  type ImageBackground,
  type ImageFormat,
  type ImageQuality,
  type ImageRequest,
  type ImageSize,
  parseSize,
  REQUEST_LIMITS,
} from "@codex-img/core";
import { z } from "zod";

/**
 * Quality names the SDKs may send: gpt-image's own, plus dall-e-3's (`standard`, `hd`) and newer tiers
 * (`xhigh`, `max`), folded onto what the subscription understands.
 */
const QUALITY_ALIASES: Record<string, ImageQuality> = {
  auto: "auto",
  low: "low",
  medium: "medium",
  high: "high",
  standard: "medium",
  hd: "high",
  xhigh: "high",
  max: "high",
};

/**
 * Models an OpenAI client may name for image generation. All of them run on what the subscription
 * serves; anything else (a chat model, a typo) is refused so the caller learns it early.
 */
const IMAGE_MODEL_PATTERN = /^(gpt-image-[\w.-]+|dall-e-[23]|chatgpt-image-[\w.-]+)$/;

const sizeField = z
  .string()
  .max(16)
  .refine(
    (value) => {
      try {
        parseSize(value);
        return true;
      } catch {
        return false;
      }
    },
    {
      message: `size must be "auto" or WIDTHxHEIGHT with each side from ${REQUEST_LIMITS.minSide} to ${REQUEST_LIMITS.maxSide}`,
    },
  );

/** Options shared by generations and edits, as OpenAI names them. Unknown fields are dropped, like OpenAI. */
export const openAiImageOptionsSchema = z.object({
  prompt: z
    .string({ message: "prompt is required" })
    .max(REQUEST_LIMITS.promptMaxChars)
    .refine((value) => value.trim().length > 0, { message: "prompt must not be empty" }),
  model: z
    .string()
    .max(100)
    .regex(IMAGE_MODEL_PATTERN, { message: "model must be an image model such as gpt-image-2" })
    .nullish(),
  n: z.number().int().min(1).max(REQUEST_LIMITS.maxImages).nullish(),
  size: sizeField.nullish(),
  quality: z.enum(Object.keys(QUALITY_ALIASES) as [string, ...string[]]).nullish(),
  background: z.enum(["auto", "opaque", "transparent"]).nullish(),
  output_format: z.enum(["png", "jpeg", "webp"]).nullish(),
  // Accepted for compatibility; the subscription picks its own compression and moderation.
  output_compression: z.number().int().min(0).max(100).nullish(),
  moderation: z.enum(["auto", "low"]).nullish(),
  /** Edits: how closely to keep the references; passed to the backends that take it (docs/backends.md). */
  input_fidelity: z.enum(["low", "high"]).nullish(),
  response_format: z.enum(["b64_json", "url"]).nullish(),
  stream: z.boolean().nullish(),
  partial_images: z.number().int().min(0).max(3).nullish(),
  user: z.string().max(256).nullish(),
});

export type OpenAiImageOptions = z.infer<typeof openAiImageOptionsSchema>;

const imageRefSchema = z.object({
  image_url: z.string({ message: "image_url must be a data: URL or base64 string" }).max(80_000_000),
});

/** The JSON form of `/v1/images/edits`: references as data URLs. */
export const openAiJsonEditSchema = openAiImageOptionsSchema.extend({
  images: z.array(imageRefSchema).min(1).max(REQUEST_LIMITS.maxReferenceImages),
  mask: imageRefSchema.nullish(),
});

export type OpenAiJsonEdit = z.infer<typeof openAiJsonEditSchema>;

const chatContentPartSchema = z.union([
  z.object({ type: z.literal("text"), text: z.string() }),
  z.object({
    type: z.literal("image_url"),
    image_url: z.union([z.string(), z.object({ url: z.string() })]),
  }),
  // Other part types (audio, files) carry nothing an image prompt can use; they are ignored.
  z.object({ type: z.string() }),
]);

const chatMessageSchema = z.object({
  role: z.string(),
  content: z.union([z.string(), z.array(chatContentPartSchema), z.null()]).optional(),
});

/** What `/v1/chat/completions` reads; everything else a chat client sends is ignored. */
export const openAiChatSchema = z.object({
  model: z.string().max(200).nullish(),
  messages: z.array(chatMessageSchema).min(1).max(1000),
  stream: z.boolean().nullish(),
  n: z.literal(1).nullish(),
  user: z.string().max(256).nullish(),
});

export type OpenAiChatRequest = z.infer<typeof openAiChatSchema>;

/** Validates `input` or throws `invalid_request` naming the first wrong field as OpenAI's `param`. */
export function parseOpenAi<T>(schema: z.ZodType<T>, input: unknown): T {
  if (input === null || typeof input !== "object" || Array.isArray(input)) {
    throw new CodexImgError("invalid_request", "The request body must be a JSON object.", {
      details: { param: "body" },
    });
  }
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const param = issue?.path.map(String).join(".") || "body";
  const message = issue ? `${param}: ${issue.message}` : "The request is invalid.";
  throw new CodexImgError("invalid_request", message, { details: { param } });
}

/** The core request for validated OpenAI options; the model is always what the backend serves. */
export function toImageRequest(
  options: OpenAiImageOptions,
  referenceImages: Uint8Array[] = [],
): ImageRequest {
  return {
    prompt: options.prompt,
    model: DEFAULT_IMAGE_MODEL,
    ...(options.n == null ? {} : { n: options.n }),
    ...(options.size == null ? {} : { size: options.size as ImageSize }),
    ...(options.quality == null ? {} : { quality: QUALITY_ALIASES[options.quality] ?? "auto" }),
    ...(options.background == null ? {} : { background: options.background as ImageBackground }),
    ...(options.output_format == null ? {} : { outputFormat: options.output_format as ImageFormat }),
    ...(options.input_fidelity == null ? {} : { inputFidelity: options.input_fidelity }),
    ...(referenceImages.length === 0 ? {} : { referenceImages: referenceImages.map((bytes) => ({ bytes })) }),
  };
}

const NUMERIC_FORM_FIELDS = new Set(["n", "output_compression", "partial_images"]);

/**
 * Multipart fields arrive as strings; numbers and booleans are converted only when they are clearly
 * numbers/booleans, so `n=abc` still fails validation and names `n`.
 */
export function formFieldValue(name: string, value: string): unknown {
  if (NUMERIC_FORM_FIELDS.has(name) && /^-?\d+$/.test(value.trim())) return Number(value.trim());
  if (name === "stream" && (value === "true" || value === "false")) return value === "true";
  return value;
}
