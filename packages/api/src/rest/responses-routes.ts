import { CodexImgError, isCodexImgError, isTerminalJobState, type Job } from "@codex-img/core";
import { createLibsqlJobStore, deleteJobWithFiles } from "@codex-img/db";
import { createRoute, type OpenAPIHono } from "@hono/zod-openapi";
import type { Context } from "hono";
import { streamSSE } from "hono/streaming";
import type { AppEnv } from "../app-env.js";
import { readJsonWithReferences } from "../http/json-references.js";
import { openAiErrorObject, openAiErrorResponse } from "../http/openai-error.js";
import { bodyHandedOff } from "../http/request-door.js";
import { assertScope, requireCaller } from "../http/require-key.js";
import { whileConnected } from "../http/while-connected.js";
import { visibleJob } from "../services/job-views.js";
import { type Base64Of, jsonWithImages } from "../services/json-with-images.js";
import { stageReferences, submitImageJob } from "../services/submit-image-job.js";
import type { ApiServices } from "../services.js";
import { jobFailure, streamedJson } from "./openai-images.js";
import { parseOpenAi } from "./openai-schemas.js";
import { KEEPALIVE_MS, writeImageEvent } from "./openai-stream.js";
import { imageCallItem, isStoredResponse, responseEchoOf, responseObject } from "./responses-object.js";
import { ResponseDeletedSchema, ResponseSchema } from "./responses-reply-schemas.js";
import {
  imageToolOf,
  jobIdOfResponse,
  responsesCreateSchema,
  responsesImageRequest,
} from "./responses-request.js";
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
      ? await previousImages(services, c, body.previous_response_id)
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
  const body = await jsonWithImages(services.images, (base64Of) => responseObject(services, job, base64Of));
  return streamedJson(c, body);
}

/**
 * The job behind a stored response the caller may see; anything else (unknown, another key's, made
 * with `store: false`) is the same `not_found`, in OpenAI's words.
 */
async function responseJob(services: ApiServices, c: Context<AppEnv>, id: string): Promise<Job> {
  const notFound = (): CodexImgError =>
    new CodexImgError("not_found", `Response with id '${id.slice(0, 100)}' not found.`, {
      details: { param: "id" },
    });
  const jobId = jobIdOfResponse(id);
  if (!jobId) throw notFound();
  let job: Job;
  try {
    job = await visibleJob(services, c.get("caller"), jobId);
  } catch (error) {
    if (isCodexImgError(error, "not_found")) throw notFound();
    throw error;
  }
  if (!isStoredResponse(job)) throw notFound();
  return job;
}

/** The images of the previous response, which the next turn edits. */
async function previousImages(services: ApiServices, c: Context<AppEnv>, id: string): Promise<Uint8Array[]> {
  let job: Job;
  try {
    job = await responseJob(services, c, id);
  } catch (error) {
    if (!isCodexImgError(error, "not_found")) throw error;
    throw new CodexImgError(
      "previous_response_not_found",
      `Previous response with id '${id.slice(0, 100)}' not found.`,
      { details: { param: "previous_response_id" } },
    );
  }
  if (job.state !== "succeeded") {
    throw new CodexImgError("invalid_request", `The previous response is ${job.state}, not completed.`, {
      details: { param: "previous_response_id" },
    });
  }
  return Promise.all(
    job.images.map(async (image) => {
      const bytes = await services.images.get(image.key);
      if (!bytes) {
        throw new CodexImgError(
          "invalid_request",
          "The images of the previous response are no longer stored.",
          {
            details: { param: "previous_response_id" },
          },
        );
      }
      return bytes;
    }),
  );
}

/**
 * The Responses streaming events for one job, as OpenAI sends them for the image tool: `response.created`,
 * `response.in_progress`, `response.output_item.added`, `response.image_generation_call.in_progress` /
 * `.generating` / `.partial_image` (up to `partialImages`) / `.completed`, `response.output_item.done`
 * with the image in `item.result`, then `response.completed`; a failed job ends with `response.failed`.
 * Every event has a `sequence_number`.
 */
function streamResponse(
  c: Context<AppEnv>,
  services: ApiServices,
  job: Job,
  partialImages: number,
): Response {
  const signal = c.req.raw.signal;
  return streamSSE(c, async (stream) => {
    let sequence = 0;
    const send = (type: string, build: (base64Of: Base64Of) => Record<string, unknown>): Promise<void> =>
      writeImageEvent(stream, services, type, (base64Of) => ({
        type,
        sequence_number: sequence++,
        ...build(base64Of),
      }));
    const keepalive = setInterval(() => stream.write(": keepalive\n\n").catch(() => undefined), KEEPALIVE_MS);
    const item = imageCallItem(job, undefined, undefined);
    const itemRef = { output_index: 0, item_id: item.id };
    try {
      await send("response.created", () => ({ response: responseObject(services, job, undefined) }));
      await send("response.in_progress", () => ({
        response: { ...responseObject(services, job, undefined), status: "in_progress" },
      }));
      await send("response.output_item.added", () => ({ output_index: 0, item }));
      await send("response.image_generation_call.in_progress", () => itemRef);
      let generating = false;
      let partials = 0;
      for await (const event of services.queue.subscribe(job.id, { signal })) {
        if (event.type === "progress" && event.stage === "generating" && !generating) {
          generating = true;
          await send("response.image_generation_call.generating", () => itemRef);
        } else if (event.type === "partial_image" && partials < partialImages) {
          const index = partials++;
          await send("response.image_generation_call.partial_image", (base64Of) => ({
            ...itemRef,
            partial_image_index: index,
            partial_image_b64: base64Of(event.image.key),
          })).catch((error: unknown) => {
            // The runner deletes partials when the job ends; one already gone is simply skipped.
            if (!isCodexImgError(error, "internal")) throw error;
          });
        } else if (event.type === "succeeded") {
          const finished = (await services.queue.get(job.id)) ?? job;
          await send("response.image_generation_call.completed", () => itemRef);
          for (const [index, image] of finished.images.entries()) {
            await send("response.output_item.done", (base64Of) => ({
              output_index: index,
              item: imageCallItem(finished, image, base64Of),
            }));
          }
          await send("response.completed", (base64Of) => ({
            response: responseObject(services, finished, base64Of),
          }));
        } else if (event.type === "failed" || event.type === "canceled") {
          const finished = (await services.queue.get(job.id)) ?? job;
          await send("response.failed", () => ({
            response: {
              ...responseObject(services, finished, undefined),
              error: openAiErrorObject(jobFailure(finished)),
            },
          }));
        }
      }
    } catch (error) {
      if (signal.aborted) return;
      if (!isCodexImgError(error)) services.logger.error("responses stream failed", { jobId: job.id, error });
      await stream
        .writeSSE({
          event: "error",
          data: JSON.stringify({ type: "error", error: openAiErrorObject(error) }),
        })
        .catch(() => undefined);
    } finally {
      clearInterval(keepalive);
    }
  });
}
