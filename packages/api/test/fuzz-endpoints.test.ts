import { tmpdir } from "node:os";
import { type ApiHarness, createApiHarness } from "@codex-img/api/testing";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { NON_REST_PREFIXES } from "../src/rest/openapi-routes.js";

/**
 * Malformed input against every public endpoint: wrong types, missing fields, huge and deeply nested
 * bodies, wrong content types, broken multipart, traversal in path params, junk headers. Every reply must
 * be below 500, a JSON error with a code in the family's shape (OpenAI's on OpenAI routes) that carries no
 * server path, runtime hint or secret, and a refused request must not create a job.
 */

const OPENAI_PREFIXES = [
  "/v1/images/generations",
  "/v1/images/edits",
  "/v1/models",
  "/v1/chat/completions",
  "/v1/responses",
];
const RUNS_PER_ENDPOINT = 50;

interface Endpoint {
  method: string;
  path: string;
}

let harness: ApiHarness;
let adminKey: string;
let endpoints: Endpoint[];

beforeAll(async () => {
  // No runner: a request that happens to be valid just queues, and sync waits end at once with 202.
  harness = await createApiHarness({
    startRunner: false,
    maxQueueLength: 100_000,
    options: { requestWaitTimeoutMs: 20, maxBodyBytes: 2 * 1024 * 1024 },
  });
  adminKey = (await harness.services.keys.create({ name: "fuzz", scopes: ["admin"] })).rawKey;
  const seen = new Set<string>();
  endpoints = harness.app.routes
    .filter(
      (route) =>
        route.method !== "ALL" &&
        !route.path.includes("*") &&
        !NON_REST_PREFIXES.some((prefix) => route.path.startsWith(prefix)),
    )
    .filter(
      (route) => !seen.has(`${route.method} ${route.path}`) && seen.add(`${route.method} ${route.path}`),
    )
    .map((route) => ({ method: route.method, path: route.path }));
});

afterAll(async () => {
  await harness.close();
});

const traversal = fc.constantFrom(
  "../../etc/passwd",
  "..%2F..%2Fetc%2Fpasswd",
  "%2e%2e%2f%2e%2e%2fetc%2fpasswd",
  "..\\..\\windows",
  "img_aaaaaaaaaaaaaaaaaaaaaaaaaa.png/../../x",
  "%00",
  "%",
  "%zz",
  "img_aaaaaaaaaaaaaaaaaaaaaaaaaa",
  "img_aaaaaaaaaaaaaaaaaaaaaaaaaa.png",
  "ref_aaaaaaaaaaaaaaaaaaaaaaaaaa.png",
  "a".repeat(5000),
  "gpt-image-1",
);
const pathParam = fc.oneof(
  traversal,
  fc.string({ maxLength: 40 }).map((value) => encodeURIComponent(value) || "x"),
);

/** Header values the Fetch API accepts (no CR, LF or NUL; Latin-1), mostly junk. */
const headerValue = fc
  .string({ maxLength: 300, unit: "binary" })
  .map((value) => value.replace(/[^\x20-\x7e\x80-\xff]/g, "?"))
  .filter((value) => {
    try {
      new Headers({ x: value });
      return true;
    } catch {
      return false;
    }
  });

// Mostly a valid key, so that most runs get past authentication to the validation they are aimed at.
const authorization = fc.oneof(
  fc.constant(undefined),
  { weight: 4, arbitrary: fc.constant("use-admin") },
  headerValue,
  fc.constantFrom(
    "Bearer",
    "Bearer ",
    "Bearer cimg_",
    "Bearer cimg_nope",
    "Basic Zm9vOmJhcg==",
    "bearer  x y",
  ),
);

const wrongValue = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }),
  fc.string({ maxLength: 50 }),
  fc.constantFrom(
    null,
    -1,
    0,
    1.5,
    1e308,
    true,
    [],
    {},
    "",
    "x".repeat(200_000),
    "data:image/png;base64,%%%",
  ),
);
const fieldNames = fc.constantFrom(
  "prompt",
  "size",
  "quality",
  "count",
  "n",
  "model",
  "reference_images_base64",
  "reference_image_base64",
  "response_format",
  "stream",
  "partial_images",
  "images",
  "mask",
  "messages",
  "background",
  "output_format",
  "__proto__",
  "constructor",
);

const deepJson = fc
  .integer({ min: 100, max: 20_000 })
  .map((depth) => `${"[".repeat(depth)}${"]".repeat(depth)}`);
