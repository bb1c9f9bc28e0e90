import { CodexImgError, type ErrorCode, type ErrorDetails } from "../../errors.js";
import { isRecord } from "../../json-values.js";
import { redactSecrets } from "../../redact.js";
import { openAiRetryAfterMs } from "./retry-after.js";

/** What an OpenAI error reply says about itself (`{"error": {"message","type","param","code"}}`). */
export interface OpenAiErrorBody {
  message?: string;
  type?: string;
  param?: string;
  code?: string;
}

export interface OpenAiErrorReply {
  status: number;
  headers: Headers;
  /** The reply body as text (it may not be JSON: proxies answer HTML). */
  text: string;
  /** Epoch milliseconds, for `retry-after` given as a date. */
  now: number;
  /** The owner's key, scrubbed from anything quoted back (OpenAI echoes a masked form on 401). */
  apiKey: string;
}

const REFUSAL_CODES = new Set(["moderation_blocked", "content_policy_violation", "content_filter"]);

/** Turns one non-2xx reply of the Images API into the matching `CodexImgError`. */
export function openAiErrorFromReply(reply: OpenAiErrorReply): CodexImgError {
  const body = readErrorBody(reply.text);
  const status = reply.status;
  const requestId = reply.headers.get("x-request-id") ?? undefined;
  const upstream = body.message
    ? scrubOpenAiText(body.message, reply.apiKey)
    : `OpenAI answered HTTP ${status}${snippet(reply.text, reply.apiKey)}`;
  const details: ErrorDetails = {
    backend: "openai",
    upstreamStatus: status,
    ...(body.code ? { upstreamCode: body.code } : body.type ? { upstreamCode: body.type } : {}),
    ...(body.type ? { upstreamType: body.type } : {}),
    ...(body.param ? { param: body.param } : {}),
    ...(requestId ? { requestId } : {}),
  };
  const retryAfterMs = openAiRetryAfterMs(reply.headers, reply.now);
  const make = (code: ErrorCode, message: string, extra: { retryable?: boolean } = {}): CodexImgError =>
    new CodexImgError(code, message, {
      details,
      ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
      // The SDK honours `x-should-retry`; so do we, when upstream bothers to say it.
      ...(reply.headers.get("x-should-retry") === "false" ? { retryable: false } : extra),
    });

  if (status === 401) {
    // The rejected credential is the owner's API key, not the caller's codex-img key: `unauthorized`
    // would tell the caller their own key is wrong (HTTP 401). `login_required` is the code for "a
    // configured upstream credential is unusable until the owner fixes it" (HTTP 503). Unlike a Codex
    // login, a different attempt with the same key cannot help, so it is not retryable.
    return make("login_required", `The OpenAI API key was rejected: ${upstream}`, { retryable: false });
  }
  if (status === 429) {
    if (body.code === "insufficient_quota" || body.type === "insufficient_quota") {
      // Paid credit ran out: nothing resets on a timer, so retrying soon is pointless.
      details.accountFault = true;
      return make("quota_exhausted", `The OpenAI account is out of credit: ${upstream}`, {
        retryable: false,
      });
    }
    return make("rate_limited", `OpenAI rate limit: ${upstream}`);
  }
  if (status >= 500 || status === 408 || status === 409) {
    return make("upstream_failed", `OpenAI failed (HTTP ${status}): ${upstream}`);
  }
  if (status === 403) {
    // Unverified organisation for the model, unsupported region, missing project permission: the
    // owner's setup, not the request, and not fixed by retrying.
    details.accountFault = true;
    return make("backend_unavailable", `OpenAI refused this API key access: ${upstream}`);
  }
  if (status === 404) {
    if (body.code === "model_not_found") {
      details.param = body.param ?? "model";
      return make("invalid_request", upstream);
    }
    return make("backend_unavailable", `OpenAI answered 404 (is the base URL right?): ${upstream}`);
  }
  if (status === 413) return make("invalid_request", upstream);
  if (isRefusal(body)) return make("upstream_refused", upstream);
  if (body.code === "billing_hard_limit_reached") {
    details.accountFault = true;
    return make("quota_exhausted", `The OpenAI account hit its billing limit: ${upstream}`, {
      retryable: false,
    });
  }
  if (body.param || body.code?.startsWith("invalid_")) return make("invalid_request", upstream);
  // Any other 4xx is upstream declining this request as asked: surface its words verbatim.
  return make("upstream_refused", upstream);
}

/**
 * Removes the owner's key (and anything shaped like an OpenAI key, masked or not) from text that is
 * about to become an error message or a log field.
 */
export function scrubOpenAiText(text: string, apiKey: string): string {
  const withoutKey = apiKey.length > 0 ? text.split(apiKey).join("[redacted-key]") : text;
  return redactSecrets(withoutKey.replace(/\bsk-[A-Za-z0-9*_-]{3,}/g, "[redacted-key]"));
}

function isRefusal(body: OpenAiErrorBody): boolean {
  if (body.code && REFUSAL_CODES.has(body.code)) return true;
  return /safety system|content policy/i.test(body.message ?? "");
}

function readErrorBody(text: string): OpenAiErrorBody {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return {};
  }
  const error = isRecord(parsed) ? parsed.error : undefined;
  if (typeof error === "string") return { message: error };
  if (!isRecord(error)) return {};
  const field = (name: string): string | undefined => {
    const value = error[name];
    return typeof value === "string" && value.length > 0 ? value : undefined;
  };
  const out: OpenAiErrorBody = {};
  const message = field("message");
  const type = field("type");
  const param = field("param");
  const code = field("code");
  if (message) out.message = message;
  if (type) out.type = type;
  if (param) out.param = param;
  if (code) out.code = code;
  return out;
}

function snippet(text: string, apiKey: string): string {
  const flat = text.replace(/\s+/g, " ").trim();
  if (flat.length === 0) return "";
  return `: ${scrubOpenAiText(flat.slice(0, 200), apiKey)}`;
}
