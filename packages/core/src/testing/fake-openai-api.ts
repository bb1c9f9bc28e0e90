import type { IncomingMessage, ServerResponse } from "node:http";
import { bytesToBase64, IMAGE_MIME_TYPES, sniffImage } from "../image/index.js";
import type { ImageFormat } from "../types.js";
import { headerValue, sendJson, startFakeUpstreamServer } from "./fake-upstream.js";
import type { RecordedRequest } from "./fake-upstream-types.js";
import { testImage } from "./test-images.js";

/** The key the fake accepts unless told otherwise. Shaped like a real project key. */
export const FAKE_OPENAI_API_KEY = "sk-proj-fakeOpenAiTestKey0123456789abcdef";

export interface FakeOpenAiImageSpec {
  /** Default: the request's `output_format`, else png. */
  format?: ImageFormat;
  /** Default: the request's `size` when it is `WxH`, else 1024x1024. */
  width?: number;
  height?: number;
}

/** One scripted answer; the fake pops one per image request (auth and validation failures pop none). */
export type FakeOpenAiStep =
  | {
      kind: "images";
      /** One entry per image; default one per requested `n`. */
      images?: FakeOpenAiImageSpec[];
      revisedPrompt?: string;
      /** Overrides of the reply's top-level fields (what upstream *claims* it delivered). */
      reply?: { size?: string; quality?: string; background?: string; output_format?: string };
      headers?: Record<string, string>;
    }
  | { kind: "invalid_param"; param: string; message?: string; code?: string }
  | { kind: "moderation_blocked"; message?: string }
  | { kind: "invalid_api_key" }
  | { kind: "insufficient_quota" }
  | { kind: "rate_limited"; retryAfterSeconds?: number; retryAfterMs?: number }
  | { kind: "server_error"; status?: number }
  /** Accepts the request and never answers (until `close()`). */
  | { kind: "stall" }
  | { kind: "error"; status: number; body: unknown; headers?: Record<string, string> };

/** One multipart part as the fake received it. */
export interface FakeMultipartPart {
  name: string;
  /** Text fields only. */
  value?: string;
  /** File parts only. */
  filename?: string;
  type?: string;
  size?: number;
  bytes?: Uint8Array;
}

export interface FakeOpenAiRequest {
  route: "generations" | "edits";
  headers: RecordedRequest["headers"];
  contentType: string;
  /** JSON body (generations), else undefined. */
  json?: Record<string, unknown>;
  /** Every part in order (edits). */
  parts?: FakeMultipartPart[];
  /** Text fields of a JSON or multipart body, as strings (`n` arrives as `"2"` in multipart). */
  fields: Record<string, string>;
  /** File parts only (edits). */
  files: FakeMultipartPart[];
}

export interface FakeOpenAiApiOptions {
  /** Bearer key to accept. Default `FAKE_OPENAI_API_KEY`. */
  apiKey?: string;
  /** When set, `OpenAI-Organization` must match (403 otherwise), as for a key scoped to one org. */
  organization?: string;
  /** Seconds since the epoch for `created`. Default the real clock. */
  now?: () => number;
}

export interface FakeOpenAiApi {
  /** `http://127.0.0.1:PORT/v1`, to pass as `baseUrl`. */
  baseUrl: string;
  apiKey: string;
  /** Image requests that passed the auth check, parsed, in order. */
  requests: FakeOpenAiRequest[];
  /** Every HTTP request the server saw (including rejected ones), raw. */
  rawRequests: RecordedRequest[];
  /** Appends answers to the script. An empty script answers with images. */
  push(...steps: FakeOpenAiStep[]): void;
  /** Resolves once `count` image requests have arrived (parsed). */
  waitForRequests(count: number): Promise<void>;
  close(): Promise<void>;
}

/**
 * A loopback stand-in for the public Images API (`/v1/images/generations` JSON, `/v1/images/edits`
 * multipart), checking what the real API checks first (bearer key, required fields, image mime types)
 * and answering in its reply and error shapes.
 */
