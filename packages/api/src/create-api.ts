import { isUtf8 } from "node:buffer";
import { CodexImgError } from "@codex-img/core";
import { OpenAPIHono } from "@hono/zod-openapi";
import type { Hono } from "hono";
import type { AppEnv } from "./app-env.js";
import { createApiMetrics } from "./http/metrics.js";
import { nativeErrorResponse, readBodyBytes } from "./http/native-error.js";
import { openAiErrorResponse } from "./http/openai-error.js";
import { DEFAULT_MAX_HEADER_BYTES, requestDoor } from "./http/request-door.js";
import { jobRoutes } from "./rest/job-routes.js";
import { metricsRoutes } from "./rest/metrics-routes.js";
import { openAiRoutes } from "./rest/openai-routes.js";
import { serveOpenApiDocument } from "./rest/openapi-routes.js";
import { predecessorRoutes } from "./rest/predecessor-routes.js";
import { responsesRoutes } from "./rest/responses-routes.js";
import { systemRoutes } from "./rest/system-routes.js";
import { visionRoutes } from "./rest/vision-routes.js";
import type { ApiServices } from "./services.js";
import { createTrpcHandler } from "./trpc/create-trpc-handler.js";

export const DEFAULT_REQUEST_BUDGET_BYTES = 256 * 1024 * 1024;
export const DEFAULT_MIN_BODY_BYTES_PER_SECOND = 16 * 1024;
/** Connection setup and a short stall are not a slow body. */
export const DEFAULT_BODY_GRACE_MS = 10_000;

/** Routes of the OpenAI family answer every error, the door's too, in OpenAI's shape. */
function isOpenAiPath(path: string): boolean {
  return /^\/v1\/(images\/(generations|edits)|chat\/completions|models|responses)(\/|$)/.test(path);
}

/**
 * The whole HTTP surface as one Hono app; `app.fetch` is a `(Request) => Response` handler that any
 * runtime can serve (apps/server does the listening). Route groups are plain functions per family.
 */
export function createApi(services: ApiServices): Hono<AppEnv> {
  if (services.options.signedUrls && (services.options.urlSigningSecret?.length ?? 0) < 16) {
    throw new Error("signedUrls needs a urlSigningSecret of at least 16 characters.");
  }
  const app = new OpenAPIHono<AppEnv>();
  const door = requestDoor(
    {
      maxBodyBytes: services.options.maxBodyBytes,
      maxHeaderBytes: DEFAULT_MAX_HEADER_BYTES,
      budgetBytes: services.options.requestBudgetBytes ?? DEFAULT_REQUEST_BUDGET_BYTES,
      minBodyBytesPerSecond: services.options.minBodyBytesPerSecond ?? DEFAULT_MIN_BODY_BYTES_PER_SECOND,
      bodyGraceMs: services.options.bodyGraceMs ?? DEFAULT_BODY_GRACE_MS,
    },
    (c, error) => (isOpenAiPath(c.req.path) ? openAiErrorResponse(c, error) : nativeErrorResponse(c, error)),
  );
  const metrics = createApiMetrics(services, door);
  // Every request, in one layer: its id (a header on every reply, the door's refusals included) and its
  // metrics.
  app.use(async (c, next) => {
    const started = performance.now();
    const requestId = c.req.header("x-request-id")?.slice(0, 64) || crypto.randomUUID();
    c.set("requestId", requestId);
    c.set("logger", services.logger);
    // Before the response exists, so it is created with the header instead of rebuilt to add it; only a
    // handler that returns its own Response (tRPC) needs the header added afterwards.
    c.header("x-request-id", requestId);
    try {
      await next();
    } finally {
      metrics.observe(c, started);
    }
    if (!c.res.headers.has("x-request-id")) c.header("x-request-id", requestId);
  });
  app.use(door);
  app.route("/", systemRoutes(services));
  app.route("/", predecessorRoutes(services));
  app.route("/", visionRoutes(services));
  app.route("/", jobRoutes(services));
  app.route("/", openAiRoutes(services));
  app.route("/", responsesRoutes(services));
  app.route("/", metricsRoutes(services, metrics));
  serveOpenApiDocument(app, services);
  const trpc = createTrpcHandler(services);
  // The playground's reference images travel inside tRPC bodies, bounded by the door like REST bodies.
  app.all("/trpc/*", async (c) => {
    if (c.req.method !== "POST") return trpc(c.req.raw, c.env);
    // One UTF-8 rule for every route: tRPC would decode invalid bytes to U+FFFD and take the request,
    // where REST refuses it. Read at most `maxBodyBytes`, refuse invalid UTF-8, hand the bytes on.
    const bytes = await readBodyBytes(c, services.options.maxBodyBytes);
    if (!isUtf8(bytes)) return trpcBadUtf8(c.req.path, new URL(c.req.url).searchParams.has("batch"));
    const { method, headers, signal } = c.req.raw;
    return trpc(
      new Request(c.req.url, { method, headers, signal, body: bytes as Uint8Array<ArrayBuffer> }),
      c.env,
    );
  });
  // The OpenAI routes answer their own errors in OpenAI's shape; everything else answers in ours, here.
  app.notFound((c) => nativeErrorResponse(c, new CodexImgError("not_found", "No such endpoint.")));
  app.onError((error, c) => nativeErrorResponse(c, error));
  return app;
}

/** The 400 a tRPC client expects (its error shape, batched when the call was), with our code. */
function trpcBadUtf8(path: string, batch: boolean): Response {
  const procedures = path.replace(/^\/trpc\//, "").split(",");
  const errorOf = (procedure: string) => ({
    error: {
      message: "The request body is not valid UTF-8.",
      code: -32600,
      data: { code: "invalid_request", httpStatus: 400, path: procedure, param: "body" },
    },
  });
  const body = batch ? procedures.map(errorOf) : errorOf(procedures[0] ?? "");
  return Response.json(body, { status: 400 });
}
