import { Hono } from "hono";
import type { AppEnv } from "../app-env.js";
import type { ApiServices } from "../services.js";
import { openApiDocument } from "./openapi-document.js";

/** `GET /openapi.json`, public: it describes the surface, not its data. Built once per app. */
export function openApiRoutes(services: ApiServices): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const document = openApiDocument({
    version: services.options.version,
    serverUrl: services.options.publicBaseUrl || "/",
  });
  app.get("/openapi.json", (c) => c.json(document));
  return app;
}
