import { createRoute, type OpenAPIHono, z } from "@hono/zod-openapi";
import type { AppEnv } from "../app-env.js";
import type { ApiServices } from "../services.js";
import { jsonReply, serve } from "./route-declarations.js";

/** Paths served by the app that are not the REST surface (tRPC has its own typed client; the dashboard is HTML). */
export const NON_REST_PREFIXES: readonly string[] = ["/trpc", "/admin"];

const TAGS = [
  {
    name: "predecessor",
    description: "The predecessor's API, shape for shape: scripts written for it keep working.",
  },
  { name: "jobs", description: "The caller's own jobs: history, cancel, progress events." },
  { name: "openai", description: "OpenAI-compatible routes for the official SDKs, by `baseURL` alone." },
  { name: "images", description: "Generated images, served until they expire." },
  { name: "system", description: "Liveness, readiness, metrics and this document." },
];

const documentRoute = createRoute({
  method: "get",
  path: "/openapi.json",
  operationId: "getOpenApiDocument",
  // Public: no key.
  security: [],
  summary: "This document",
  description: "Generated from the routes' own declarations.",
  tags: ["system"],
  responses: { 200: jsonReply("OpenAPI 3.1", z.looseObject({ openapi: z.string() })) },
});

/**
 * `GET /openapi.json`, public: it describes the surface, not its data. Registered on the root app after
 * every route group is mounted, and generated on the first request, once per app: the declarations do
 * not change while the app runs.
 */
export function serveOpenApiDocument(app: OpenAPIHono<AppEnv>, services: ApiServices): void {
  app.openAPIRegistry.registerComponent("securitySchemes", "bearer", {
    type: "http",
    scheme: "bearer",
    description: "An API key, `cimg_…`.",
  });
  let document: Record<string, unknown> | undefined;
  serve(app, documentRoute, (c) => {
    document ??= generate(app, services);
    return c.json(document);
  });
}

function generate(app: OpenAPIHono<AppEnv>, services: ApiServices): Record<string, unknown> {
  return app.getOpenAPI31Document({
    openapi: "3.1.0",
    info: {
      title: "codex-img",
      version: services.options.version,
      license: { name: "MIT", url: "https://opensource.org/licenses/MIT" },
      description:
        "Image generation over Codex subscriptions: the predecessor's API, OpenAI's Images and Responses APIs, vision and jobs.",
    },
    servers: [{ url: services.options.publicBaseUrl || "/" }],
    tags: TAGS,
  }) as unknown as Record<string, unknown>;
}