export async function startFakeOpenAiApi(options: FakeOpenAiApiOptions = {}): Promise<FakeOpenAiApi> {
  const apiKey = options.apiKey ?? FAKE_OPENAI_API_KEY;
  const now = options.now ?? (() => Math.floor(Date.now() / 1000));
  const script: FakeOpenAiStep[] = [];
  const requests: FakeOpenAiRequest[] = [];
  const waiters: Array<{ count: number; resolve: () => void }> = [];
  let sequence = 0;

  const handler = async (
    recorded: RecordedRequest,
    res: ServerResponse,
    raw: IncomingMessage,
  ): Promise<boolean> => {
    const path = recorded.url.split("?")[0];
    const route =
      path === "/v1/images/generations" ? "generations" : path === "/v1/images/edits" ? "edits" : undefined;
    if (!route) return false;
    const requestId = `req_fake${String(++sequence).padStart(6, "0")}`;
    const fail = (
      status: number,
      error: Record<string, unknown>,
      headers: Record<string, string> = {},
    ): true => {
      sendJson(
        res,
        status,
        { error: { param: null, code: null, ...error } },
        { "x-request-id": requestId, ...headers },
      );
      return true;
    };
    if (recorded.method !== "POST") {
      return fail(405, {
        message: `Invalid method for URL (${recorded.method} ${path})`,
        type: "invalid_request_error",
      });
    }

    const authorization = headerValue(recorded.headers.authorization) ?? "";
    if (!authorization.startsWith("Bearer ")) {
      return fail(401, {
        message:
          "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
        type: "invalid_request_error",
      });
    }
    const presented = authorization.slice("Bearer ".length);
    if (presented !== apiKey) {
      return fail(401, {
        message: `Incorrect API key provided: ${maskKey(presented)}. You can find your API key at https://platform.openai.com/account/api-keys.`,
        type: "invalid_request_error",
        code: "invalid_api_key",
      });
    }
    const organization = headerValue(recorded.headers["openai-organization"]);
    if (options.organization !== undefined && organization !== options.organization) {
      return fail(401, {
        message: `OpenAI-Organization header should match organization for API key`,
        type: "invalid_request_error",
        code: "mismatched_organization",
      });
    }

    const contentType = headerValue(recorded.headers["content-type"]) ?? "";
    let parsed: FakeOpenAiRequest;
    try {
      parsed = await parseImageRequest(route, recorded, contentType);
    } catch (error) {
      return fail(400, {
        message: String(error instanceof Error ? error.message : error),
        type: "invalid_request_error",
      });
    }
    requests.push(parsed);
    for (const waiter of waiters.filter((w) => requests.length >= w.count)) {
      waiters.splice(waiters.indexOf(waiter), 1);
      waiter.resolve();
    }

    const invalid = validate(parsed);
    if (invalid) return fail(400, { type: "invalid_request_error", code: "invalid_value", ...invalid });

    const step: FakeOpenAiStep = script.shift() ?? { kind: "images" };
    switch (step.kind) {
      case "images": {
        const reply = await imagesReply(parsed, step, now());
        sendJson(res, 200, reply, {
          "x-request-id": requestId,
          "openai-processing-ms": "1234",
          ...step.headers,
        });
        return true;
      }
      case "invalid_param":
        return fail(400, {
          message: step.message ?? `Invalid value for '${step.param}'.`,
          type: "invalid_request_error",
          param: step.param,
          code: step.code ?? "invalid_value",
        });
      case "moderation_blocked":
        return fail(400, {
          message:
            step.message ??
            "Your request was rejected as a result of our safety system. Your request may contain content that is not allowed by our safety system.",
          type: "image_generation_user_error",
          code: "moderation_blocked",
        });
      case "invalid_api_key":
        return fail(401, {
          message: `Incorrect API key provided: ${maskKey(presented)}. You can find your API key at https://platform.openai.com/account/api-keys.`,
          type: "invalid_request_error",
          code: "invalid_api_key",
        });
      case "insufficient_quota":
        return fail(429, {
          message:
            "You exceeded your current quota, please check your plan and billing details. For more information on this error, read the docs: https://platform.openai.com/docs/guides/error-codes/api-errors.",
          type: "insufficient_quota",
          code: "insufficient_quota",
        });
      case "rate_limited": {
        const headers: Record<string, string> = {};
        if (step.retryAfterSeconds !== undefined) headers["retry-after"] = String(step.retryAfterSeconds);
        if (step.retryAfterMs !== undefined) headers["retry-after-ms"] = String(step.retryAfterMs);
        return fail(
          429,
          {
            message: `Rate limit reached for ${parsed.fields.model ?? "gpt-image-2"} in organization org-fake on images per minute (IPM): Limit 5, Used 5, Requested 1. Please try again in ${step.retryAfterSeconds ?? 12}s.`,
            type: "requests",
            code: "rate_limit_exceeded",
          },
          headers,
        );
      }
      case "server_error":
        return fail(step.status ?? 500, {
          message: "The server had an error while processing your request. Sorry about that!",
          type: "server_error",
        });
      case "stall":
        // Keep the socket open; `close()` destroys it. Headers are not sent, as when upstream hangs.
        raw.socket.setTimeout(0);
        return true;
      case "error":
        sendJson(res, step.status, step.body, { "x-request-id": requestId, ...step.headers });
        return true;
    }
  };

  const server = await startFakeUpstreamServer({ handlers: [handler] });
  return {
    baseUrl: `${server.origin}/v1`,
    apiKey,
    requests,
    rawRequests: server.requests,
    push: (...steps) => {
      script.push(...steps);
    },
    waitForRequests: (count) =>
      requests.length >= count
        ? Promise.resolve()
        : new Promise((resolve) => waiters.push({ count, resolve })),
    close: () => server.close(),
  };
}

