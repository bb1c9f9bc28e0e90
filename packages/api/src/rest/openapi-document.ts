import { z } from "zod";
import { openAiChatSchema, openAiImageOptionsSchema, openAiJsonEditSchema } from "./openai-schemas.js";
import { responsesCreateSchema } from "./responses-request.js";

type Json = Record<string, unknown>;

/** The request schema as a caller sends it (defaults optional), without `$schema`: OpenAPI 3.1 embeds 2020-12. */
function fromZod(schema: z.ZodType): Json {
  const { $schema: _, ...json } = z.toJSONSchema(schema, { io: "input", unrepresentable: "any" }) as Json;
  return json;
}

const ref = (name: string): Json => ({ $ref: `#/components/schemas/${name}` });
const jsonContent = (schema: Json): Json => ({ "application/json": { schema } });
const reply = (description: string, schema: Json): Json => ({ description, content: jsonContent(schema) });
const openAiErrors = (...statuses: number[]): Json =>
  Object.fromEntries(statuses.map((s) => [String(s), reply("OpenAI-shaped error", ref("OpenAiError"))]));
const pathParam = (name: string, description: string): Json => ({
  name,
  in: "path",
  required: true,
  description,
  schema: { type: "string" },
});
const idempotencyHeader: Json = {
  name: "Idempotency-Key",
  in: "header",
  required: false,
  description: "1 to 255 visible ASCII characters; a repeat with the same key returns the first job.",
  schema: { type: "string", maxLength: 255 },
};
const bearer = [{ bearer: [] }];
const jsonBody = (schema: Json): Json => ({ required: true, content: jsonContent(schema) });

/**
 * The OpenAPI 3.1 document of the REST surface. Request bodies come from the zod schemas the routes
 * validate with, so the document cannot drift from the validation; replies are written here by hand.
 * test/openapi.test.ts fails when a route of the app is missing from `paths`.
 */
