import { type ApiHarness, createApiHarness } from "@codex-img/api/testing";
import { afterEach, describe, expect, it } from "vitest";
import { NON_REST_PREFIXES } from "../src/rest/openapi-routes.js";

let harness: ApiHarness | undefined;

afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

interface OpenApiDoc {
  openapi: string;
  paths: Record<string, Record<string, { requestBody?: unknown; responses: Record<string, unknown> }>>;
  components: { schemas: Record<string, Record<string, unknown>> };
}

/** `/v1/jobs/:id` → `/v1/jobs/{id}`. */
const toOpenApiPath = (path: string): string => path.replace(/:([A-Za-z_]\w*)/g, "{$1}");

describe("GET /openapi.json", () => {
  it("documents every route the app registers", async () => {
    harness = await createApiHarness();
    const response = await harness.app.request("/openapi.json");
    expect(response.status).toBe(200);
    const doc = (await response.json()) as OpenApiDoc;
    expect(doc.openapi).toBe("3.1.0");
    const routes = harness.app.routes.filter(
      (route) =>
        route.method !== "ALL" &&
        !route.path.includes("*") &&
        !NON_REST_PREFIXES.some((prefix) => route.path === prefix || route.path.startsWith(`${prefix}/`)),
    );
    expect(routes.length).toBeGreaterThan(10);
    const missing = [
      ...new Set(
        routes
          .filter((route) => !doc.paths[toOpenApiPath(route.path)]?.[route.method.toLowerCase()])
          .map((route) => `${route.method} ${route.path}`),
      ),
    ];
    expect(missing).toEqual([]);
  });

  it("takes request bodies from the zod schemas", async () => {
    harness = await createApiHarness();
    const doc = (await (await harness.app.request("/openapi.json")).json()) as OpenApiDoc;
    const predecessor = doc.components.schemas.PredecessorImageBody as {
      properties: Record<string, { maxItems?: number }>;
      required: string[];
    };
    expect(predecessor.required).toEqual(["prompt"]);
    expect(predecessor.properties.reference_images_base64).toBeDefined();
    expect(doc.components.schemas.OpenAiImageOptions?.properties).toHaveProperty("response_format");
    for (const [path, methods] of Object.entries(doc.paths)) {
      for (const [method, operation] of Object.entries(methods)) {
        expect(Object.keys(operation.responses).length, `${method} ${path}`).toBeGreaterThan(0);
        if (method === "post" && !path.endsWith("/cancel")) expect(operation.requestBody, path).toBeDefined();
      }
    }
  });
});
