import type { ServerResponse } from "node:http";
import type { ImageFormat } from "../types.js";
import { compareWithCliRecord } from "./cli-request-check.js";
import { FAKE_CLI_MODEL, fakeCliRoutes } from "./fake-cli-routes.js";
import {
  createFakeTokenEndpoint,
  type FakeTokenEndpoint,
  type FakeTokenEndpointOptions,
} from "./fake-token-endpoint.js";
import { headerValue, sendJson, startFakeUpstreamServer } from "./fake-upstream.js";
import type { FakeHandler, RecordedRequest } from "./fake-upstream-types.js";
import { testImage } from "./test-images.js";

/** Fields every scripted reply may carry. */
interface FakeReplyCommon {
  /** Real-time wait before the status line. */
  delayMs?: number;
  /** Overrides of the quota headers for this reply only. */
  quota?: Partial<FakeQuota>;
}

/**
 * One scripted answer. `images` replies serve `/images/generations` and `/images/edits`;
 * `responses` replies serve `/responses` (SSE with the hosted tool). Kinds that make no sense on a
 * route behave like their nearest equivalent there.
 */
export type FakeCodexReply = FakeReplyCommon &
  (
    | {
        kind: "image";
        /** Default the requested `output_format`, else png. */
        format?: ImageFormat;
        /** Delivered size; default the requested `WxH`, else 1024x1024. */
        width?: number;
        height?: number;
        /** Delivered quality as the reply reports it; default the requested one (`auto` → `medium`). */
        quality?: string;
        revisedPrompt?: string;
        /** Native route: images in `data` (default the request's `n`). */
        count?: number;
        /** Responses route: partial images streamed before the final one. */
        partials?: number;
        /** Responses route: real-time pause between events. */
        eventDelayMs?: number;
        /** Responses route: send a `codex.rate_limits` event first. */
        rateLimitsEvent?: boolean;
        /** Exact bytes to deliver instead of a generated test image. */
        bytes?: Uint8Array;
      }
    /** Responses route: partial images, then `response.completed` without a final image. */
    | { kind: "partials_only"; partials: number }
    /** 429 `usage_limit_reached` (§3). */
    | { kind: "usage_limit"; resetsAt?: number; resetsInSeconds?: number; planType?: string }
    /** Plan without access (`usage_not_included`), permanent for the account. */
    | { kind: "usage_not_included"; planType?: string }
    /** Other 429, with `Retry-After` when given. */
    | { kind: "rate_limited"; retryAfterSeconds?: number; message?: string }
    /** 401 expired token. */
    | { kind: "unauthorized" }
    /** 400 with a message (OpenAI error shape, or `{detail}` when `shape: "detail"`). */
    | { kind: "bad_request"; message: string; shape?: "error" | "detail" }
    /** 5xx (default 500) with an optional upstream code such as `server_is_overloaded`. */
    | { kind: "server_error"; status?: number; code?: string; message?: string }
    /** Cloudflare "Attention Required" HTML, error 1010. */
    | { kind: "cloudflare" }
    /** Native route: the route does not exist for this account. */
    | { kind: "route_missing"; status?: 404 | 405 }
    /**
     * Headers sent (when `afterHeaders`) or nothing at all, then silence until the client leaves; with
     * `keepAliveMs` (responses route) an SSE comment every so many real milliseconds instead of silence.
     */
    | { kind: "stall"; afterHeaders?: boolean; keepAliveMs?: number }
    /** Some bytes, then the socket is destroyed (responses: after `partials` partial images). */
    | { kind: "cut"; partials?: number }
    /** Responses route: the carrier answers in words and completes without an image. */
    | { kind: "text_only"; text?: string }
    /**
     * Responses route without the image tool (vision, upstream.md Appendix B): the answer streams as
     * `response.output_text.delta` events, then a `message` item. Default text names the images seen and
     * the question; `""` streams no text at all (an empty answer).
     */
    | { kind: "answer"; text?: string }
    /** Responses route: `response.failed` with this error. */
    | { kind: "failed"; code: string; message: string }
    /** Responses route: a bare `error` event. */
    | { kind: "error_event"; code?: string; message: string }
    /** 200 whose image bytes are not an image. */
    | { kind: "not_an_image" }
    /** Full control. */
    | { kind: "custom"; handle: (request: RecordedRequest, res: ServerResponse) => Promise<void> | void }
  );

/** Values of the `x-codex-*` quota headers sent on every reply. */
export interface FakeQuota {
  primaryUsedPercent: number;
  primaryWindowMinutes: number;
  primaryResetAfterSeconds: number;
  secondaryUsedPercent: number;
  secondaryWindowMinutes: number;
  secondaryResetAfterSeconds: number;
  planType: string;
  activeLimit?: string;
  creditsHasCredits: boolean;
  creditsUnlimited: boolean;
  creditsBalance?: string;
}

