import {
  CodexImgError,
  IMAGE_MIME_TYPES,
  type ImageRequest,
  imageKeyFormat,
  isCodexImgError,
  isImageKey,
  isTerminalJobState,
  type Job,
  REQUEST_LIMITS,
  sniffImage,
} from "@codex-img/core";
import { createRoute, type OpenAPIHono, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { AppEnv } from "../app-env.js";
import { type JsonWithReferences, readJsonBodyWithReferences } from "../http/json-references.js";
import { nativeErrorParts, nativeErrorResponse } from "../http/native-error.js";
import { bodyHandedOff } from "../http/request-door.js";
import { assertScope, requireCaller } from "../http/require-key.js";
import { whileConnected } from "../http/while-connected.js";
import { assertImageServable, imageUrl, jobPollUrl, signingSecret } from "../services/image-urls.js";
import { jobJsonReplies } from "../services/job-json-replies.js";
import { predecessorJobView, visibleJob } from "../services/job-views.js";
import { decodeDataUrlOrBase64 } from "../services/reference-input.js";
import { stageReferences, submitImageJob } from "../services/submit-image-job.js";
import type { ApiServices } from "../services.js";
import { AcceptedSchema, PredecessorJobSchema } from "./job-schemas.js";
import {
  BEARER,
  documentedBody,
  IDEMPOTENCY_HEADER,
  jsonReply,
  nativeErrors,
  pathParam,
  routeGroup,
  serve,
} from "./route-declarations.js";

/** The predecessor's body rules (interfaces.md §1), plus `auto` for size. Unknown fields are ignored, as pydantic did. */
export const PredecessorImageBody = z.object({
  prompt: z.string().min(1).max(REQUEST_LIMITS.promptMaxChars),
  size: z
    .string()
    .regex(/^(auto|\d{3,4}x\d{3,4})$/, { message: 'size must be "auto" or WIDTHxHEIGHT (e.g. 1024x1024)' })
    .default("1024x1024"),
  quality: z.enum(["low", "medium", "high", "auto"]).default("medium"),
  count: z.number().int().min(1).max(4).default(1),
  reference_images_base64: z.array(z.string()).max(REQUEST_LIMITS.maxReferenceImages).nullish(),
  reference_image_base64: z.string().nullish(),
});
export type PredecessorImageBody = z.infer<typeof PredecessorImageBody>;

/**
 * The predecessor's REST API, shape for shape, with its defects fixed: input checked at the door (400 with
 * a code and `param`), a sync wait that runs out answers 202 with the id and a poll URL, a full queue or an
 * exhausted limit answers at once with `Retry-After`.
 */
export function predecessorRoutes(services: ApiServices): OpenAPIHono<AppEnv> {
  const app = routeGroup();
  // Per route, not `app.use`: middleware of a mounted group would also run for every other family's routes.
  const auth = requireCaller(services);
  // What both ways of creating a job take.
  const creatingJob = {
    tags: ["predecessor"],
    security: BEARER,
    middleware: [auth],
    parameters: [IDEMPOTENCY_HEADER],
    request: {
      body: documentedBody(app, {
        "application/json": { name: "PredecessorImageBody", schema: PredecessorImageBody },
      }),
    },
  };

  const generate = createRoute({
    method: "post",
    path: "/v1/images/generate",
    operationId: "generateAndWait",
    summary: "Generate and wait (predecessor API)",
    description:
      "Needs the `generate` scope, or `edit` with reference images. A failed job answers its error with `id` and `status`.",
    ...creatingJob,
    responses: {
      200: jsonReply("Succeeded", PredecessorJobSchema),
      202: jsonReply("Still running after the wait; poll `poll_url`", AcceptedSchema),
      ...nativeErrors(400, 401, 403, 429, 502, 503, 504),
    },
  });
  serve(app, generate, async (c) => {
    const done = await whileConnected(c, async (signal) => {
      const job = await createJob(services, c, signal);
      return services.queue.waitForJob(job.id, { timeoutMs: services.options.requestWaitTimeoutMs, signal });
    });
    if (done.state === "succeeded") {
      return c.json({
        id: done.id,
        status: "succeeded",
        images: await Promise.all(done.images.map((image) => imageUrl(services, image, done))),
        created_at: new Date(done.createdAt).toISOString(),
      });
    }
    if (isTerminalJobState(done.state)) return jobFailure(c, done);
    // Still queued or running: the caller keeps the id and polls (the predecessor answered 504 and lost it).
    const pollUrl = jobPollUrl(services, done.id);
    c.header("Location", pollUrl);
    return c.json({ id: done.id, status: done.state, poll_url: pollUrl }, 202);
  });

  const submit = createRoute({
    method: "post",
    path: "/v1/images/jobs",
    operationId: "submitJob",
    summary: "Submit a job (predecessor API)",
    ...creatingJob,
    responses: {
      202: jsonReply("Queued; poll `Location`", AcceptedSchema),
      ...nativeErrors(400, 401, 403, 429, 503),
    },
  });
  serve(app, submit, async (c) => {
    const job = await createJob(services, c);
    c.header("Location", jobPollUrl(services, job.id));
    return c.json({ id: job.id, status: job.state }, 202);
  });

  const poll = createRoute({
    method: "get",
    path: "/v1/images/jobs/{id}",
    operationId: "pollJob",
    summary: "Poll a job (predecessor API)",
    tags: ["predecessor"],
    security: BEARER,
    middleware: [auth] as const,
    parameters: [pathParam("id", "Job id")],
    responses: { 200: jsonReply("The job", PredecessorJobSchema), ...nativeErrors(401, 404) },
  });
  const pollReply = jobJsonReplies((job) => predecessorJobView(services, job));
  serve(app, poll, async (c) => pollReply(c, await visibleJob(services, c.get("caller"), c.req.param("id"))));

  const image = createRoute({
    method: "get",
    path: "/generated/{file}",
    operationId: "getGeneratedImage",
    // Public: no key.
    security: [],
    summary: "A generated image",
    description:
      "Served until the job's `expires_at`. With signed URLs on, `expires` and `sig` are required.",
    tags: ["images"],
    // Checked together (and against the clock) by `assertImageServable`.
    parameters: [
      pathParam("file", "Image key, e.g. img_….png"),
      { name: "expires", in: "query", required: false, schema: { type: "integer" } },
      { name: "sig", in: "query", required: false, schema: { type: "string" } },
    ],
    responses: {
      200: {
        description: "Image bytes",
        content: Object.fromEntries(
          Object.values(IMAGE_MIME_TYPES).map((type) => [
            type,
            { schema: z.string().openapi({ format: "binary" }) },
          ]),
        ),
      },
      ...nativeErrors(403, 404),
    },
  });
  serve(app, image, async (c) => {
    const file = c.req.param("file");
    // Only our exact key shape reaches the store (no traversal), and only generated images: reference
    // images of queued jobs share the store but were never handed out.
    const format = isImageKey(file) && file.startsWith("img_") ? imageKeyFormat(file) : undefined;
    if (!format) throw new CodexImgError("not_found", "No such image.");
    const expiresAt = await assertImageServable(services, file, {
      expires: c.req.query("expires"),
      sig: c.req.query("sig"),
    });
    const image = await services.images.stream(file);
    if (!image) throw new CodexImgError("not_found", "No such image.");
    // Caches must not serve the image past its expiry.
    const maxAge = Math.max(0, Math.min(3600, Math.floor((expiresAt - services.clock.now()) / 1000)));
    return c.body(image.body, 200, {
      "Content-Type": IMAGE_MIME_TYPES[format],
      "Content-Length": String(image.bytes),
      // Keys are unguessable and never reused, so a copy never goes stale before its expiry.
      "Cache-Control": `${signingSecret(services) ? "private" : "public"}, max-age=${maxAge}, immutable`,
      "X-Content-Type-Options": "nosniff",
    });
  });

  app.onError((error, c) => nativeErrorResponse(c, error));
  return app;
}

/** `signal`: the connection of a caller waiting for the result (see `whileConnected`); none for 202 jobs. */
async function createJob(services: ApiServices, c: Context<AppEnv>, signal?: AbortSignal): Promise<Job> {
  const { body, json } = await readJsonBodyWithReferences(c, PredecessorImageBody, {
    maxBytes: services.options.maxBodyBytes,
    referencePaths: PREDECESSOR_REFERENCES,
  });
  const { request, references, referenceParam } = toImageRequest(body, json);
  json.dispose();
  const caller = c.get("caller");
  assertScope(caller, references.length ? "edit" : "generate");
  const idempotencyKey = readIdempotencyKey(c);
  try {
    const staged = await stageReferences(services, references);
    // The references are in the image store: nothing of the body is held while the job runs.
    bodyHandedOff(c);
    try {
      const { job } = await submitImageJob(services, caller, request, {
        ...(idempotencyKey ? { idempotencyKey } : {}),
        ...(signal ? { signal } : {}),
        staged,
      });
      return job;
    } finally {
      await staged.discard();
    }
  } catch (error) {
    throw renameParam(error, { n: "count", image: referenceParam });
  }
}

/** Where the predecessor's body carries reference images (kept as bytes while read). */
const PREDECESSOR_REFERENCES = ["reference_images_base64.*", "reference_image_base64"];

/**
 * The predecessor's fields as an engine request, and its references decoded and sniffed here, at the door
 * (to be staged in the image store: the request itself carries none).
 */
export function toImageRequest(
  body: PredecessorImageBody,
  json?: JsonWithReferences,
): {
  request: Omit<ImageRequest, "referenceImages">;
  references: Uint8Array[];
  referenceParam: string;
} {
  const list = body.reference_images_base64;
  const referenceParam = list?.length ? "reference_images_base64" : "reference_image_base64";
  const sources = list?.length ? list : body.reference_image_base64 ? [body.reference_image_base64] : [];
  const references = sources.map((source, index) => {
    const label = sources.length > 1 ? `reference image ${index + 1}` : "the reference image";
    let bytes: Uint8Array;
    try {
      bytes = decodeDataUrlOrBase64(source, json);
    } catch (error) {
      if (isCodexImgError(error)) throw error;
      throw invalid(referenceParam, `${label} is not valid base64`);
    }
    if (bytes.length > REQUEST_LIMITS.maxReferenceBytes) {
      throw invalid(
        referenceParam,
        `${label} is larger than ${REQUEST_LIMITS.maxReferenceBytes / 1024 / 1024} MB`,
      );
    }
    if (!sniffImage(bytes)) throw invalid(referenceParam, `${label} is not a PNG, JPEG or WebP image`);
    return bytes;
  });
  return {
    request: {
      prompt: body.prompt,
      size: body.size as ImageRequest["size"],
      quality: body.quality,
      // The predecessor made one composed image from references whatever `count` said.
      n: references.length > 0 ? 1 : body.count,
    },
    references,
    referenceParam,
  };
}

/** `Idempotency-Key`: 1 to 255 visible ASCII characters. */
export function readIdempotencyKey(c: Context): string | undefined {
  const value = c.req.header("idempotency-key");
  if (value === undefined) return undefined;
  const trimmed = value.trim();
  if (!/^[\x21-\x7e]{1,255}$/.test(trimmed)) {
    throw invalid("Idempotency-Key", "Idempotency-Key must be 1 to 255 visible ASCII characters.");
  }
  return trimmed;
}

/** The failed or canceled job's own error, with its code and status, and the id so the caller can look it up. */
export function jobFailure(c: Context<AppEnv>, job: Job): Response {
  const source = job.error ?? { code: "internal" as const, message: `The job ended ${job.state}.` };
  const error = new CodexImgError(source.code, source.message, {
    ...(source.retryAfterMs === undefined ? {} : { retryAfterMs: source.retryAfterMs }),
  });
  const { body, status, headers } = nativeErrorParts(error);
  for (const [name, value] of Object.entries(headers)) c.header(name, value);
  return c.json({ ...body, id: job.id, status: job.state }, status as ContentfulStatusCode);
}

function renameParam(error: unknown, names: Record<string, string>): unknown {
  if (!isCodexImgError(error, "invalid_request")) return error;
  const param = error.details.param;
  const renamed = typeof param === "string" ? names[param] : undefined;
  if (!renamed) return error;
  return new CodexImgError("invalid_request", error.message, {
    details: { ...error.details, param: renamed },
    cause: error,
  });
}

function invalid(param: string, message: string): CodexImgError {
  return new CodexImgError("invalid_request", message, { details: { param } });
}
