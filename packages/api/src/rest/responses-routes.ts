import { CodexImgError, isCodexImgError, isTerminalJobState, type Job } from "@codex-img/core";
import { createLibsqlJobStore, deleteJobWithFiles } from "@codex-img/db";
import { createRoute, type OpenAPIHono } from "@hono/zod-openapi";
import type { Context } from "hono";
import type { AppEnv } from "../app-env.js";
import { readJsonWithReferences } from "../http/json-references.js";
import { openAiErrorResponse } from "../http/openai-error.js";
import { bodyHandedOff } from "../http/request-door.js";
import { assertScope, requireCaller } from "../http/require-key.js";
import { whileConnected } from "../http/while-connected.js";
import { jsonWithImages } from "../services/json-with-images.js";
import { stageReferences, submitImageJob } from "../services/submit-image-job.js";
import type { ApiServices } from "../services.js";
import { jobFailure, streamedJson } from "./openai-images.js";
import { parseOpenAi } from "./openai-schemas.js";
import { previousResponseImages, responseJob } from "./response-job.js";
import { responseEchoOf, responseObject } from "./responses-object.js";
import { ResponseDeletedSchema, ResponseSchema } from "./responses-reply-schemas.js";
import { imageToolOf, responsesCreateSchema, responsesImageRequest } from "./responses-request.js";
import { streamResponse } from "./responses-stream.js";
import {
  BEARER,
  documentedBody,
  jsonOrEvents,
  jsonReply,
  OPENAI_JOB_ERRORS,
  openAiErrors,
  pathParam,
  routeGroup,
  serve,
} from "./route-declarations.js";

/**
 * OpenAI's Responses API with the `image_generation` tool: `POST /v1/responses` (streaming and not),
 * `GET` and `DELETE /v1/responses/{id}`. Each response is a job (same key limits, history, accounts);
 * its id is the job's under the `resp_` prefix, and what it was created with is kept with the job, so a
 * GET answers what the create did and `previous_response_id` continues from its images (a multi-turn
 * edit). A response made with `store: false` is never handed out again (GET and DELETE 404, a later
 * `previous_response_id` 400 `previous_response_not_found`, as OpenAI answers); its job stays in the
 * caller's history and counts. Errors are in OpenAI's shape.
 */
export function responsesRoutes(services: ApiServices): OpenAPIHono<AppEnv> {
  const app = routeGroup();
  const auth = requireCaller(services);
  const byId = {
    tags: ["openai"],
    security: BEARER,
    middleware: [auth],
    parameters: [pathParam("id", "Response id, resp_…")],
  };

  const create = createRoute({
    method: "post",
    path: "/v1/responses",
    operationId: "createResponse",
    summary: "OpenAI Responses API with the image_generation tool (streaming or not)",
    description:
      'Needs `tools: [{type: "image_generation"}]` (otherwise 400 `unsupported_tool`). With `stream: true` the reply is SSE (`response.*` events). `previous_response_id` edits that response\'s images.',
    tags: ["openai"],
    security: BEARER,
    middleware: [auth] as const,
    request: {
      body: documentedBody(app, {
        "application/json": { name: "ResponseCreate", schema: responsesCreateSchema },
      }),
    },
    responses: {
      200: jsonOrEvents("A Response object, or its events as SSE when streaming", ResponseSchema),
      ...OPENAI_JOB_ERRORS,
    },
  });
  serve(app, create, async (c) => {
    // Read as this route always read its body (any JSON value, invalid UTF-8 replaced), with the
    // `input_image` data URLs kept as bytes.
    const json = await readJsonWithReferences(
      c,
      services.options.maxBodyBytes,
      ["input.*.content.*.image_url"],
      "lenient",
    );
    const body = parseOpenAi(responsesCreateSchema, json.value);
    const tool = imageToolOf(body);
    const caller = c.get("caller");
    const previous = body.previous_response_id
      ? await previousResponseImages(services, c, body.previous_response_id)
      : [];
    const { referenceImages = [], ...request } = responsesImageRequest(body, tool, previous, json);
    json.dispose();
    assertScope(caller, referenceImages.length ? "edit" : "generate");
    const echo = responseEchoOf(body);
    const staged = await stageReferences(
      services,
      referenceImages.map((ref) => ref.bytes),
    );
    // The references are in the image store: nothing of the body is held while the image is made.
    bodyHandedOff(c);
    const submit = (signal: AbortSignal) =>
      submitImageJob(services, caller, request, { signal, echo, staged }).finally(() => staged.discard());
    if (body.stream) {
      const { job } = await submit(c.req.raw.signal);
      return streamResponse(c, services, job, tool.partial_images ?? 0);
    }
    const done = await whileConnected(c, async (signal) => {
      const { job } = await submit(signal);
      return services.queue.waitForJob(job.id, { timeoutMs: services.options.requestWaitTimeoutMs, signal });
    });
    if (done.state === "failed" || done.state === "canceled") throw jobFailure(done);
    // Still running after the wait: the response is `in_progress`, and the caller polls GET by its id.
    return reply(c, services, done);
  });

  const get = createRoute({
    method: "get",
    path: "/v1/responses/{id}",
    operationId: "getResponse",
    summary: "A stored response (404 for one created with `store: false`)",
    ...byId,
    responses: { 200: jsonReply("The Response", ResponseSchema), ...openAiErrors(401, 404) },
  });
  serve(app, get, async (c) => {
    const job = await responseJob(services, c, c.req.param("id"));
    return reply(c, services, job);
  });

  const remove = createRoute({
    method: "delete",
    path: "/v1/responses/{id}",
    operationId: "deleteResponse",
    summary: "Delete a finished response with its images",
    ...byId,
    responses: { 200: jsonReply("Deleted", ResponseDeletedSchema), ...openAiErrors(400, 401, 404) },
  });
  serve(app, remove, async (c) => {
    const id = c.req.param("id");
    const job = await responseJob(services, c, id);
    if (job.keyId !== c.get("caller").key.id) assertScope(c.get("caller"), "admin");
    if (!isTerminalJobState(job.state)) {
      throw new CodexImgError(
        "invalid_request",
        `The response is ${job.state}; delete it once it has ended.`,
        {
          details: { param: "id", reason: "not_finished" },
        },
      );
    }
    // The row, its events and its files (generated and reference images) go together.
    await deleteJobWithFiles(
      { store: createLibsqlJobStore(services.database), images: services.images },
      job.id,
    );
    return c.json({ id, object: "response.deleted", deleted: true });
  });

  app.onError((error, c) => {
    if (!isCodexImgError(error)) {
      services.logger.error("responses route failed", { requestId: c.get("requestId"), error });
    }
    return openAiErrorResponse(c, error);
  });
  return app;
}

async function reply(c: Context<AppEnv>, services: ApiServices, job: Job): Promise<Response> {
  const body = await jsonWithImages(services.images, "response", (base64Of) =>
    responseObject(services, job, base64Of),
  );
  return streamedJson(c, body);
}