/** One answered call to an image route, for assertions about connections. */
export interface FakeCodexCall {
  route: "images" | "responses";
  path: string;
  reply: FakeCodexReply["kind"];
  request: RecordedRequest;
  /** Resolves when the connection or response closed (normally or because the client left). */
  closed: Promise<void>;
  /** True once the fake finished writing the whole reply. */
  readonly completed: boolean;
}

export interface FakeCodexBackendOptions {
  /** HTTPS with the test CA (the real CLI needs it). */
  tls?: boolean;
  /**
   * `any` (default): any non-empty bearer is accepted. `issued`: only the newest access token the
   * token endpoint issued for the bearer's account, so an old token gets 401 and a refresh fixes it.
   */
  auth?: "any" | "issued";
  /** Options of the embedded token endpoint. */
  tokenEndpoint?: FakeTokenEndpointOptions;
  /** Initial quota header values. */
  quota?: Partial<FakeQuota>;
  /** Default replies when a route's script is empty. Default `{kind: "image"}`. */
  defaults?: { images?: FakeCodexReply; responses?: FakeCodexReply };
  /** Epoch ms for `created` and reset times. Default `Date.now`. */
  now?: () => number;
  /** Handlers tried before everything else (after the CLI-fidelity check). */
  extraHandlers?: FakeHandler[];
  /**
   * `enforce` (default): every token refresh, image and `/responses` request is compared with the
   * official CLI's recorded request (`compareWithCliRecord`): header names, order and values, body
   * fields and their order. A difference is recorded in `mismatches` and answered 400
   * `cli_mismatch`, so the test fails. `off` for tests that poke the fake with hand-made requests.
   */
  cliFidelity?: "enforce" | "off";
}

/** A request that differed from the CLI's recorded one. */
export interface CliMismatch {
  path: string;
  differences: string[];
}

export interface FakeCodexBackend {
  /** `http(s)://127.0.0.1:PORT` */
  origin: string;
  /** `{origin}/backend-api/codex`: the `baseUrl` for the codex-http backend. */
  baseUrl: string;
  /** `{origin}/backend-api/`: the CLI's `chatgpt_base_url`. */
  chatgptBaseUrl: string;
  /** `{origin}/oauth/token`: the refresh endpoint override. */
  tokenUrl: string;
  /** Every request received, in order. */
  requests: RecordedRequest[];
  /** Requests that differed from the official CLI's (empty when every client spoke exactly like it). */
  mismatches: CliMismatch[];
  /** Calls to the image routes with how they were answered. */
  calls: FakeCodexCall[];
  /** FIFO of replies per route; the default answers when empty. */
  script: { images: FakeCodexReply[]; responses: FakeCodexReply[] };
  /** Replies used when a script is empty (mutable). */
  defaults: { images: FakeCodexReply; responses: FakeCodexReply };
  /** Quota header values (mutable). */
  quota: FakeQuota;
  /** Per ChatGPT account id, overrides of `quota` in its `/wham/usage` replies (mutable). */
  quotaByAccount: Record<string, Partial<FakeQuota>>;
  /** Bearer check mode (mutable). */
  auth: "any" | "issued";
  /** The token endpoint mounted at `/oauth/token`. */
  tokens: FakeTokenEndpoint;
  /** Resolves once `count` calls to the image routes have started. */
  waitForCalls(count: number): Promise<FakeCodexCall[]>;
  close(): Promise<void>;
}

const CODEX_PREFIX = "/backend-api/codex";

const DEFAULT_QUOTA: FakeQuota = {
  primaryUsedPercent: 12,
  primaryWindowMinutes: 300,
  primaryResetAfterSeconds: 9000,
  secondaryUsedPercent: 34,
  secondaryWindowMinutes: 10080,
  secondaryResetAfterSeconds: 400_000,
  planType: "plus",
  creditsHasCredits: false,
  creditsUnlimited: false,
};

/** The model catalog shape the real CLI accepts (upstream.md §5). */
export const FAKE_MODELS_CATALOG = { models: [FAKE_CLI_MODEL] };

const CLOUDFLARE_PAGE = `<!DOCTYPE html>
<html lang="en-US"><head><title>Attention Required! | Cloudflare</title></head>
<body><div class="cf-error-details"><h1>Sorry, you have been blocked</h1>
<p>Error code: 1010</p><p>The owner of this website has banned your access based on your browser's signature.</p></div></body></html>`;

/**
 * A loopback fake of the ChatGPT Codex backend (upstream.md §2-§5) that validates requests the way
 * upstream does and answers from a per-route script, so tests cover every success and failure path
 * without the real service.
 */
