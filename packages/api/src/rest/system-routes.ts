import { createRoute, type OpenAPIHono, z } from "@hono/zod-openapi";
import type { AppEnv } from "../app-env.js";
import type { ApiServices } from "../services.js";
import { jsonReply, routeGroup, serve } from "./route-declarations.js";

const health = createRoute({
  method: "get",
  path: "/health",
  operationId: "getHealth",
  // Public: no key.
  security: [],
  summary: "Liveness",
  tags: ["system"],
  responses: {
    200: jsonReply(
      "Alive",
      z.object({ status: z.literal("ok"), version: z.string(), backend: z.string() }).openapi("Health"),
    ),
  },
});

const readinessSchema = z
  .object({
    status: z.enum(["ready", "not_ready"]),
    backend: z.string(),
    accounts: z
      .object({ usable: z.number().int(), total: z.number().int() })
      .optional()
      .openapi({ description: "Codex backends only: accounts not dead or cooling, of all." }),
    reasons: z
      .array(z.enum(["database_unreachable", "no_accounts", "no_usable_account"]))
      .optional()
      .openapi({ description: "Why not ready; absent when ready." }),
  })
  .openapi("Readiness");

const ready = createRoute({
  method: "get",
  path: "/ready",
  operationId: "getReadiness",
  // Public: no key.
  security: [],
  summary: "Readiness: database reachable and an account usable",
  tags: ["system"],
  responses: {
    200: jsonReply("Ready", readinessSchema),
    503: jsonReply("Not ready", readinessSchema),
  },
});

/** Liveness and readiness, unauthenticated: load balancers and the predecessor's scripts call them. */
export function systemRoutes(services: ApiServices): OpenAPIHono<AppEnv> {
  const app = routeGroup();

  serve(app, health, (c) =>
    c.json({ status: "ok", version: services.options.version, backend: services.backend }),
  );

  serve(app, ready, async (c) => {
    const reasons: string[] = [];
    try {
      await services.database.client.execute("SELECT 1");
    } catch (error) {
      services.logger.warn("readiness: database unreachable", { error });
      reasons.push("database_unreachable");
    }
    const accounts = accountReadiness(services);
    if (accounts.reason) reasons.push(accounts.reason);
    const body = {
      status: reasons.length === 0 ? "ready" : "not_ready",
      backend: services.backend,
      ...(accounts.usable === undefined
        ? {}
        : { accounts: { usable: accounts.usable, total: accounts.total } }),
      ...(reasons.length === 0 ? {} : { reasons }),
    };
    return c.json(body, reasons.length === 0 ? 200 : 503);
  });

  return app;
}

/** Backends without logins (demo, openai) are always ready; Codex backends need one account not dead or cooling. */
function accountReadiness(services: ApiServices): { usable?: number; total?: number; reason?: string } {
  if (services.backend === "demo" || services.backend === "openai") return {};
  if (!services.pool) return { usable: 0, total: 0, reason: "no_accounts" };
  const snapshot = services.pool.snapshot();
  const usable = snapshot.filter(
    (account) => account.state === "available" || account.state === "busy",
  ).length;
  return {
    usable,
    total: snapshot.length,
    ...(usable === 0 ? { reason: snapshot.length === 0 ? "no_accounts" : "no_usable_account" } : {}),
  };
}