const deepObject = fc
  .integer({ min: 100, max: 5_000 })
  .map((depth) => `${'{"a":'.repeat(depth)}1${"}".repeat(depth)}`);

/** A body and the content type it is sent with (often the wrong one). */
const body = fc.oneof(
  fc.record({
    text: fc.dictionary(fieldNames, wrongValue).map((v) => JSON.stringify(v)),
    type: fc.constant("application/json"),
  }),
  fc.record({
    text: fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v) ?? "null"),
    type: fc.constant("application/json"),
  }),
  fc.record({ text: deepJson, type: fc.constant("application/json") }),
  fc.record({ text: deepObject, type: fc.constant("application/json") }),
  fc.record({
    text: fc.string({ maxLength: 200 }),
    type: fc.constantFrom(
      "application/json",
      "text/plain",
      "application/x-www-form-urlencoded",
      "application/json; charset=utf-16",
      "application/xml",
      "garbage/;;;",
      "",
    ),
  }),
  fc.record({
    text: fc.constantFrom(
      '--x\r\nContent-Disposition: form-data; name="image"\r\n\r\nnot an image\r\n--x--\r\n',
      '--x\r\nContent-Disposition: form-data; name="prompt"\r\n\r\nhi\r\n--x\r\nContent-Disposition: form-data; name="image[]"; filename="a.png"\r\nContent-Type: image/png\r\n\r\n\x89PNG\r\n--x--\r\n',
      "--x\r\nbroken",
      "no boundary at all",
      "",
    ),
    type: fc.constantFrom(
      "multipart/form-data; boundary=x",
      "multipart/form-data",
      "multipart/form-data; boundary=",
    ),
  }),
  fc.record({ text: fc.constant(undefined), type: fc.constant(undefined) }),
);

const query = fc.dictionary(
  fc.constantFrom("limit", "cursor", "status", "after", "expires", "sig", "stream"),
  fc.oneof(
    fc.string({ maxLength: 30 }),
    fc.constantFrom("-1", "1e999", "NaN", "0x10", "%", "../", "9".repeat(40)),
  ),
);

const request = fc.record({
  params: fc.array(pathParam, { minLength: 3, maxLength: 3 }),
  query,
  body,
  authorization,
  idempotencyKey: fc.option(headerValue, { nil: undefined }),
  lastEventId: fc.option(headerValue, { nil: undefined }),
  requestId: fc.option(headerValue, { nil: undefined }),
});

type FuzzInput = typeof request extends fc.Arbitrary<infer T> ? T : never;

function buildPath(template: string, params: string[]): string {
  let index = 0;
  return template.replace(/:[A-Za-z_]\w*/g, () => params[index++ % params.length] ?? "x");
}

interface Reply {
  status: number;
  type: string;
  json: unknown;
  /** The path as routed (URL parsing resolves a raw `../`, which may land on another family's route). */
  routedPath: string;
}

async function send(endpoint: Endpoint, input: FuzzInput): Promise<Reply> {
  const headers = new Headers();
  if (input.authorization === "use-admin") headers.set("authorization", `Bearer ${adminKey}`);
  else if (input.authorization !== undefined) headers.set("authorization", input.authorization);
  if (input.idempotencyKey !== undefined) headers.set("idempotency-key", input.idempotencyKey);
  if (input.lastEventId !== undefined) headers.set("last-event-id", input.lastEventId);
  if (input.requestId !== undefined) headers.set("x-request-id", input.requestId);
  const hasBody = endpoint.method !== "GET" && input.body.text !== undefined;
  if (hasBody && input.body.type) headers.set("content-type", input.body.type);
  const search = new URLSearchParams(input.query).toString();
  const url = `${buildPath(endpoint.path, input.params)}${search ? `?${search}` : ""}`;
  const routedPath = new URL(url, "http://fuzz.test").pathname;
  const response = await harness.app.request(url, {
    method: endpoint.method,
    headers,
    ...(hasBody ? { body: input.body.text } : {}),
  });
  const type = response.headers.get("content-type") ?? "";
  if (!type.includes("json")) {
    await response.body?.cancel();
    return { status: response.status, type, json: undefined, routedPath };
  }
  return { status: response.status, type, json: await response.json(), routedPath };
}

/**
 * No error a caller sees may carry a server path (the temp folder the harness keeps its database and
 * images in, any absolute filesystem path), a runtime's developer hint, or a known secret.
 */