export async function startFakeCodexBackend(
  options: FakeCodexBackendOptions = {},
): Promise<FakeCodexBackend> {
  const now = options.now ?? Date.now;
  const tokens = createFakeTokenEndpoint(options.tokenEndpoint);
  const calls: FakeCodexCall[] = [];
  const callWaiters: Array<{ count: number; resolve: (calls: FakeCodexCall[]) => void }> = [];
  let origin = "";
  const state = {
    script: { images: [] as FakeCodexReply[], responses: [] as FakeCodexReply[] },
    defaults: {
      images: options.defaults?.images ?? ({ kind: "image" } as FakeCodexReply),
      responses: options.defaults?.responses ?? ({ kind: "image" } as FakeCodexReply),
    },
    quota: { ...DEFAULT_QUOTA, ...options.quota },
    quotaByAccount: {} as Record<string, Partial<FakeQuota>>,
    auth: options.auth ?? "any",
  };
  const context = {
    get origin() {
      return origin;
    },
  };

  const quotaHeaders = (override: Partial<FakeQuota> = {}): Record<string, string> => {
    const q = { ...state.quota, ...override };
    const nowSeconds = Math.floor(now() / 1000);
    return {
      "x-codex-primary-used-percent": String(q.primaryUsedPercent),
      "x-codex-primary-window-minutes": String(q.primaryWindowMinutes),
      "x-codex-primary-reset-after-seconds": String(q.primaryResetAfterSeconds),
      "x-codex-primary-reset-at": String(nowSeconds + q.primaryResetAfterSeconds),
      "x-codex-secondary-used-percent": String(q.secondaryUsedPercent),
      "x-codex-secondary-window-minutes": String(q.secondaryWindowMinutes),
      "x-codex-secondary-reset-after-seconds": String(q.secondaryResetAfterSeconds),
      "x-codex-secondary-reset-at": String(nowSeconds + q.secondaryResetAfterSeconds),
      "x-codex-plan-type": q.planType,
      ...(q.activeLimit ? { "x-codex-active-limit": q.activeLimit } : {}),
      "x-codex-credits-has-credits": String(q.creditsHasCredits),
      "x-codex-credits-unlimited": String(q.creditsUnlimited),
      ...(q.creditsBalance === undefined ? {} : { "x-codex-credits-balance": q.creditsBalance }),
    };
  };

  /** Checks every backend request the way the Cloudflare front and the API do; true when it answered. */
  const rejectBadClient = (request: RecordedRequest, res: ServerResponse): boolean => {
    if (!headerValue(request.headers.originator)) {
      res.writeHead(403, { "content-type": "text/html; charset=UTF-8", "cf-ray": "8f0000000000-FAKE" });
      res.end(CLOUDFLARE_PAGE);
      return true;
    }
    const bearer = /^Bearer\s+(.+)$/i.exec(headerValue(request.headers.authorization) ?? "")?.[1];
    if (!bearer || (state.auth === "issued" && !isIssuedToken(tokens, bearer, request))) {
      sendJson(res, 401, unauthorizedBody(), quotaHeaders());
      return true;
    }
    return false;
  };

  const startCall = (
    route: "images" | "responses",
    request: RecordedRequest,
    res: ServerResponse,
    reply: FakeCodexReply,
  ): void => {
    let completed = false;
    const closed = new Promise<void>((resolve) => {
      res.on("finish", () => {
        completed = true;
      });
      res.on("close", () => resolve());
    });
    const call: FakeCodexCall = {
      route,
      path: new URL(request.url, "http://fake").pathname,
      reply: reply.kind,
      request,
      closed,
      get completed() {
        return completed;
      },
    };
    calls.push(call);
    for (const waiter of [...callWaiters]) {
      if (calls.length >= waiter.count) {
        callWaiters.splice(callWaiters.indexOf(waiter), 1);
        waiter.resolve([...calls]);
      }
    }
  };

  const imagesHandler: FakeHandler = async (request, res) => {
    const path = new URL(request.url, "http://fake").pathname;
    if (path !== `${CODEX_PREFIX}/images/generations` && path !== `${CODEX_PREFIX}/images/edits`)
      return false;
    if (request.method !== "POST") {
      sendJson(res, 405, { detail: "Method Not Allowed" });
      return true;
    }
    if (rejectBadClient(request, res)) return true;
    const invalid = validateImagesRequest(request, path.endsWith("/edits"));
    if (invalid) {
      sendJson(
        res,
        400,
        { error: { message: invalid, type: "invalid_request_error", param: null, code: null } },
        quotaHeaders(),
      );
      return true;
    }
    const reply = state.script.images.shift() ?? state.defaults.images;
    startCall("images", request, res, reply);
    await answerImages(request, res, reply);
    return true;
  };

  const responsesHandler: FakeHandler = async (request, res) => {
    const path = new URL(request.url, "http://fake").pathname;
    if (path !== `${CODEX_PREFIX}/responses`) return false;
    if (request.method !== "POST") {
      sendJson(res, 405, { detail: "Method Not Allowed" });
      return true;
    }
    if (rejectBadClient(request, res)) return true;
    const invalid = validateResponsesRequest(request);
    if (invalid) {
      sendJson(res, 400, { detail: invalid }, quotaHeaders());
      return true;
    }
    const reply = state.script.responses.shift() ?? state.defaults.responses;
    startCall("responses", request, res, reply);
    await answerResponses(request, res, reply);
    return true;
  };

  const infoHandler: FakeHandler = async (request, res) => {
    const url = new URL(request.url, "http://fake");
    if (request.method === "GET" && url.pathname === `${CODEX_PREFIX}/models`) {
      sendJson(res, 200, FAKE_MODELS_CATALOG, { etag: '"fake-models-1"' });
      return true;
    }
    if (request.method === "GET" && url.pathname === "/backend-api/wham/usage") {
      if (!headerValue(request.headers.authorization)) {
        sendJson(res, 401, unauthorizedBody());
        return true;
      }
      const account = headerValue(request.headers["chatgpt-account-id"]) ?? "";
      const q = { ...state.quota, ...state.quotaByAccount[account] };
      const nowSeconds = Math.floor(now() / 1000);
      sendJson(res, 200, {
        plan_type: q.planType,
        rate_limit: {
          allowed: q.primaryUsedPercent < 100,
          limit_reached: q.primaryUsedPercent >= 100,
          primary_window: {
            used_percent: q.primaryUsedPercent,
            limit_window_seconds: q.primaryWindowMinutes * 60,
            reset_after_seconds: q.primaryResetAfterSeconds,
            reset_at: nowSeconds + q.primaryResetAfterSeconds,
          },
          secondary_window: {
            used_percent: q.secondaryUsedPercent,
            limit_window_seconds: q.secondaryWindowMinutes * 60,
            reset_after_seconds: q.secondaryResetAfterSeconds,
            reset_at: nowSeconds + q.secondaryResetAfterSeconds,
          },
        },
        credits: {
          has_credits: q.creditsHasCredits,
          unlimited: q.creditsUnlimited,
          balance: q.creditsBalance ?? "0",
        },
      });
      return true;
    }
    return false;
  };

  async function answerImages(
    request: RecordedRequest,
    res: ServerResponse,
    reply: FakeCodexReply,
  ): Promise<void> {
    if (reply.delayMs) await delay(reply.delayMs);
    const headers = quotaHeaders(reply.quota);
    const body = (request.json ?? {}) as Record<string, unknown>;
    switch (reply.kind) {
      case "image":
      case "partials_only": {
        const image = reply.kind === "image" ? reply : { kind: "image" as const };
        const count = image.count ?? (typeof body.n === "number" ? body.n : 1);
        const { width, height } = deliveredSize(image, body.size);
        const format = image.format ?? "png";
        const data = [];
        for (let i = 0; i < count; i++) {
          const bytes = image.bytes ?? (await testImage(format, width, height, i + 1));
          data.push({
            b64_json: Buffer.from(bytes).toString("base64"),
            ...(image.revisedPrompt ? { revised_prompt: image.revisedPrompt } : {}),
          });
        }
        sendJson(
          res,
          200,
          {
            created: Math.floor(now() / 1000),
            data,
            background:
              typeof body.background === "string" && body.background !== "auto" ? body.background : "opaque",
            output_format: format,
            quality: image.quality ?? deliveredQuality(body.quality),
            size: `${width}x${height}`,
            usage: { input_tokens: 50, output_tokens: 1056, total_tokens: 1106 },
          },
          { ...headers, "x-codex-imagegen-request-id": `igr_${crypto.randomUUID()}` },
        );
        return;
      }
      case "not_an_image":
        sendJson(
          res,
          200,
          { created: 1, data: [{ b64_json: Buffer.from("not an image at all").toString("base64") }] },
          headers,
        );
        return;
      case "stall":
        if (reply.afterHeaders) {
          res.writeHead(200, { "content-type": "application/json", ...headers });
          res.flushHeaders();
        }
        return;
      case "cut":
        res.writeHead(200, { "content-type": "application/json", "content-length": "100000", ...headers });
        res.write('{"created": 1, "data": [{"b64_json": "iVBORw0KGgo');
        setTimeout(() => res.socket?.destroy(), 20);
        return;
      default:
        await answerCommon(request, res, reply, headers);
    }
  }

  async function answerResponses(
    request: RecordedRequest,
    res: ServerResponse,
    reply: FakeCodexReply,
  ): Promise<void> {
    if (reply.delayMs) await delay(reply.delayMs);
    const headers = quotaHeaders(reply.quota);
    const body = (request.json ?? {}) as Record<string, unknown>;
    const tool = ((body.tools as unknown[] | undefined) ?? []).find(
      (t) => (t as { type?: unknown })?.type === "image_generation",
    ) as Record<string, unknown> | undefined;
    const responseId = `resp_${crypto.randomUUID().replaceAll("-", "")}`;
    const itemId = `ig_${crypto.randomUUID().replaceAll("-", "")}`;
    // Without the image tool a request is a question (vision): a scripted image becomes an answer.
    if (!tool && (reply.kind === "image" || reply.kind === "answer")) {
      const text = reply.kind === "answer" && reply.text !== undefined ? reply.text : visionAnswer(body);
      const writer = openSse(res, headers);
      writer.event("response.created", { response: { id: responseId, status: "in_progress", output: [] } });
      const item = {
        id: `msg_${crypto.randomUUID().replaceAll("-", "")}`,
        type: "message",
        role: "assistant",
        status: "completed",
        content: text ? [{ type: "output_text", text, annotations: [] }] : [],
      };
      writer.event("response.output_item.added", { output_index: 0, item: { ...item, content: [] } });
      // Two deltas, so a client that joins deltas and one that reads the item must agree.
      const half = Math.ceil(text.length / 2);
      for (const delta of [text.slice(0, half), text.slice(half)].filter(Boolean)) {
        writer.event("response.output_text.delta", { output_index: 0, item_id: item.id, delta });
      }
      writer.event("response.output_item.done", { output_index: 0, item });
      writer.event("response.completed", {
        response: {
          id: responseId,
          status: "completed",
          output: [item],
          usage: { input_tokens: 900, output_tokens: 60, total_tokens: 960 },
        },
      });
      writer.end();
      return;
    }
    const sse = (): SseWriter => openSse(res, headers);
    const head = (writer: SseWriter): void => {
      writer.event("response.created", { response: { id: responseId, status: "in_progress", output: [] } });
      writer.event("response.in_progress", { response: { id: responseId, status: "in_progress" } });
    };
    const imageStart = (writer: SseWriter): void => {
      writer.event("response.output_item.added", {
        output_index: 0,
        item: { id: itemId, type: "image_generation_call", status: "in_progress" },
      });
      writer.event("response.image_generation_call.in_progress", { output_index: 0, item_id: itemId });
      writer.event("response.image_generation_call.generating", { output_index: 0, item_id: itemId });
    };
    const partial = async (
      writer: SseWriter,
      index: number,
      size: { width: number; height: number },
    ): Promise<void> => {
      const bytes = await testImage(
        "png",
        Math.max(1, Math.round(size.width / 4)),
        Math.max(1, Math.round(size.height / 4)),
        100 + index,
      );
      writer.event("response.image_generation_call.partial_image", {
        output_index: 0,
        item_id: itemId,
        partial_image_index: index,
        partial_image_b64: Buffer.from(bytes).toString("base64"),
      });
    };
    const completed = (writer: SseWriter, output: unknown[] = []): void => {
      writer.event("response.completed", {
        response: {
          id: responseId,
          status: "completed",
          output,
          usage: { input_tokens: 120, output_tokens: 40, total_tokens: 160 },
        },
      });
      writer.end();
    };

    switch (reply.kind) {
      case "image": {
        const writer = sse();
        if (reply.rateLimitsEvent) writer.event("codex.rate_limits", rateLimitsPayload(state.quota, now()));
        head(writer);
        imageStart(writer);
        const size = deliveredSize(reply, tool?.size);
        for (let i = 0; i < (reply.partials ?? 0); i++) {
          if (reply.eventDelayMs) await delay(reply.eventDelayMs);
          await partial(writer, i, size);
        }
        if (reply.eventDelayMs) await delay(reply.eventDelayMs);
        const format = reply.format ?? (isImageFormat(tool?.output_format) ? tool.output_format : "png");
        const bytes = reply.bytes ?? (await testImage(format, size.width, size.height, 1));
        writer.event("response.output_item.done", {
          output_index: 0,
          item: {
            id: itemId,
            type: "image_generation_call",
            status: "completed",
            result: Buffer.from(bytes).toString("base64"),
            revised_prompt: reply.revisedPrompt ?? `A picture: ${promptOf(body)}`,
            size: `${size.width}x${size.height}`,
            quality: reply.quality ?? deliveredQuality(tool?.quality),
            output_format: format,
            background: typeof tool?.background === "string" ? tool.background : "opaque",
          },
        });
        if (reply.eventDelayMs) await delay(reply.eventDelayMs);
        completed(writer);
        return;
      }
      case "partials_only": {
        const writer = sse();
        head(writer);
        imageStart(writer);
        const size = deliveredSize({}, tool?.size);
        for (let i = 0; i < reply.partials; i++) await partial(writer, i, size);
        completed(writer);
        return;
      }
      case "text_only": {
        const writer = sse();
        head(writer);
        const text = reply.text ?? "I can't help with creating that image.";
        const item = {
          id: `msg_${crypto.randomUUID().replaceAll("-", "")}`,
          type: "message",
          role: "assistant",
          status: "completed",
          content: [{ type: "output_text", text, annotations: [] }],
        };
        writer.event("response.output_item.added", { output_index: 0, item: { ...item, content: [] } });
        writer.event("response.output_text.delta", { output_index: 0, item_id: item.id, delta: text });
        writer.event("response.output_item.done", { output_index: 0, item });
        // Upstream repeats the finished message in response.completed's output.
        completed(writer, [item]);
        return;
      }
      case "failed": {
        const writer = sse();
        head(writer);
        writer.event("response.failed", {
          response: { id: responseId, status: "failed", error: { code: reply.code, message: reply.message } },
        });
        writer.end();
        return;
      }
      case "error_event": {
        const writer = sse();
        head(writer);
        writer.event("error", {
          ...(reply.code ? { code: reply.code } : {}),
          message: reply.message,
          param: null,
        });
        writer.end();
        return;
      }
      case "not_an_image": {
        const writer = sse();
        head(writer);
        imageStart(writer);
        writer.event("response.output_item.done", {
          output_index: 0,
          item: {
            id: itemId,
            type: "image_generation_call",
            status: "completed",
            result: Buffer.from("nope").toString("base64"),
          },
        });
        completed(writer);
        return;
      }
      case "stall":
        if (reply.afterHeaders) {
          const writer = sse();
          head(writer);
          if (reply.keepAliveMs) {
            const timer = setInterval(() => writer.comment("keep-alive"), reply.keepAliveMs);
            res.on("close", () => clearInterval(timer));
          }
        }
        return;
      case "cut": {
        const writer = sse();
        head(writer);
        imageStart(writer);
        const size = deliveredSize({}, tool?.size);
        for (let i = 0; i < (reply.partials ?? 0); i++) await partial(writer, i, size);
        // Half an event, then the connection dies.
        res.write('event: response.output_item.done\ndata: {"type":"response.output_item.done","item":{"res');
        setTimeout(() => res.socket?.destroy(), 20);
        return;
      }
      default:
        await answerCommon(request, res, reply, headers);
    }
  }

  /** Replies that look the same on both routes (HTTP-level errors). */
  async function answerCommon(
    request: RecordedRequest,
    res: ServerResponse,
    reply: FakeCodexReply,
    headers: Record<string, string>,
  ): Promise<void> {
    const nowSeconds = Math.floor(now() / 1000);
    switch (reply.kind) {
      case "usage_limit": {
        const resetsIn = reply.resetsInSeconds ?? (reply.resetsAt === undefined ? 13872 : undefined);
        sendJson(
          res,
          429,
          {
            error: {
              type: "usage_limit_reached",
              message: "The usage limit has been reached",
              plan_type: reply.planType ?? state.quota.planType,
              ...(reply.resetsAt === undefined ? {} : { resets_at: reply.resetsAt }),
              ...(resetsIn === undefined ? {} : { resets_in_seconds: resetsIn }),
              ...(reply.resetsAt === undefined && resetsIn !== undefined
                ? { resets_at: nowSeconds + resetsIn }
                : {}),
            },
          },
          { ...headers, "x-codex-primary-used-percent": "100" },
        );
        return;
      }
      case "usage_not_included":
        sendJson(
          res,
          429,
          {
            error: {
              type: "usage_not_included",
              message: "Your plan does not include access to this feature. Upgrade to use it.",
              plan_type: reply.planType ?? "free",
            },
          },
          headers,
        );
        return;
      case "rate_limited":
        sendJson(
          res,
          429,
          {
            error: {
              type: "rate_limit_exceeded",
              code: "rate_limit_exceeded",
              message: reply.message ?? "Rate limit reached. Please slow down.",
            },
          },
          {
            ...headers,
            ...(reply.retryAfterSeconds === undefined
              ? {}
              : { "retry-after": String(reply.retryAfterSeconds) }),
          },
        );
        return;
      case "unauthorized":
        sendJson(res, 401, unauthorizedBody(), headers);
        return;
      case "bad_request":
        sendJson(
          res,
          400,
          reply.shape === "detail"
            ? { detail: reply.message }
            : { error: { message: reply.message, type: "invalid_request_error", param: null, code: null } },
          headers,
        );
        return;
      case "server_error":
        sendJson(
          res,
          reply.status ?? 500,
          {
            error: {
              message: reply.message ?? "An error occurred while processing your request.",
              type: "server_error",
              code: reply.code ?? null,
            },
          },
          headers,
        );
        return;
      case "cloudflare":
        res.writeHead(403, { "content-type": "text/html; charset=UTF-8" });
        res.end(CLOUDFLARE_PAGE);
        return;
      case "route_missing":
        sendJson(res, reply.status ?? 404, { detail: "Not Found" }, headers);
        return;
      case "custom":
        await reply.handle(request, res);
        return;
      default:
        sendJson(res, 500, { detail: `fake: reply ${reply.kind} is not supported on ${request.url}` });
    }
  }

  // `origin` is read lazily by the CLI routes: handlers exist before the server listens.
  const cliHandlers = fakeCliRoutes(context);
  const mismatches: CliMismatch[] = [];

  const fidelityHandler: FakeHandler = async (request, res) => {
    if ((options.cliFidelity ?? "enforce") === "off") return false;
    const differences = compareWithCliRecord(request);
    if (differences.length === 0) return false;
    const path = new URL(request.url, "http://fake").pathname;
    mismatches.push({ path, differences });
    sendJson(res, 400, {
      error: {
        message: `request differs from the official CLI's: ${differences.join("; ")}`,
        type: "invalid_request_error",
        code: "cli_mismatch",
        param: null,
      },
    });
    return true;
  };

  const server = await startFakeUpstreamServer({
    ...(options.tls === undefined ? {} : { tls: options.tls }),
    handlers: [
      fidelityHandler,
      ...(options.extraHandlers ?? []),
      tokens.handler,
      ...cliHandlers,
      imagesHandler,
      responsesHandler,
      infoHandler,
    ],
  });
  origin = server.origin;

  return {
    origin,
    baseUrl: `${origin}${CODEX_PREFIX}`,
    chatgptBaseUrl: `${origin}/backend-api/`,
    tokenUrl: `${origin}/oauth/token`,
    requests: server.requests,
    mismatches,
    calls,
    script: state.script,
    get defaults() {
      return state.defaults;
    },
    set defaults(value) {
      state.defaults = value;
    },
    get quota() {
      return state.quota;
    },
    set quota(value) {
      state.quota = value;
    },
    get quotaByAccount() {
      return state.quotaByAccount;
    },
    set quotaByAccount(value) {
      state.quotaByAccount = value;
    },
    get auth() {
      return state.auth;
    },
    set auth(value) {
      state.auth = value;
    },
    tokens,
    waitForCalls(count) {
      if (calls.length >= count) return Promise.resolve([...calls]);
      return new Promise((resolve) => callWaiters.push({ count, resolve }));
    },
    close: () => server.close(),
  };
}

