import {
  CodexImgError,
  IMAGE_MIME_TYPES,
  imageKeyFormat,
  isCodexImgError,
  isImageKey,
  isTerminalJobState,
  type Job,
} from "@codex-img/core";
import { createRoute, type OpenAPIHono, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import type { AppEnv } from "../app-env.js";
import { readJsonBodyWithReferences } from "../http/json-references.js";
import { bodyHandedOff } from "../http/request-door.js";
import { assertScope, requireCaller } from "../http/require-key.js";
import { whileConnected } from "../http/while-connected.js";
import { assertImageServable, imageUrl, jobPollUrl, signingSecret } from "../services/image-urls.js";
import { jobJsonReplies } from "../services/job-json-replies.js";
import { predecessorJobView, visibleJob } from "../services/job-views.js";
import { stageReferences, submitImageJob } from "../services/submit-image-job.js";
import type { ApiServices } from "../services.js";
import { AcceptedSchema, PredecessorJobSchema } from "./job-schemas.js";
import { nativeJobFailure } from "./native-job-failure.js";
import {
  PREDECESSOR_REFERENCES,
  PredecessorImageBody,
  predecessorImageRequest,
} from "./predecessor-request.js";
import { readIdempotencyKey } from "./read-idempotency-key.js";
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
    if (isTerminalJobState(done.state)) return nativeJobFailure(c, done);
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

  return app;
}

/** `signal`: the connection of a caller waiting for the result (see `whileConnected`); none for 202 jobs. */
async function createJob(services: ApiServices, c: Context<AppEnv>, signal?: AbortSignal): Promise<Job> {
  const { body, json } = await readJsonBodyWithReferences(c, PredecessorImageBody, {
    maxBytes: services.options.maxBodyBytes,
    referencePaths: PREDECESSOR_REFERENCES,
  });
  const { request, references, referenceParam } = predecessorImageRequest(body, json);
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
