import { createRoute, type OpenAPIHono, z } from "@hono/zod-openapi";
import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "../app-env.js";
import type { ApiMetrics } from "../http/metrics.js";
import { requireKey } from "../http/require-key.js";
import type { ApiServices } from "../services.js";
import { BEARER, nativeErrors, routeGroup, serve } from "./route-declarations.js";

/**
 * `GET /metrics` in Prometheus text format. Guarded by an `admin` key unless `metricsPublic`: the labels
 * name accounts and keys, which is inventory an outsider should not read.
 */
export function metricsRoutes(services: ApiServices, metrics: ApiMetrics): OpenAPIHono<AppEnv> {
  const app = routeGroup();
  const adminKey = requireKey(services, "admin");
  const guard: MiddlewareHandler<AppEnv> = services.options.metricsPublic ? (_c, next) => next() : adminKey;
  const route = createRoute({
    method: "get",
    path: "/metrics",
    operationId: "getMetrics",
    summary: "Prometheus metrics",
    description: "Needs a key with the `admin` scope unless the server sets `metricsPublic`.",
    tags: ["system"],
    // Either a key or nothing, depending on `metricsPublic`.
    security: [...BEARER, {}],
    middleware: [guard] as const,
    responses: {
      200: {
        description: "Prometheus text format",
        content: { "text/plain": { schema: z.string() } },
      },
      ...nativeErrors(401, 403),
    },
  });
  serve(app, route, async (c) => {
    const text = await metrics.registry.metrics();
    return c.body(text, 200, {
      "Content-Type": metrics.registry.contentType,
      "Cache-Control": "no-store",
    });
  });
  return app;
}