interface SseWriter {
  event(type: string, payload: Record<string, unknown>): void;
  comment(text: string): void;
  end(): void;
}

function openSse(res: ServerResponse, headers: Record<string, string>): SseWriter {
  res.writeHead(200, {
    "content-type": "text/event-stream",
    "cache-control": "no-cache",
    connection: "keep-alive",
    ...headers,
  });
  res.flushHeaders();
  return {
    event(type, payload) {
      if (!res.writableEnded && !res.destroyed)
        res.write(`event: ${type}\ndata: ${JSON.stringify({ type, ...payload })}\n\n`);
    },
    comment(text) {
      if (!res.writableEnded && !res.destroyed) res.write(`: ${text}\n\n`);
    },
    end() {
      if (!res.writableEnded && !res.destroyed) res.end();
    },
  };
}

/** Mirrors upstream's checks on `/responses` (upstream.md §2b); returns the 400 message or undefined. */
function validateResponsesRequest(request: RecordedRequest): string | undefined {
  const body = request.json;
  if (typeof body !== "object" || body === null) return "Invalid JSON body";
  const b = body as Record<string, unknown>;
  if (b.store !== false) return "Store must be set to false";
  if (b.stream !== true) return "Stream must be set to true";
  if ("max_output_tokens" in b) return "Unsupported parameter: max_output_tokens";
  const choice = b.tool_choice;
  const forced =
    choice === "image_generation" ||
    (typeof choice === "object" &&
      choice !== null &&
      (choice as { type?: unknown }).type === "image_generation");
  if (forced) return "Tool choice 'image_generation' not found in 'tools' parameter.";
  for (const message of Array.isArray(b.input) ? (b.input as Array<{ content?: unknown }>) : []) {
    for (const part of Array.isArray(message?.content)
      ? (message.content as Array<{ type?: unknown; image_url?: unknown }>)
      : []) {
      if (part?.type !== "input_image") continue;
      if (typeof part.image_url !== "string" || !part.image_url.startsWith("data:"))
        return "Error while downloading file";
    }
  }
  const tools = Array.isArray(b.tools) ? (b.tools as Array<{ type?: unknown }>) : [];
  if (
    typeof b.model === "string" &&
    b.model.endsWith("-codex") &&
    tools.some((t) => t?.type === "image_generation")
  ) {
    return `Tool 'image_generation' is not supported with ${b.model}.`;
  }
  // The hosted tool's `input_fidelity` is OpenAI's enum; anything else is refused as the public API does.
  const fidelity = (tools.find((t) => t?.type === "image_generation") as { input_fidelity?: unknown })
    ?.input_fidelity;
  if (fidelity !== undefined && fidelity !== "low" && fidelity !== "high") {
    return `Invalid value: '${String(fidelity)}'. Supported values are: 'low' and 'high'.`;
  }
  return undefined;
}