async function parseImageRequest(
  route: FakeOpenAiRequest["route"],
  recorded: RecordedRequest,
  contentType: string,
): Promise<FakeOpenAiRequest> {
  const base = { route, headers: recorded.headers, contentType };
  if (contentType.startsWith("application/json")) {
    if (typeof recorded.json !== "object" || recorded.json === null || Array.isArray(recorded.json)) {
      throw new Error("We could not parse the JSON body of your request.");
    }
    const json = recorded.json as Record<string, unknown>;
    const fields = Object.fromEntries(
      Object.entries(json)
        .filter(([, value]) => typeof value !== "object" || value === null)
        .map(([key, value]) => [key, String(value)]),
    );
    return { ...base, json, fields, files: [] };
  }
  if (contentType.startsWith("multipart/form-data")) {
    // The Web `Request` parses multipart exactly as a server framework would; no hand-rolled parser.
    const request = new Request("http://fake.invalid/", {
      method: "POST",
      headers: { "content-type": contentType },
      body: new Uint8Array(recorded.body),
    });
    const form = await request.formData();
    const parts: FakeMultipartPart[] = [];
    for (const [name, value] of form.entries()) {
      if (typeof value === "string") {
        parts.push({ name, value });
      } else {
        const bytes = new Uint8Array(await value.arrayBuffer());
        parts.push({ name, filename: value.name, type: value.type, size: bytes.length, bytes });
      }
    }
    const fields = Object.fromEntries(
      parts.filter((p) => p.value !== undefined).map((p) => [p.name, p.value ?? ""]),
    );
    return { ...base, parts, fields, files: parts.filter((p) => p.bytes !== undefined) };
  }
  throw new Error(`Unsupported content type '${contentType}': send application/json or multipart/form-data.`);
}

