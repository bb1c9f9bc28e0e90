import { CodexImgError, type ImageRequest, isCodexImgError, type Job } from "@codex-img/core";
import { createRoute, type OpenAPIHono } from "@hono/zod-openapi";
import type { Context } from "hono";
import type { AppEnv } from "../app-env.js";
import { readJsonWithReferences } from "../http/json-references.js";
import { readJsonValue } from "../http/native-error.js";
import { openAiErrorResponse } from "../http/openai-error.js";
import { bodyHandedOff } from "../http/request-door.js";
import { assertScope, requireCaller, requireKey } from "../http/require-key.js";
import { jsonWithImages } from "../services/json-with-images.js";
import { stageReferences, submitImageJob, submitVisionJob } from "../services/submit-image-job.js";
import type { ApiServices } from "../services.js";
import { chatCompletion, chatImagePrompt, chatTextCompletion } from "./openai-chat.js";
import { readEditInput } from "./openai-edit-input.js";
import { runImageJob, submitAndWait } from "./openai-image-job.js";
import { streamedJson } from "./openai-images.js";
import { LISTED_MODELS, modelObject } from "./openai-models.js";
import {
  ChatCompletionSchema,
  ImagesResponseSchema,
  ModelListSchema,
  ModelSchema,
  OpenAiEditMultipartSchema,
} from "./openai-reply-schemas.js";
import {
  openAiChatSchema,
  openAiImageOptionsSchema,
  openAiJsonEditSchema,
  parseOpenAi,
  toImageRequest,
} from "./openai-schemas.js";
import {
  BEARER,
  documentedBody,
  IDEMPOTENCY_HEADER,
  jsonOrEvents,
  jsonReply,
  OPENAI_JOB_ERRORS,
  openAiErrors,
  pathParam,
  routeGroup,
  serve,
} from "./route-declarations.js";

/** Where chat bodies carry reference images (kept as bytes while read). */
const CHAT_REFERENCES = ["messages.*.content.*.image_url", "messages.*.content.*.image_url.url"];

/**
 * The OpenAI-compatible family: Images API (generations, edits, streaming), `/v1/models` and image
 * generation through chat completions. Every refusal is answered in OpenAI's error shape so the official
 * SDKs raise their typed errors and follow our retry headers.
 */