/** Mirrors upstream's checks on `/images/*` (upstream.md §2a); returns the 400 message or undefined. */
function validateImagesRequest(request: RecordedRequest, edit: boolean): string | undefined {
  const type = headerValue(request.headers["content-type"]) ?? "";
  if (type.includes("multipart/")) return "Multipart form data is not supported; send JSON.";
  const body = request.json;
  if (typeof body !== "object" || body === null) return "Invalid JSON body";
  const b = body as Record<string, unknown>;
  if (typeof b.prompt !== "string" || b.prompt.trim() === "") return "prompt is required";
  if (edit) {
    if (!Array.isArray(b.images) || b.images.length === 0) return "images is required for edits";
    for (const image of b.images as Array<{ image_url?: unknown }>) {
      const url = image?.image_url;
      if (typeof url !== "string") return "images[].image_url is required";
      if (!url.startsWith("data:")) return "Error while downloading file";
      if (!/^data:image\/(png|jpeg|webp);base64,/.test(url)) return "Invalid image data URL";
    }
  }
  return undefined;
}

function unauthorizedBody(): unknown {
  return {
    error: {
      message: "Provided authentication token is expired. Please try signing in again.",
      type: "invalid_request_error",
      code: "token_expired",
      param: null,
    },
  };
}

/** `issued` mode: the bearer must be the newest access token the token endpoint issued for its account. */
function isIssuedToken(tokens: FakeTokenEndpoint, bearer: string, request: RecordedRequest): boolean {
  const claimAccount = jwtAccountId(bearer);
  const headerAccount = headerValue(request.headers["chatgpt-account-id"]);
  for (const account of [claimAccount, headerAccount]) {
    if (account && tokens.latest(account)?.accessToken === bearer) return true;
  }
  return false;
}

