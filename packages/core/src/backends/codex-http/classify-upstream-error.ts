import { CodexImgError, type ErrorCode, type ErrorDetails } from "../../errors.js";
import {
  finiteNumber as num,
  parseJsonText as parseJson,
  asRecord as rec,
  nonEmptyString as str,
} from "../../json-values.js";

/** One failure as upstream reported it: an HTTP error reply, an error inside the SSE stream, or a dead connection. */
export interface UpstreamFailure {
  /** HTTP status; undefined for errors inside an SSE stream or on the connection. */
  status?: number;
  headers?: Headers;
  /** Raw body of an HTTP error reply. */
  bodyText?: string;
  /** Payload of a `response.failed` (`response.error`) or bare `error` event. */
  streamError?: unknown;
  /** A network-level failure (connection reset, DNS, TLS). */
  networkError?: unknown;
  /** Account label, for `details.account`. */
  account?: string;
  now: number;
}

/** What the rules look at, extracted once from whichever shape upstream used. */
interface Facts {
  status: number | undefined;
  code: string | undefined;
  message: string | undefined;
  html: boolean;
  planType: string | undefined;
  /** Epoch ms. */
  resetsAt: number | undefined;
  retryAfterMs: number | undefined;
  network: boolean;
}

interface Rule {
  when: (f: Facts) => boolean;
  code: ErrorCode;
  /** True when the error belongs to the account (the runner moves on to another account). */
  accountFault: boolean;
  retryable?: boolean;
  message: (f: Facts) => string;
  retryAfterMs?: (f: Facts) => number | undefined;
}

const OVERLOAD_CODES = new Set(["server_is_overloaded", "slow_down", "server_error", "internal_error"]);
const QUOTA_CODES = new Set(["usage_limit_reached", "insufficient_quota"]);
const RATE_CODES = new Set(["rate_limit_exceeded", "rate_limited", "too_many_requests"]);

/**
 * The single table from upstream failures to codex-img errors (upstream.md §3). First match wins; the
 * order matters (a usage limit is a 429, but not every 429 is a usage limit).
 */
const RULES: Rule[] = [
  {
    when: (f) => f.html && (f.status === 403 || f.status === 503 || f.status === undefined),
    code: "upstream_blocked",
    accountFault: false,
    message: (f) =>
      `The ChatGPT backend's Cloudflare front answered ${f.status ?? ""} with an HTML block page (${f.message ?? "Attention Required"}); client headers are probably missing. Not retried.`,
  },
  {
    when: (f) => f.code !== undefined && QUOTA_CODES.has(f.code),
    code: "quota_exhausted",
    accountFault: true,
    message: (f) =>
      `Usage limit reached${f.planType ? ` (plan ${f.planType})` : ""}${
        f.resetsAt === undefined ? "" : `; resets at ${new Date(f.resetsAt).toISOString()}`
      }: ${f.message ?? f.code}`,
    retryAfterMs: (f) => f.retryAfterMs,
  },
  {
    when: (f) => f.code === "usage_not_included",
    code: "plan_not_supported",
    accountFault: true,
    message: (f) =>
      `This account's ChatGPT plan${f.planType ? ` (${f.planType})` : ""} does not include image generation: ${f.message ?? f.code}`,
  },
  {
    when: (f) => f.status === 429 || (f.code !== undefined && RATE_CODES.has(f.code)),
    code: "rate_limited",
    accountFault: true,
    message: (f) => `Upstream is throttling this account: ${f.message ?? f.code ?? "429 Too Many Requests"}`,
    retryAfterMs: (f) => f.retryAfterMs,
  },
  {
    when: (f) => f.status === 401,
    code: "login_required",
    accountFault: true,
    message: (f) =>
      `Upstream rejected the access token even after a refresh; run \`codex login\` again for this account (${f.message ?? "401 Unauthorized"}).`,
  },
  {
    when: (f) =>
      (f.status !== undefined && f.status >= 500) || (f.code !== undefined && OVERLOAD_CODES.has(f.code)),
    code: "upstream_failed",
    accountFault: true,
    retryable: true,
    message: (f) =>
      `Upstream failed${f.status ? ` with ${f.status}` : ""}: ${f.message ?? f.code ?? "server error"}`,
    retryAfterMs: (f) => f.retryAfterMs,
  },
  {
    when: (f) => f.network,
    code: "upstream_failed",
    accountFault: true,
    retryable: true,
    message: (f) => `Connection to upstream failed: ${f.message ?? "connection reset"}`,
  },
  {
    when: (f) => f.status === 403,
    code: "upstream_refused",
    accountFault: true,
    // Another account may be allowed where this one is not.
    retryable: true,
    message: (f) => f.message ?? "403 Forbidden",
  },
  {
    when: (f) => f.status === 404 || f.status === 405,
    code: "upstream_failed",
    accountFault: true,
    retryable: true,
    message: (f) => `Upstream route not available for this account (${f.status}): ${f.message ?? ""}`.trim(),
  },
  {
    when: (f) => f.status !== undefined && f.status >= 400 && f.status < 500,
    code: "upstream_refused",
    accountFault: false,
    message: (f) => f.message ?? `Upstream refused the request (${f.status})`,
  },
  {
    when: () => true,
    code: "upstream_failed",
    accountFault: true,
    retryable: true,
    message: (f) => `Upstream reported an error: ${f.message ?? f.code ?? "unknown"}`,
  },
];

