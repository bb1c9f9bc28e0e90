import type { ServerResponse } from "node:http";
import { fakeQuotaHeaders } from "./fake-codex-quota.js";
import type { FakeCodexReply, FakeQuota } from "./fake-codex-types.js";
import { sendJson } from "./fake-upstream.js";
import type { RecordedRequest } from "./fake-upstream-types.js";

/** What the reply writers read from the running fake. */
export interface FakeReplyContext {
  /** Epoch ms for `created` and reset times. */
  now(): number;
  /** The quota header values as they are now (mutable on the fake). */
  quota(): FakeQuota;
}

/** The quota headers of a reply, with this reply's overrides. */
export function replyHeaders(
  ctx: FakeReplyContext,
  override: Partial<FakeQuota> = {},
): Record<string, string> {
  return fakeQuotaHeaders({ ...ctx.quota(), ...override }, ctx.now());
}

export const CLOUDFLARE_PAGE = `<!DOCTYPE html>
<html lang="en-US"><head><title>Attention Required! | Cloudflare</title></head>
<body><div class="cf-error-details"><h1>Sorry, you have been blocked</h1>
<p>Error code: 1010</p><p>The owner of this website has banned your access based on your browser's signature.</p></div></body></html>`;

/** Replies that look the same on both routes (HTTP-level errors). */
export async function answerCommon(
  ctx: FakeReplyContext,
  request: RecordedRequest,
  res: ServerResponse,
  reply: FakeCodexReply,
  headers: Record<string, string>,
): Promise<void> {
  const nowSeconds = Math.floor(ctx.now() / 1000);
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
            plan_type: reply.planType ?? ctx.quota().planType,
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

export function unauthorizedBody(): unknown {
  return {
    error: {
      message: "Provided authentication token is expired. Please try signing in again.",
      type: "invalid_request_error",
      code: "token_expired",
      param: null,
    },
  };
}

export function deliveredSize(
  reply: { width?: number; height?: number },
  requested: unknown,
): { width: number; height: number } {
  const match = typeof requested === "string" ? /^(\d+)x(\d+)$/.exec(requested) : null;
  return {
    width: reply.width ?? (match ? Number(match[1]) : 1024),
    height: reply.height ?? (match ? Number(match[2]) : 1024),
  };
}

export function deliveredQuality(requested: unknown): string {
  return typeof requested === "string" && requested !== "auto" ? requested : "medium";
}

export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