function jwtAccountId(token: string): string | undefined {
  try {
    const payload = JSON.parse(
      Buffer.from(token.split(".")[1] ?? "", "base64url").toString("utf8"),
    ) as Record<string, unknown>;
    const auth = payload["https://api.openai.com/auth"] as { chatgpt_account_id?: unknown } | undefined;
    return typeof auth?.chatgpt_account_id === "string" ? auth.chatgpt_account_id : undefined;
  } catch {
    return undefined;
  }
}

function rateLimitsPayload(q: FakeQuota, nowMs: number): Record<string, unknown> {
  const nowSeconds = Math.floor(nowMs / 1000);
  return {
    plan_type: q.planType,
    rate_limits: {
      allowed: true,
      limit_reached: false,
      primary: {
        used_percent: q.primaryUsedPercent,
        window_minutes: q.primaryWindowMinutes,
        reset_after_seconds: q.primaryResetAfterSeconds,
        reset_at: nowSeconds + q.primaryResetAfterSeconds,
      },
      secondary: {
        used_percent: q.secondaryUsedPercent,
        window_minutes: q.secondaryWindowMinutes,
        reset_after_seconds: q.secondaryResetAfterSeconds,
        reset_at: nowSeconds + q.secondaryResetAfterSeconds,
      },
    },
    credits: {
      has_credits: q.creditsHasCredits,
      unlimited: q.creditsUnlimited,
      balance: q.creditsBalance ?? "0",
    },
  };
}

