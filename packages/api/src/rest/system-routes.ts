import { Hono } from "hono";
import type { AppEnv } from "../app-env.js";
import { nativeErrorResponse } from "../http/native-error.js";
import type { ApiServices } from "../services.js";

/** Liveness and readiness, unauthenticated: load balancers and the predecessor's scripts call them. */
export function systemRoutes(services: ApiServices): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  app.get("/health", (c) =>
    c.json({ status: "ok", version: services.options.version, backend: services.backend }),
  );

  app.get("/ready", async (c) => {
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

  app.onError((error, c) => nativeErrorResponse(c, error));
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
