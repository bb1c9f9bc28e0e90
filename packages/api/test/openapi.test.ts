import { type ApiHarness, createApiHarness } from "@codex-img/api/testing";
import { createRoute, z } from "@hono/zod-openapi";
import { afterEach, describe, expect, it } from "vitest";
import { NON_REST_PREFIXES } from "../src/rest/openapi-routes.js";
import { routeGroup, serve } from "../src/rest/route-declarations.js";

let harness: ApiHarness | undefined;

afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

interface MediaType {
  schema?: { $ref?: string; type?: string };
}
interface Operation {
  requestBody?: { content: Record<string, MediaType> };
  responses: Record<string, { content?: Record<string, MediaType> }>;
  security?: unknown[];
  operationId?: string;
}
interface OpenApiDoc {
  openapi: string;
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, Record<string, unknown>>; securitySchemes: Record<string, unknown> };
}

/** `/v1/jobs/:id` → `/v1/jobs/{id}`. */
const toOpenApiPath = (path: string): string => path.replace(/:([A-Za-z_]\w*)/g, "{$1}");

async function served(): Promise<{ h: ApiHarness; doc: OpenApiDoc }> {
  harness = await createApiHarness();
  const response = await harness.app.request("/openapi.json");
  expect(response.status).toBe(200);
  return { h: harness, doc: (await response.json()) as OpenApiDoc };
}

describe("GET /openapi.json", () => {
  it("documents every route the app registers", async () => {
    const { h, doc } = await served();
    expect(doc.openapi).toBe("3.1.0");
    const routes = h.app.routes.filter(
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

  it("gives every operation a schema for its body and its success reply, and every $ref a component", async () => {
    const { doc } = await served();
    const text = JSON.stringify(doc);
    const refs = [...text.matchAll(/"\$ref":"#\/components\/schemas\/([^"]+)"/g)].map((m) => m[1] ?? "");
    expect(refs.filter((name) => !doc.components.schemas[name])).toEqual([]);
    const operationIds: string[] = [];
    for (const [path, methods] of Object.entries(doc.paths)) {
      for (const [method, operation] of Object.entries(methods)) {
        const where = `${method} ${path}`;
        // Client generators name their methods after it; public routes say so with `security: []`.
        operationIds.push(operation.operationId ?? where);
        expect(operation.operationId, where).toBeDefined();
        expect(operation.security, where).toBeDefined();
        // Every POST takes a body except a cancel, which is all in its path.
        if (method === "post" && !path.endsWith("/cancel")) {
          const bodies = Object.values(operation.requestBody?.content ?? {});
          expect(bodies.length, where).toBeGreaterThan(0);
          for (const body of bodies) expect(body.schema, where).toBeDefined();
        }
        // 200, or 202 for the predecessor's submit, which only ever queues.
        const success = operation.responses["200"] ?? operation.responses["202"];
        const replies = Object.values(success?.content ?? {});
        expect(replies.length, where).toBeGreaterThan(0);
        for (const reply of replies) expect(reply.schema, where).toBeDefined();
        for (const [status, reply] of Object.entries(operation.responses)) {
          // `/ready` answers 503 with its readiness body, not an error.
          if (Number(status) < 400 || path === "/ready") continue;
          const errorSchema = reply.content?.["application/json"]?.schema?.$ref;
          // One error schema per family: OpenAI's for the OpenAI routes, ours for the rest.
          const family =
            path.startsWith("/v1/images/generations") ||
            path.startsWith("/v1/images/edits") ||
            /^\/v1\/(chat|models|responses)/.test(path);
          expect(errorSchema, `${where} ${status}`).toBe(
            `#/components/schemas/${family ? "OpenAiError" : "Error"}`,
          );
        }
      }
    }
    expect(new Set(operationIds).size).toBe(operationIds.length);
    expect(doc.paths["/health"]?.get?.security).toEqual([]);
    expect(doc.components.securitySchemes.bearer).toMatchObject({ type: "http", scheme: "bearer" });
    expect(doc.paths["/v1/jobs"]?.get?.security).toEqual([{ bearer: [] }]);
  });

  it("takes request bodies from the schemas the routes validate with", async () => {
    const { doc } = await served();
    const predecessor = doc.components.schemas.PredecessorImageBody as {
      properties: Record<string, { maxItems?: number }>;
      required: string[];
    };
    expect(predecessor.required).toEqual(["prompt"]);
    expect(predecessor.properties.reference_images_base64).toBeDefined();
    expect(doc.components.schemas.OpenAiImageOptions?.properties).toHaveProperty("response_format");
    const edits = doc.paths["/v1/images/edits"]?.post?.requestBody?.content ?? {};
    expect(Object.keys(edits).sort()).toEqual(["application/json", "multipart/form-data"]);
  });
});

describe("declared bodies are read by their route alone", () => {
  it("refuses, when the app is built, a body declared with a zod schema (the library would read it first)", () => {
    const route = createRoute({
      method: "post",
      path: "/v1/example",
      request: { body: { content: { "application/json": { schema: z.object({ a: z.string() }) } } } },
      responses: { 200: { description: "ok" } },
    });
    expect(() => serve(routeGroup(), route, (c) => c.body(null))).toThrow(/documentedBody/);
  });

  it("answers a multipart edit's bad first image before the rest of the body is read", async () => {
    harness = await createApiHarness();
    const key = await harness.createKey();
    const boundary = "----codex-img-test";
    const head = new TextEncoder().encode(
      `--${boundary}\r\nContent-Disposition: form-data; name="prompt"\r\n\r\nedit it\r\n` +
        `--${boundary}\r\nContent-Disposition: form-data; name="image"; filename="a.png"\r\n` +
        `Content-Type: image/png\r\n\r\nnot an image\r\n` +
        `--${boundary}\r\nContent-Disposition: form-data; name="image"; filename="b.png"\r\n` +
        "Content-Type: image/png\r\n\r\n",
    );
    // 8 MiB more of the second image: a validator that parsed the form before the route would read it all.
    const chunk = new Uint8Array(64 * 1024);
    const chunks = 128;
    let pulled = 0;
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        pulled += 1;
        if (sent === 0) controller.enqueue(head);
        else if (sent <= chunks) controller.enqueue(chunk);
        else {
          controller.enqueue(new TextEncoder().encode(`\r\n--${boundary}--\r\n`));
          controller.close();
        }
        sent += 1;
      },
    });
    const response = await harness.app.request(
      new Request("http://localhost/v1/images/edits", {
        method: "POST",
        headers: {
          authorization: `Bearer ${key}`,
          "content-type": `multipart/form-data; boundary=${boundary}`,
        },
        body,
        duplex: "half",
      } as RequestInit),
    );
    expect(response.status).toBe(400);
    const error = ((await response.json()) as { error: { param: string; type: string } }).error;
    expect(error).toMatchObject({ param: "image", type: "invalid_request_error" });
    expect(pulled).toBeLessThan(chunks / 2);
  });
});
