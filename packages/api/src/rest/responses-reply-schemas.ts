import { ERROR_CODES } from "@codex-img/core";
import { z } from "@hono/zod-openapi";

/** Reply schemas of the Responses routes for the document: OpenAI's shapes, as `responses-object.ts` builds them. */

const ImageGenerationCallSchema = z
  .object({
    id: z.string().openapi({ description: "`ig_…`" }),
    type: z.literal("image_generation_call"),
    status: z.enum(["in_progress", "completed", "failed"]),
    result: z.string().nullable().openapi({ description: "The image as bare base64, once completed." }),
    revised_prompt: z.string().optional(),
    size: z.string().optional(),
    output_format: z.enum(["png", "jpeg", "webp"]).optional(),
    quality: z.string().optional(),
    background: z.string().optional(),
  })
  .openapi("ImageGenerationCall");

export const ResponseSchema = z
  .object({
    id: z.string().openapi({ description: "`resp_…`" }),
    object: z.literal("response"),
    created_at: z.number().int(),
    completed_at: z.number().int().optional(),
    status: z.enum(["queued", "in_progress", "completed", "failed", "cancelled", "incomplete"]),
    error: z.object({ code: z.enum(ERROR_CODES), message: z.string() }).nullable(),
    instructions: z.string().nullable(),
    model: z.string(),
    output: z.array(ImageGenerationCallSchema),
    previous_response_id: z.string().nullable(),
    store: z.boolean(),
    metadata: z.record(z.string(), z.string()),
    user: z.string().nullable(),
    tools: z.array(z.looseObject({ type: z.string() })),
    usage: z.looseObject({
      input_tokens: z.number().int(),
      output_tokens: z.number().int(),
      total_tokens: z.number().int(),
    }),
    codex_img_demo: z
      .literal(true)
      .optional()
      .openapi({ description: "Present when the demo backend drew the images." }),
  })
  .openapi("Response", {
    description:
      "OpenAI's Response object; what the create sent (`model`, `tools`, `instructions`, `metadata`, `user`, `store`, `previous_response_id`) is answered back, the other fields carry OpenAI's defaults. `output` holds `image_generation_call` items.",
  });

export const ResponseDeletedSchema = z
  .object({ id: z.string(), object: z.literal("response.deleted"), deleted: z.literal(true) })
  .openapi("ResponseDeleted");
