import { Hono, type MiddlewareHandler } from "hono";
import type { AppEnv } from "../app-env.js";
import type { ApiMetrics } from "../http/metrics.js";
import { nativeErrorResponse } from "../http/native-error.js";
import { requireKey } from "../http/require-key.js";
import type { ApiServices } from "../services.js";

/**
 * `GET /metrics` in Prometheus text format. Guarded by an `admin` key unless `metricsPublic`: the labels
 * name accounts and keys, which is inventory an outsider should not read.
 */
export function metricsRoutes(services: ApiServices, metrics: ApiMetrics): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const adminKey = requireKey(services, "admin");
  const guard: MiddlewareHandler<AppEnv> = services.options.metricsPublic ? (_c, next) => next() : adminKey;
  app.get("/metrics", guard, async (c) => {
    const text = await metrics.registry.metrics();
    return c.body(text, 200, {
      "Content-Type": metrics.registry.contentType,
      "Cache-Control": "no-store",
    });
  });
  app.onError((error, c) => nativeErrorResponse(c, error));
  return app;
}