export function openApiDocument(options: { version: string; serverUrl: string }): Json {
  const imageUrlSchema: Json = {
    type: "object",
    properties: {
      url: {
        type: "string",
        format: "uri",
        description: "Signed (`?expires=&sig=`) when signed URLs are on.",
      },
      expires_at: { type: "string", format: "date-time" },
    },
    required: ["url", "expires_at"],
  };
  const schemas: Json = {
    Error: {
      type: "object",
      properties: {
        error: {
          type: "object",
          properties: {
            code: { type: "string" },
            message: { type: "string" },
            retry_after_ms: { type: "integer" },
            param: { type: "string" },
            reason: { type: "string" },
          },
          required: ["code", "message"],
        },
        detail: { type: "string", description: "The message again, for the predecessor's scripts." },
      },
      required: ["error", "detail"],
    },
    OpenAiError: {
      type: "object",
      properties: {
        error: {
          type: "object",
          properties: {
            message: { type: "string" },
            type: { type: "string" },
            param: { type: ["string", "null"] },
            code: { type: "string" },
          },
          required: ["message", "type", "param", "code"],
        },
      },
      required: ["error"],
    },
    ImageUrl: imageUrlSchema,
    Response: {
      type: "object",
      description:
        "OpenAI's Response object; `output` holds `image_generation_call` items with base64 `result`.",
      required: ["id", "object", "status", "output"],
      properties: {
        id: { type: "string" },
        object: { const: "response" },
        status: { enum: ["queued", "in_progress", "completed", "failed", "cancelled", "incomplete"] },
        output: { type: "array", items: { type: "object" } },
        previous_response_id: { type: ["string", "null"] },
      },
    },
    VisionAnswer: {
      type: "object",
      required: ["id", "text"],
      properties: { id: { type: "string", description: "`vis_…`" }, text: { type: "string" } },
    },
    PredecessorJob: {
      type: "object",
      properties: {
        id: { type: "string" },
        status: { type: "string", enum: ["queued", "running", "succeeded", "failed", "canceled", "expired"] },
        images: { type: "array", items: ref("ImageUrl") },
        error: { type: ["string", "null"] },
        error_code: { type: ["string", "null"] },
        created_at: { type: "string", format: "date-time" },
        expires_at: { type: "string", format: "date-time" },
      },
      required: ["id", "status"],
    },
    Accepted: {
      type: "object",
      properties: { id: { type: "string" }, status: { type: "string" }, poll_url: { type: "string" } },
      required: ["id", "status"],
    },
    Job: {
      type: "object",
      description: "A job as its key sees it: request, images, attempts, error, times.",
      properties: {
        id: { type: "string" },
        object: { const: "job" },
        status: { type: "string" },
        images: { type: "array", items: ref("ImageUrl") },
        error: { type: ["object", "null"] },
        attempts: { type: "array", items: { type: "object" } },
        created_at: { type: "string", format: "date-time" },
        finished_at: { type: ["string", "null"], format: "date-time" },
        expires_at: { type: "string", format: "date-time" },
      },
      required: ["id", "object", "status"],
    },
    JobList: {
      type: "object",
      properties: {
        object: { const: "list" },
        data: { type: "array", items: { type: "object" } },
        has_more: { type: "boolean" },
        next_cursor: { type: ["string", "null"] },
      },
      required: ["object", "data", "has_more", "next_cursor"],
    },
    OpenAiImageOptions: fromZod(openAiImageOptionsSchema),
    OpenAiJsonEdit: fromZod(openAiJsonEditSchema),
    OpenAiEditMultipart: {
      type: "object",
      properties: {
        image: { type: "array", items: { type: "string", format: "binary" } },
        "image[]": { type: "array", items: { type: "string", format: "binary" } },
        mask: { type: "string", format: "binary" },
        prompt: { type: "string" },
        n: { type: "integer" },
        size: { type: "string" },
        quality: { type: "string" },
        response_format: { type: "string", enum: ["b64_json", "url"] },
        stream: { type: "boolean" },
      },
      required: ["prompt"],
    },
    ImagesResponse: {
      type: "object",
      properties: {
        created: { type: "integer" },
        data: {
          type: "array",
          items: {
            type: "object",
            properties: {
              b64_json: { type: "string" },
              url: { type: "string" },
              expires_at: { type: "string", format: "date-time" },
              revised_prompt: { type: "string" },
            },
          },
        },
      },
      required: ["created", "data"],
    },
    OpenAiChatRequest: fromZod(openAiChatSchema),
    ChatCompletion: {
      type: "object",
      properties: {
        id: { type: "string" },
        object: { const: "chat.completion" },
        choices: { type: "array", items: { type: "object" } },
      },
      required: ["id", "object", "choices"],
    },
    Model: {
      type: "object",
      properties: {
        id: { type: "string" },
        object: { const: "model" },
        created: { type: "integer" },
        owned_by: { type: "string" },
      },
      required: ["id", "object", "created", "owned_by"],
    },
  };

  const sse: Json = { "text/event-stream": { schema: { type: "string" } } };

  const paths: Json = {
    "/v1/images/generations": {
      post: {
        summary: "OpenAI Images: generate",
        tags: ["openai"],
        security: bearer,
        parameters: [idempotencyHeader],
        requestBody: jsonBody(ref("OpenAiImageOptions")),
        responses: {
          "200": {
            description: "Images, or SSE when `stream: true`",
            content: { ...jsonContent(ref("ImagesResponse")), ...sse },
          },
          ...openAiErrors(400, 401, 403, 413, 429, 502, 503, 504),
        },
      },
    },
    "/v1/images/edits": {
      post: {
        summary: "OpenAI Images: edit (multipart `image`/`image[]`, or JSON with data URLs)",
        tags: ["openai"],
        security: bearer,
        parameters: [idempotencyHeader],
        requestBody: {
          required: true,
          content: {
            "multipart/form-data": { schema: ref("OpenAiEditMultipart") },
            ...jsonContent(ref("OpenAiJsonEdit")),
          },
        },
        responses: {
          "200": {
            description: "Images, or SSE when `stream: true`",
            content: { ...jsonContent(ref("ImagesResponse")), ...sse },
          },
          ...openAiErrors(400, 401, 403, 413, 429, 502, 503, 504),
        },
      },
    },
    "/v1/models": {
      get: {
        summary: "OpenAI: list models",
        tags: ["openai"],
        security: bearer,
        responses: {
          "200": reply("Models", {
            type: "object",
            properties: { object: { const: "list" }, data: { type: "array", items: ref("Model") } },
          }),
          ...openAiErrors(401),
        },
      },
    },
    "/v1/models/{model}": {
      get: {
        summary: "OpenAI: one model",
        tags: ["openai"],
        security: bearer,
        parameters: [pathParam("model", "Model id")],
        responses: { "200": reply("The model", ref("Model")), ...openAiErrors(401, 404) },
      },
    },
    "/v1/chat/completions": {
      post: {
        summary: "OpenAI chat completions that generate an image (non-streaming)",
        tags: ["openai"],
        security: bearer,
        requestBody: jsonBody(ref("OpenAiChatRequest")),
        responses: {
          "200": reply("A completion with the image as markdown", ref("ChatCompletion")),
          ...openAiErrors(400, 401, 403, 413, 429, 502, 503, 504),
        },
      },
    },
    "/v1/responses": {
      post: {
        summary: "OpenAI Responses API with the image_generation tool (streaming or not)",
        description:
          'Needs `tools: [{type: "image_generation"}]` (otherwise 400 `unsupported_tool`). With `stream: true` the reply is SSE (`response.*` events). `previous_response_id` edits that response\'s images.',
        tags: ["openai"],
        security: bearer,
        requestBody: jsonBody(fromZod(responsesCreateSchema)),
        responses: {
          "200": {
            description: "A Response object, or its events as SSE when streaming",
            content: {
              "application/json": { schema: ref("Response") },
              "text/event-stream": { schema: { type: "string" } },
            },
          },
          ...openAiErrors(400, 401, 403, 413, 429, 502, 503, 504),
        },
      },
    },
    "/v1/responses/{id}": {
      get: {
        summary: "A stored response (every response is stored)",
        tags: ["openai"],
        security: bearer,
        parameters: [pathParam("id", "Response id, resp_…")],
        responses: { "200": reply("The Response", ref("Response")), ...openAiErrors(401, 404) },
      },
      delete: {
        summary: "Delete a finished response with its images",
        tags: ["openai"],
        security: bearer,
        parameters: [pathParam("id", "Response id, resp_…")],
        responses: {
          "200": reply("Deleted", {
            type: "object",
            properties: {
              id: { type: "string" },
              object: { const: "response.deleted" },
              deleted: { const: true },
            },
          }),
          ...openAiErrors(400, 401, 404),
        },
      },
    },
  };

  return {
    openapi: "3.1.0",
    info: {
      title: "codex-img",
      version: options.version,
      description:
        "Image generation over Codex subscriptions: the predecessor's API, OpenAI's Images API and jobs.",
    },
    servers: [{ url: options.serverUrl }],
    components: {
      schemas,
      securitySchemes: { bearer: { type: "http", scheme: "bearer", description: "An API key, `cimg_…`." } },
    },
    paths,
  };
}
