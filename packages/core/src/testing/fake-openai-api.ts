import type { IncomingMessage, ServerResponse } from "node:http";
import { fakeOpenAiImagesReply, maskOpenAiKey } from "./fake-openai-reply.js";
import { parseFakeOpenAiRequest, validateFakeOpenAiRequest } from "./fake-openai-request.js";
import type { FakeOpenAiRequest, FakeOpenAiStep } from "./fake-openai-types.js";
import { headerValue, sendJson, startFakeUpstreamServer } from "./fake-upstream.js";
import type { RecordedRequest } from "./fake-upstream-types.js";

/** The key the fake accepts unless told otherwise. Shaped like a real project key. */
export const FAKE_OPENAI_API_KEY = "sk-proj-fakeOpenAiTestKey0123456789abcdef";

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
        message: `Incorrect API key provided: ${maskOpenAiKey(presented)}. You can find your API key at https://platform.openai.com/account/api-keys.`,
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
      parsed = await parseFakeOpenAiRequest(route, recorded, contentType);
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

    const invalid = validateFakeOpenAiRequest(parsed);
    if (invalid) return fail(400, { type: "invalid_request_error", code: "invalid_value", ...invalid });

    const step: FakeOpenAiStep = script.shift() ?? { kind: "images" };
    switch (step.kind) {
      case "images": {
        const reply = await fakeOpenAiImagesReply(parsed, step, now());
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
          message: `Incorrect API key provided: ${maskOpenAiKey(presented)}. You can find your API key at https://platform.openai.com/account/api-keys.`,
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
