import { CodexImgError } from "@codex-img/core";
import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import type { AppEnv } from "./app-env.js";
import { createApiMetrics } from "./http/metrics.js";
import { nativeErrorResponse } from "./http/native-error.js";
import { jobRoutes } from "./rest/job-routes.js";
import { metricsRoutes } from "./rest/metrics-routes.js";
import { openAiRoutes } from "./rest/openai-routes.js";
import { openApiRoutes } from "./rest/openapi-routes.js";
import { predecessorRoutes } from "./rest/predecessor-routes.js";
import { systemRoutes } from "./rest/system-routes.js";
import { visionRoutes } from "./rest/vision-routes.js";
import type { ApiServices } from "./services.js";
import { createTrpcHandler } from "./trpc/create-trpc-handler.js";

/**
 * The whole HTTP surface as one Hono app; `app.fetch` is a `(Request) => Response` handler that any
 * runtime can serve (apps/server does the listening). Route groups are plain functions per family.
 */
export function createApi(services: ApiServices): Hono<AppEnv> {
  if (services.options.signedUrls && (services.options.urlSigningSecret?.length ?? 0) < 16) {
    throw new Error("signedUrls needs a urlSigningSecret of at least 16 characters.");
  }
  const app = new Hono<AppEnv>();
  const metrics = createApiMetrics(services);
  app.use(metrics.middleware);
  app.use(async (c, next) => {
    const requestId = c.req.header("x-request-id")?.slice(0, 64) || crypto.randomUUID();
    c.set("requestId", requestId);
    c.set("logger", services.logger);
    await next();
    c.header("x-request-id", requestId);
  });
  app.route("/", systemRoutes(services));
  app.route("/", predecessorRoutes(services));
  app.route("/", visionRoutes(services));
  app.route("/", jobRoutes(services));
  app.route("/", openAiRoutes(services));
  app.route("/", metricsRoutes(services, metrics));
  app.route("/", openApiRoutes(services));
  const trpc = createTrpcHandler(services);
  // The playground's reference images travel inside tRPC bodies: the same bound as REST bodies.
  app.all(
    "/trpc/*",
    bodyLimit({
      maxSize: services.options.maxBodyBytes,
      onError: (c) =>
        nativeErrorResponse(
          c,
          new CodexImgError(
            "invalid_request",
            `The request body is larger than ${services.options.maxBodyBytes} bytes.`,
            { details: { param: "body", reason: "body_too_large" } },
          ),
        ),
    }),
    (c) => trpc(c.req.raw),
  );
  // The OpenAI routes answer their own errors in OpenAI's shape; everything else answers in ours.
  app.notFound((c) => nativeErrorResponse(c, new CodexImgError("not_found", "No such endpoint.")));
  app.onError((error, c) => nativeErrorResponse(c, error));
  return app;
}