function assertNoLeak(reply: Reply, context: string): void {
  if (reply.status < 400 || reply.json === undefined) return;
  const text = JSON.stringify(reply.json);
  for (const secret of [tmpdir(), process.cwd(), adminKey]) expect(text, context).not.toContain(secret);
  expect(text, context).not.toMatch(/(?:^|[\s"'(])\/(?:tmp|home|root|usr|var|etc|work|Users)\/[^\s"']+/);
  expect(text, context).not.toMatch(/verbose: true|node:internal|at [\w.]+ \(/);
}

function assertReply(endpoint: Endpoint, reply: Reply, context: string): void {
  expect(reply.status, context).toBeLessThan(500);
  assertNoLeak(reply, context);
  const streamOrImage = reply.type.startsWith("text/event-stream") || reply.type.startsWith("image/");
  const metricsText = endpoint.path === "/metrics" && reply.type.startsWith("text/plain");
  if (reply.status < 300 && (streamOrImage || metricsText)) return;
  expect(reply.type, context).toContain("application/json");
  if (reply.status < 400) return;
  const error = (reply.json as { error?: Record<string, unknown> }).error;
  expect(typeof error?.code, context).toBe("string");
  expect(typeof error?.message, context).toBe("string");
  if (OPENAI_PREFIXES.some((prefix) => reply.routedPath.startsWith(prefix))) {
    expect(typeof error?.type, context).toBe("string");
    expect(error, context).toHaveProperty("param");
  } else {
    expect(typeof (reply.json as { detail?: unknown }).detail, context).toBe("string");
  }
}

describe("malformed input against every endpoint", () => {
  it("finds the public endpoints", () => {
    expect(endpoints.length).toBeGreaterThanOrEqual(15);
  });

  it("never answers 5xx, always a JSON error with a code, and creates no job when it refuses", async () => {
    const statuses = new Map<string, Set<number>>();
    for (const endpoint of endpoints) {
      const seen = new Set<number>();
      statuses.set(`${endpoint.method} ${endpoint.path}`, seen);
      await fc.assert(
        fc.asyncProperty(request, async (input) => {
          const before = await harness.countJobs();
          const reply = await send(endpoint, input);
          seen.add(reply.status);
          const context = `${endpoint.method} ${endpoint.path} -> ${reply.status} ${JSON.stringify(reply.json)?.slice(0, 300)}`;
          assertReply(endpoint, reply, context);
          if (reply.status >= 400) expect(await harness.countJobs(), context).toBe(before);
        }),
        {
          numRuns: RUNS_PER_ENDPOINT,
          seed: Number(process.env.FUZZ_SEED ?? 20_251_105) + endpoint.path.length,
        },
      );
    }
    // The runs reached validation, not only the key check: every endpoint taking a body refused one.
    for (const [name, seen] of statuses) {
      if (name.startsWith("POST ") && !name.endsWith("/cancel")) expect(seen.has(400), name).toBe(true);
    }
  }, 120_000);

  it("refuses bodies over the limit with a JSON error and no job", async () => {
    const before = await harness.countJobs();
    const huge = "x".repeat(3 * 1024 * 1024);
    for (const endpoint of endpoints.filter((e) => e.method === "POST")) {
      const reply = await send(endpoint, {
        params: ["x", "x", "x"],
        query: {},
        body: { text: JSON.stringify({ prompt: huge }), type: "application/json" },
        authorization: "use-admin",
        idempotencyKey: undefined,
        lastEventId: undefined,
        requestId: undefined,
      });
      assertReply(endpoint, reply, `${endpoint.method} ${endpoint.path} huge`);
      expect(reply.status).toBeGreaterThanOrEqual(400);
    }
    expect(await harness.countJobs()).toBe(before);
  });

  it("answers wrong methods and unknown paths with a JSON 404", async () => {
    for (const [method, path] of [
      ["DELETE", "/v1/images/generate"],
      ["PUT", "/v1/jobs"],
      ["GET", "/generated/..%2F..%2Fetc%2Fpasswd"],
      ["GET", "/generated/"],
      ["GET", "/v1/../../etc/passwd"],
    ] as const) {
      const response = await harness.app.request(path, { method });
      expect(response.status, `${method} ${path}`).toBe(404);
      expect(((await response.json()) as { error: { code: string } }).error.code).toBe("not_found");
    }
  });
});