function deliveredSize(
  reply: { width?: number; height?: number },
  requested: unknown,
): { width: number; height: number } {
  const match = typeof requested === "string" ? /^(\d+)x(\d+)$/.exec(requested) : null;
  return {
    width: reply.width ?? (match ? Number(match[1]) : 1024),
    height: reply.height ?? (match ? Number(match[2]) : 1024),
  };
}

function deliveredQuality(requested: unknown): string {
  return typeof requested === "string" && requested !== "auto" ? requested : "medium";
}

function isImageFormat(value: unknown): value is ImageFormat {
  return value === "png" || value === "jpeg" || value === "webp";
}

/** The fake model's answer to a question about images: what it was shown and what it was asked. */
function visionAnswer(body: Record<string, unknown>): string {
  const input = Array.isArray(body.input) ? (body.input as Array<{ content?: unknown }>) : [];
  const formats: string[] = [];
  for (const message of input) {
    for (const part of Array.isArray(message?.content)
      ? (message.content as Array<{ type?: unknown; image_url?: unknown }>)
      : []) {
      if (part?.type !== "input_image" || typeof part.image_url !== "string") continue;
      formats.push(/^data:image\/(\w+);/.exec(part.image_url)?.[1] ?? "unknown");
    }
  }
  return `Fake vision answer: I see ${formats.length} image(s) (${formats.join(", ")}). You asked: ${promptOf(body)}`;
}

/** The user's text: the first `input_text` of a user message (the CLI-style turn puts instructions first). */
function promptOf(body: Record<string, unknown>): string {
  const input = Array.isArray(body.input) ? (body.input as Array<{ role?: unknown; content?: unknown }>) : [];
  for (const message of input) {
    if (message?.role !== undefined && message.role !== "user") continue;
    for (const part of Array.isArray(message?.content)
      ? (message.content as Array<{ type?: unknown; text?: unknown }>)
      : []) {
      if (part?.type === "input_text" && typeof part.text === "string") return part.text;
    }
  }
  return "";
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
