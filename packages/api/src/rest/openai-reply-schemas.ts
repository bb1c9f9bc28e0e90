import { z } from "@hono/zod-openapi";
import { openAiImageOptionsSchema } from "./openai-schemas.js";

/**
 * Schemas of the OpenAI-compatible routes for the document: the replies in OpenAI's shapes (what the
 * official SDKs parse), and the multipart form of an edit, which the route reads part by part itself.
 */

const usage = z.object({
  input_tokens: z.number().int(),
  output_tokens: z.number().int(),
  total_tokens: z.number().int(),
  input_tokens_details: z.object({ text_tokens: z.number().int(), image_tokens: z.number().int() }),
});

export const ImagesResponseSchema = z
  .object({
    created: z.number().int(),
    data: z.array(
      z.object({
        b64_json: z.string().optional(),
        url: z.string().optional(),
        expires_at: z.iso
          .datetime()
          .optional()
          .openapi({ description: "Extension next to `url`: when the file goes away." }),
        revised_prompt: z.string(),
      }),
    ),
    background: z.string(),
    output_format: z.enum(["png", "jpeg", "webp"]),
    quality: z.string(),
    size: z.string(),
    usage: usage.openapi({ description: "What upstream reported; zeros where it reported none." }),
  })
  .openapi("ImagesResponse");

export const ChatCompletionSchema = z
  .object({
    id: z.string(),
    object: z.literal("chat.completion"),
    created: z.number().int(),
    model: z.string(),
    choices: z.array(
      z.object({
        index: z.number().int(),
        message: z.object({ role: z.literal("assistant"), content: z.string(), refusal: z.null() }),
        finish_reason: z.string(),
      }),
    ),
    usage: z.object({
      prompt_tokens: z.number().int(),
      completion_tokens: z.number().int(),
      total_tokens: z.number().int(),
    }),
  })
  .openapi("ChatCompletion");

export const ModelSchema = z
  .object({
    id: z.string(),
    object: z.literal("model"),
    created: z.number().int(),
    owned_by: z.string(),
  })
  .openapi("Model");

export const ModelListSchema = z
  .object({ object: z.literal("list"), data: z.array(ModelSchema) })
  .openapi("ModelList");

const file = z.string().openapi({ format: "binary" });

/** The multipart edit as OpenAI's SDKs send it: `image` (or `image[]`) files and the option fields. */
export const OpenAiEditMultipartSchema = openAiImageOptionsSchema.extend({
  image: z.array(file).openapi({ description: "1 to 16 PNG, JPEG or WebP files." }),
  "image[]": z.array(file).optional().openapi({ description: "The same, as some clients name it." }),
  mask: file.optional().openapi({ description: "Accepted and ignored (`x-codex-img-warning` says so)." }),
});