export function openAiRoutes(services: ApiServices): OpenAPIHono<AppEnv> {
  const app = routeGroup();
  // What both image routes share: a key with the route's scope, idempotency, images or their events.
  const imageRoute = (scope: "generate" | "edit") => ({
    tags: ["openai"],
    security: BEARER,
    middleware: [requireKey(services, scope)],
    parameters: [IDEMPOTENCY_HEADER],
    responses: {
      200: jsonOrEvents("Images, or their events as SSE when `stream: true`", ImagesResponseSchema),
      ...OPENAI_JOB_ERRORS,
    },
  });

  const generations = createRoute({
    method: "post",
    path: "/v1/images/generations",
    operationId: "createImage",
    summary: "OpenAI Images: generate",
    description: "Needs the `generate` scope.",
    ...imageRoute("generate"),
    request: {
      body: documentedBody(app, {
        "application/json": { name: "OpenAiImageOptions", schema: openAiImageOptionsSchema },
      }),
    },
  });
  serve(app, generations, async (c) => {
    const options = parseOpenAi(openAiImageOptionsSchema, await readJson(c, services));
    return runImageJob(c, services, toImageRequest(options), options, "image_generation");
  });

  const edits = createRoute({
    method: "post",
    path: "/v1/images/edits",
    operationId: "createImageEdit",
    summary: "OpenAI Images: edit (multipart `image`/`image[]`, or JSON with data URLs)",
    description: "Needs the `edit` scope. A multipart body is read one part at a time.",
    ...imageRoute("edit"),
    request: {
      body: documentedBody(app, {
        "multipart/form-data": { name: "OpenAiEditMultipart", schema: OpenAiEditMultipartSchema },
        "application/json": { name: "OpenAiJsonEdit", schema: openAiJsonEditSchema },
      }),
    },
  });
  serve(app, edits, async (c) => {
    const input = await readEditInput(c, services);
    // The references are in the image store and nothing of the body is held any more.
    bodyHandedOff(c);
    try {
      // Masks have no counterpart in the subscription's image tool; sending one as a second reference
      // would make the model draw from it, so it is validated and ignored, and the reply says so.
      if (input.maskIgnored) c.header("x-codex-img-warning", "mask is not supported and was ignored");
      const request = toImageRequest(input.options);
      return await runImageJob(c, services, request, input.options, "image_edit", input.staged);
    } finally {
      await input.staged.discard();
    }
  });

  const models = createRoute({
    method: "get",
    path: "/v1/models",
    operationId: "listModels",
    summary: "OpenAI: list models",
    tags: ["openai"],
    security: BEARER,
    middleware: [requireCaller(services)] as const,
    responses: { 200: jsonReply("Models", ModelListSchema), ...openAiErrors(401) },
  });
  serve(app, models, (c) => c.json({ object: "list", data: LISTED_MODELS.map(modelObject) }));

  const model = createRoute({
    method: "get",
    path: "/v1/models/{model}",
    operationId: "retrieveModel",
    summary: "OpenAI: one model",
    tags: ["openai"],
    security: BEARER,
    middleware: [requireCaller(services)] as const,
    parameters: [pathParam("model", "Model id")],
    responses: { 200: jsonReply("The model", ModelSchema), ...openAiErrors(401, 404) },
  });
  serve(app, model, (c) => {
    const id = c.req.param("model");
    if (!LISTED_MODELS.includes(id)) {
      throw new CodexImgError("not_found", `The model '${id.slice(0, 100)}' does not exist.`, {
        details: { param: "model" },
      });
    }
    return c.json(modelObject(id));
  });

  const chat = createRoute({
    method: "post",
    path: "/v1/chat/completions",
    operationId: "createChatCompletion",
    summary: "OpenAI chat completions: an image, or text about `image_url` parts (non-streaming)",
    description:
      "The last user message is the prompt. With an image model (or none) the reply holds the generated image as markdown (`generate` scope; `edit` with image parts); with a text model and image parts it answers about them as text (`vision` scope).",
    tags: ["openai"],
    security: BEARER,
    middleware: [requireCaller(services)] as const,
    request: {
      body: documentedBody(app, {
        "application/json": { name: "OpenAiChatRequest", schema: openAiChatSchema },
      }),
    },
    responses: {
      200: jsonReply("A completion", ChatCompletionSchema),
      ...OPENAI_JOB_ERRORS,
    },
  });
  serve(app, chat, async (c) => {
    const json = await readJsonWithReferences(c, services.options.maxBodyBytes, CHAT_REFERENCES);
    const body = parseOpenAi(openAiChatSchema, json.value);
    if (body.stream) {
      throw new CodexImgError(
        "invalid_request",
        "Streaming is not supported for image generation through chat completions; send stream: false.",
        { details: { param: "stream" } },
      );
    }
    const { prompt, references } = chatImagePrompt(body, json);
    json.dispose();
    const vision = references.length > 0 && isTextModel(body.model);
    // Images put to a text model are a question about them (vision), answered as text.
    assertScope(c.get("caller"), vision ? "vision" : references.length > 0 ? "edit" : "generate");
    const staged = await stageReferences(services, references);
    bodyHandedOff(c);
    let job: Job;
    try {
      if (vision) {
        const request = { prompt, ...(body.model ? { model: body.model } : {}) };
        job = await submitAndWait(c, services, (options) =>
          submitVisionJob(services, c.get("caller"), request, { ...options, staged }),
        );
        return c.json(chatTextCompletion(services, job, body.model));
      }
      const request: ImageRequest = { prompt };
      job = await submitAndWait(c, services, (options) =>
        submitImageJob(services, c.get("caller"), request, { ...options, staged }),
      );
    } finally {
      await staged.discard();
    }
    const reply = await jsonWithImages(services.images, "response", (base64Of) =>
      chatCompletion(services, job, body.model, base64Of),
    );
    return streamedJson(c, reply);
  });

  app.onError((error, c) => {
    if (!isCodexImgError(error)) {
      services.logger.error("openai route failed", { requestId: c.get("requestId"), error });
    }
    // A wait that ended with the job still running: retrying would start a second job.
    const pending = isCodexImgError(error) && error.details.pending === true;
    return openAiErrorResponse(c, error, pending ? { shouldRetry: false } : {});
  });
  return app;
}

function readJson(c: Context<AppEnv>, services: ApiServices): Promise<unknown> {
  return readJsonValue(c, services.options.maxBodyBytes);
}

/**
 * Whether a chat model names a text model: images sent to it are a question (vision). Image models
 * (`gpt-image-*`, `dall-e-*`) and no model at all keep the seed gateway's meaning: draw, with the images
 * as references.
 */
function isTextModel(model: string | null | undefined): boolean {
  const name = model?.trim().toLowerCase() ?? "";
  return name !== "" && !/^(gpt-image|dall-e|chatgpt-image)/.test(name);
}
