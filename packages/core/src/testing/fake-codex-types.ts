import type { ServerResponse } from "node:http";
import type { ImageFormat } from "../types.js";
import type { FakeTokenEndpoint, FakeTokenEndpointOptions } from "./fake-token-endpoint.js";
import type { FakeHandler, RecordedRequest } from "./fake-upstream-types.js";

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