/** Classifies one upstream failure; every field of `details` the runner relies on is set here. */
export function classifyUpstreamError(failure: UpstreamFailure): CodexImgError {
  const facts = extractFacts(failure);
  const rule = RULES.find((r) => r.when(facts)) as Rule;
  const details: ErrorDetails = {
    accountFault: rule.accountFault,
    ...(facts.status === undefined ? {} : { upstreamStatus: facts.status }),
    ...(facts.code === undefined ? {} : { upstreamCode: facts.code }),
    ...(failure.account === undefined ? {} : { account: failure.account }),
    ...(facts.resetsAt === undefined ? {} : { resetsAt: facts.resetsAt }),
    ...(facts.planType === undefined ? {} : { planType: facts.planType }),
  };
  const retryAfterMs = rule.retryAfterMs?.(facts);
  return new CodexImgError(rule.code, rule.message(facts), {
    ...(rule.retryable === undefined ? {} : { retryable: rule.retryable }),
    ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
    details,
    ...(failure.networkError === undefined ? {} : { cause: failure.networkError }),
  });
}

function extractFacts(failure: UpstreamFailure): Facts {
  const body = failure.bodyText ?? "";
  const contentType = failure.headers?.get("content-type") ?? "";
  const html = contentType.includes("text/html") || /^\s*<(!doctype|html)/i.test(body);
  const json = html ? undefined : parseJson(body);
  const error = pickErrorObject(failure.streamError ?? json);

  let code = str(error?.code) ?? str(error?.type);
  // `type` is sometimes a generic category; prefer the specific one.
  if (code === "invalid_request_error") code = str(error?.code) ?? code;
  // A bare `error` event names itself in `type`; that is not an upstream code.
  if (code === "error") code = undefined;
  let message = str(error?.message) ?? str(error?.detail);
  if (html) message = htmlTitle(body);
  else if (message === undefined && typeof json === "string") message = json;
  else if (message === undefined && body.trim() !== "" && json === undefined)
    message = body.trim().slice(0, 500);

  const resetsAtSeconds = num(error?.resets_at);
  const resetsInSeconds = num(error?.resets_in_seconds);
  const resetsAt =
    resetsAtSeconds !== undefined
      ? resetsAtSeconds * 1000
      : resetsInSeconds !== undefined
        ? failure.now + resetsInSeconds * 1000
        : undefined;

  const retryAfterMs =
    resetsAt !== undefined
      ? Math.max(0, resetsAt - failure.now)
      : (parseRetryAfter(failure.headers?.get("retry-after") ?? null, failure.now) ??
        parseTryAgainIn(message));

  const networkMessage =
    failure.networkError === undefined ? undefined : describeNetworkError(failure.networkError);

  return {
    status: failure.status,
    code,
    message: message ?? networkMessage,
    html,
    planType: str(error?.plan_type),
    resetsAt,
    retryAfterMs,
    network: failure.networkError !== undefined,
  };
}

/** Finds `{code|type, message, …}` in the shapes seen: `{error:{…}}`, `{detail:{…}|"…"}`, `{response:{error}}`, or bare. */
function pickErrorObject(value: unknown): Record<string, unknown> | undefined {
  const record = rec(value);
  if (!record) return undefined;
  const nested = rec(record.error) ?? rec(rec(record.response)?.error);
  if (nested) return nested;
  const detail = record.detail;
  if (rec(detail)) return rec(detail);
  if (typeof detail === "string") return { ...record, detail };
  return record;
}

function htmlTitle(body: string): string {
  const title = /<title>([^<]*)<\/title>/i.exec(body)?.[1]?.trim();
  const ray = /error code:?\s*(\d{3,4})/i.exec(body)?.[1];
  return [title ?? "HTML page", ray ? `error ${ray}` : undefined].filter(Boolean).join(", ");
}

/** `Retry-After` as seconds or an HTTP date. */
function parseRetryAfter(value: string | null, now: number): number | undefined {
  if (value === null || value.trim() === "") return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** "Please try again in 1.5s" / "try again in 20ms" / "try again in 3 seconds". */
function parseTryAgainIn(message: string | undefined): number | undefined {
  const match =
    message && /try again in\s+([\d.]+)\s*(ms|milliseconds?|s|sec|seconds?|m|min|minutes?)\b/i.exec(message);
  if (!match) return undefined;
  const value = Number(match[1]);
  if (!Number.isFinite(value)) return undefined;
  const unit = (match[2] ?? "s").toLowerCase();
  if (unit.startsWith("ms") || unit.startsWith("milli")) return value;
  if (unit.startsWith("m")) return value * 60_000;
  return value * 1000;
}

function describeNetworkError(error: unknown): string {
  // Only a machine-readable code: the runtimes' own messages carry hints for developers ("pass
  // `verbose: true` to fetch()"), local addresses and paths that a caller must never see.
  const codeOf = (value: unknown): string | undefined => {
    const code = (value as { code?: unknown } | undefined)?.code;
    return typeof code === "string" && /^[A-Za-z0-9_]{2,40}$/.test(code) ? code : undefined;
  };
  const cause = (error as { cause?: unknown } | undefined)?.cause;
  const code = codeOf(error) ?? codeOf(cause);
  return code ? `connection error ${code}` : "connection reset";
}
