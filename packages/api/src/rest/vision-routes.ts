import {
  CodexImgError,
  isCodexImgError,
  isTerminalJobState,
  REQUEST_LIMITS,
  VISION_LIMITS,
} from "@codex-img/core";
import { createRoute, type OpenAPIHono, z } from "@hono/zod-openapi";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { AppEnv } from "../app-env.js";
import { type JsonWithReferences, readJsonBodyWithReferences } from "../http/json-references.js";
import { nativeErrorParts } from "../http/native-error.js";
import { bodyHandedOff } from "../http/request-door.js";
import { requireKey } from "../http/require-key.js";
import { whileConnected } from "../http/while-connected.js";
import { jobPollUrl } from "../services/image-urls.js";
import { decodeDataUrlOrBase64 } from "../services/reference-input.js";
import { stageReferences, submitVisionJob } from "../services/submit-image-job.js";
import type { ApiServices } from "../services.js";
import { AcceptedSchema } from "./job-schemas.js";
import { nativeJobFailure } from "./native-job-failure.js";
import { readIdempotencyKey } from "./read-idempotency-key.js";
import {
  BEARER,
  documentedBody,
  IDEMPOTENCY_HEADER,
  jsonReply,
  nativeErrors,
  routeGroup,
  serve,
} from "./route-declarations.js";

/** The predecessor's `/v1/vision` body: a prompt and 1 to 16 base64 images (PNG, JPEG or WebP). */
export const VisionBody = z.object({
  prompt: z.string().min(1).max(REQUEST_LIMITS.promptMaxChars),
  // Counted by the route, not here: outside 1-16 is the predecessor's 422, not a 400.
  images_base64: z.array(z.string()).openapi({
    description: "1 to 16 images (PNG, JPEG or WebP), base64 or data URLs; another count is 422.",
  }),
  /** Extension: the text model to ask (default the backend's own). */
  model: z.string().min(1).max(100).nullish(),
});

/**
 * `POST /v1/vision` in the predecessor's shape: a question about images answered with text,
 * `{"id": "vis_…", "text": …}`. The number of images outside 1-16 is 422, as the predecessor's FastAPI
 * validation answered; an answer that never comes is the job's error (502 `upstream_failed` for an
 * empty answer), never an empty 200. A wait that runs out answers 202 with the id and a poll URL.
 */
export function visionRoutes(services: ApiServices): OpenAPIHono<AppEnv> {
  const app = routeGroup();
  const route = createRoute({
    method: "post",
    path: "/v1/vision",
    operationId: "askVision",
    summary: "Ask about 1 to 16 images and wait for the text answer (predecessor API)",
    description: "Needs the `vision` scope. 422 outside 1-16 images; 502 when upstream gives no answer.",
    tags: ["predecessor"],
    security: BEARER,
    middleware: [requireKey(services, "vision")] as const,
    parameters: [IDEMPOTENCY_HEADER],
    request: {
      body: documentedBody(app, { "application/json": { name: "VisionBody", schema: VisionBody } }),
    },
    responses: {
      200: jsonReply(
        "Answered",
        z
          .object({ id: z.string().openapi({ description: "`vis_…`" }), text: z.string() })
          .openapi("VisionAnswer"),
      ),
      202: jsonReply("Still running after the wait; poll `poll_url`", AcceptedSchema),
      ...nativeErrors(400, 401, 403, 422, 429, 502, 503, 504),
    },
  });
  serve(app, route, async (c) => {
    const { body, json } = await readJsonBodyWithReferences(c, VisionBody, {
      maxBytes: services.options.maxBodyBytes,
      referencePaths: ["images_base64.*"],
    });
    const count = body.images_base64.length;
    if (count < VISION_LIMITS.minImages || count > VISION_LIMITS.maxImages) {
      const error = new CodexImgError(
        "invalid_request",
        `images_base64 must hold ${VISION_LIMITS.minImages} to ${VISION_LIMITS.maxImages} images; ${count} were given.`,
        { details: { param: "images_base64" } },
      );
      const parts = nativeErrorParts(error);
      return c.json(parts.body, 422);
    }
    const images = body.images_base64.map((source, index) => decodeImage(source, index, json));
    json.dispose();
    const idempotencyKey = readIdempotencyKey(c);
    const staged = await stageReferences(services, images);
    // The images are in the image store: nothing of the body is held while the question is answered.
    bodyHandedOff(c);
    const done = await whileConnected(c, async (signal) => {
      let job: Awaited<ReturnType<typeof submitVisionJob>>["job"];
      try {
        ({ job } = await submitVisionJob(
          services,
          c.get("caller"),
          { prompt: body.prompt, ...(body.model ? { model: body.model } : {}) },
          { ...(idempotencyKey ? { idempotencyKey } : {}), signal, staged },
        ));
      } catch (error) {
        throw renameImageParam(error);
      } finally {
        await staged.discard();
      }
      return services.queue.waitForJob(job.id, { timeoutMs: services.options.requestWaitTimeoutMs, signal });
    });
    if (done.state === "succeeded") return c.json({ id: done.id, text: done.text ?? "" });
    if (isTerminalJobState(done.state)) return nativeJobFailure(c, done);
    const pollUrl = jobPollUrl(services, done.id);
    c.header("Location", pollUrl);
    return c.json({ id: done.id, status: done.state, poll_url: pollUrl }, 202 as ContentfulStatusCode);
  });
  return app;
}

function decodeImage(source: string, index: number, json: JsonWithReferences): Uint8Array {
  try {
    return decodeDataUrlOrBase64(source, json);
  } catch (error) {
    if (isCodexImgError(error)) throw error;
    throw new CodexImgError("invalid_request", `image ${index + 1} is not valid base64`, {
      details: { param: `images_base64.${index}` },
    });
  }
}

/** The engine names the images `image`; this route's callers know them as `images_base64`. */
function renameImageParam(error: unknown): unknown {
  if (!isCodexImgError(error, "invalid_request") || error.details.param !== "image") return error;
  return new CodexImgError("invalid_request", error.message, {
    details: { ...error.details, param: "images_base64" },
    cause: error,
  });
}