/** What the real API rejects before generating anything; undefined when the request is acceptable. */
function validate(request: FakeOpenAiRequest): { message: string; param: string } | undefined {
  const { fields } = request;
  if (!fields.prompt) return { message: "Missing required parameter: 'prompt'.", param: "prompt" };
  const n = fields.n === undefined ? 1 : Number(fields.n);
  if (!Number.isInteger(n) || n < 1 || n > 10) {
    return { message: `Invalid value: '${fields.n}'. Expected an integer between 1 and 10.`, param: "n" };
  }
  if (fields.size !== undefined && fields.size !== "auto" && !/^\d+x\d+$/.test(fields.size)) {
    return {
      message: `Invalid value: '${fields.size}'. Supported values are 'auto' or 'WxH'.`,
      param: "size",
    };
  }
  if (request.route === "generations" && request.files.length > 0) {
    return { message: "Image files are only accepted by /images/edits.", param: "image" };
  }
  // The public API takes `input_fidelity` on edits only (`low` or `high`).
  if (fields.input_fidelity !== undefined) {
    if (request.route === "generations") {
      return { message: "Unknown parameter: 'input_fidelity'.", param: "input_fidelity" };
    }
    if (fields.input_fidelity !== "low" && fields.input_fidelity !== "high") {
      return {
        message: `Invalid value: '${fields.input_fidelity}'. Supported values are: 'low' and 'high'.`,
        param: "input_fidelity",
      };
    }
  }
  if (request.route === "edits") {
    if (!request.contentType.startsWith("multipart/form-data")) {
      return {
        message: "This fake expects edits as multipart/form-data, as the SDK sends them.",
        param: "image",
      };
    }
    const images = request.files.filter((file) => file.name === "image" || file.name === "image[]");
    if (images.length === 0) return { message: "Missing required parameter: 'image'.", param: "image" };
    if (images.length > 16) return { message: "Too many images: at most 16 are accepted.", param: "image" };
    for (const [index, file] of images.entries()) {
      const sniffed = file.bytes ? sniffImage(file.bytes) : undefined;
      const allowed = Object.values(IMAGE_MIME_TYPES);
      if (!file.type || !allowed.includes(file.type)) {
        return {
          message: `Invalid file 'image[${index}]': unsupported mimetype ('${file.type || "application/octet-stream"}'). Supported file formats are 'image/jpeg', 'image/png', and 'image/webp'.`,
          param: "image",
        };
      }
      if (!sniffed || IMAGE_MIME_TYPES[sniffed.format] !== file.type) {
        return {
          message: `Invalid image file or mode for image ${index + 1}, please check your image file.`,
          param: "image",
        };
      }
    }
  }
  return undefined;
}

async function imagesReply(
  request: FakeOpenAiRequest,
  step: Extract<FakeOpenAiStep, { kind: "images" }>,
  created: number,
): Promise<Record<string, unknown>> {
  const { fields } = request;
  const format = (fields.output_format as ImageFormat | undefined) ?? "png";
  const sized = /^(\d+)x(\d+)$/.exec(fields.size ?? "");
  const width = Number(sized?.[1] ?? 1024);
  const height = Number(sized?.[2] ?? 1024);
  const specs: FakeOpenAiImageSpec[] =
    step.images ?? Array.from({ length: Number(fields.n ?? 1) }, () => ({}));
  const data = await Promise.all(
    specs.map(async (spec, index) => {
      const bytes = await testImage(
        spec.format ?? format,
        spec.width ?? width,
        spec.height ?? height,
        index + 1,
      );
      return {
        b64_json: bytesToBase64(bytes),
        ...(step.revisedPrompt ? { revised_prompt: step.revisedPrompt } : {}),
      };
    }),
  );
  const first: FakeOpenAiImageSpec = specs[0] ?? {};
  const promptTokens = Math.ceil((fields.prompt ?? "").length / 4);
  const imageTokens = request.files.length * 323;
  return {
    created,
    data,
    background: fields.background && fields.background !== "auto" ? fields.background : "opaque",
    output_format: first.format ?? format,
    quality: fields.quality && fields.quality !== "auto" ? fields.quality : "medium",
    size: `${first.width ?? width}x${first.height ?? height}`,
    usage: {
      input_tokens: promptTokens + imageTokens,
      output_tokens: 1056 * specs.length,
      total_tokens: promptTokens + imageTokens + 1056 * specs.length,
      input_tokens_details: { text_tokens: promptTokens, image_tokens: imageTokens },
    },
    ...step.reply,
  };
}

/** How the real API quotes a wrong key back: prefix, stars, last four. */
function maskKey(key: string): string {
  if (key.length <= 8) return "*".repeat(key.length);
  return `${key.slice(0, 3)}${"*".repeat(Math.max(4, key.length - 7))}${key.slice(-4)}`;
}
