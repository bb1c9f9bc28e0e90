import { CodexImgError } from "../../errors.js";
import { redactSecrets } from "../../redact.js";
import type { CliEvents } from "./parse-cli-events.js";
import { parseTryAgainAt } from "./parse-reset-time.js";

export interface CliRunOutcome {
  stdout: string;
  stderr: string;
  exitCode: number | null;
  signal: string | null;
  events: CliEvents;
  /** Account label for error details. */
  account?: string;
  now: number;
}

/** An image-route failure the CLI logged on stderr (it still exits 0). */
export interface ImageRouteFailure {
  status: number;
  statusText: string;
  /** The response body as the CLI quoted it (Rust debug string, unescaped). */
  body: string;
}

/**
 * Explains a run that produced no image, from what the CLI printed. Image-route failures reach only
 * stderr (`ERROR … image generation failed: http 429 …: Some("{…}")`) and the exit code stays 0, so the
 * text is the truth, not the exit code. Falls back to `upstream_failed` "model returned no image".
 */
export function detectCliFailure(outcome: CliRunOutcome): CodexImgError {
  const base = { ...(outcome.account ? { account: outcome.account } : {}) };
  const imageFailure = findImageRouteFailure(outcome.stderr);
  if (imageFailure) return imageRouteError(imageFailure, outcome.now, base);

  const texts = [...outcome.events.errors, outcome.stderr];
  for (const text of texts) {
    if (!/hit your usage limit/i.test(text)) continue;
    const resetsAt = parseTryAgainAt(text, outcome.now);
    return new CodexImgError(
      "quota_exhausted",
      `Codex usage limit reached: ${firstLine(text, /hit your usage limit/i)}`,
      {
        ...(resetsAt === undefined ? {} : { retryAfterMs: Math.max(0, resetsAt - outcome.now) }),
        details: {
          ...base,
          upstreamCode: "usage_limit_reached",
          ...(resetsAt === undefined ? {} : { resetsAt }),
          accountFault: true,
          exitCode: outcome.exitCode,
        },
      },
    );
  }

  const message = outcome.events.errors.at(-1) ?? lastErrorLine(outcome.stderr);
  const tail = stderrTail(outcome.stderr);
  if (message && /log ?in again|codex login|refresh token|not logged in|401 Unauthorized/i.test(message)) {
    return new CodexImgError("login_required", `The Codex login was rejected: ${message}`, {
      details: { ...base, accountFault: true, exitCode: outcome.exitCode, stderrTail: tail },
    });
  }
  if (outcome.exitCode !== 0 || outcome.signal !== null) {
    const how = outcome.signal ? `was killed by ${outcome.signal}` : `exited with code ${outcome.exitCode}`;
    return new CodexImgError("upstream_failed", `codex exec ${how}${message ? `: ${message}` : ""}`, {
      details: { ...base, exitCode: outcome.exitCode, stderrTail: tail },
    });
  }
  return new CodexImgError("upstream_failed", "codex exec finished but the model returned no image", {
    details: {
      ...base,
      exitCode: outcome.exitCode,
      stderrTail: tail,
      ...(outcome.events.lastMessage
        ? { lastMessage: redactSecrets(outcome.events.lastMessage.slice(0, 2000)) }
        : {}),
    },
  });
}

/** The last `image generation failed: http …` line of stderr, if any. */
export function findImageRouteFailure(stderr: string): ImageRouteFailure | undefined {
  const pattern =
    /image generation failed: http (\d{3})(?: ([^:\n]*))?: (?:Some\("((?:[^"\\\n]|\\.)*)"\)|None)/g;
  let last: ImageRouteFailure | undefined;
  for (const match of stderr.matchAll(pattern)) {
    last = { status: Number(match[1]), statusText: match[2] ?? "", body: unescapeRustDebug(match[3] ?? "") };
  }
  return last;
}

function imageRouteError(
  failure: ImageRouteFailure,
  now: number,
  base: Record<string, unknown>,
): CodexImgError {
  const parsed = parseJsonObject(failure.body);
  const error = (parsed?.error ?? parsed) as Record<string, unknown> | undefined;
  const code = stringField(error, "type") ?? stringField(error, "code");
  const upstreamMessage = stringField(error, "message") ?? stringField(parsed, "detail") ?? failure.body;
  const details = {
    ...base,
    upstreamStatus: failure.status,
    ...(code ? { upstreamCode: code } : {}),
    exitCode: 0,
  };
  if (code === "usage_limit_reached" || (failure.status === 429 && typeof error?.resets_at === "number")) {
    const resetsAt = resetTime(error, now);
    const planType = stringField(error, "plan_type");
    return new CodexImgError("quota_exhausted", `Codex usage limit reached: ${upstreamMessage}`, {
      ...(resetsAt === undefined ? {} : { retryAfterMs: Math.max(0, resetsAt - now) }),
      details: {
        ...details,
        ...(resetsAt === undefined ? {} : { resetsAt }),
        ...(planType ? { planType } : {}),
        accountFault: true,
      },
    });
  }
  if (code === "usage_not_included") {
    return new CodexImgError(
      "plan_not_supported",
      `This ChatGPT plan does not include image generation: ${upstreamMessage}`,
      {
        details: { ...details, accountFault: true },
      },
    );
  }
  if (failure.status === 429) {
    return new CodexImgError("rate_limited", `The image route is throttling: ${upstreamMessage}`, {
      details,
    });
  }
  if (failure.status === 401) {
    // The CLI does not refresh the token for the image route, so a 401 here means the login is bad.
    return new CodexImgError(
      "login_required",
      `The image route rejected the Codex login (401): ${upstreamMessage}`,
      {
        details: { ...details, accountFault: true },
      },
    );
  }
  if (failure.status === 403 && /<html|Attention Required|cloudflare/i.test(failure.body)) {
    return new CodexImgError("upstream_blocked", "The image route answered a Cloudflare block page (403)", {
      details,
    });
  }
  if (failure.status >= 400 && failure.status < 500) {
    return new CodexImgError("upstream_refused", upstreamMessage, { details });
  }
  return new CodexImgError(
    "upstream_failed",
    `The image route failed (${failure.status}): ${upstreamMessage}`,
    {
      details,
    },
  );
}

function resetTime(error: Record<string, unknown> | undefined, now: number): number | undefined {
  const at = error?.resets_at;
  if (typeof at === "number" && Number.isFinite(at)) return at * 1000;
  const inSeconds = error?.resets_in_seconds;
  if (typeof inSeconds === "number" && Number.isFinite(inSeconds)) return now + inSeconds * 1000;
  return undefined;
}

/** Rust's `{:?}` of a string: JSON-like escapes plus `\u{…}` and `\'`. */
export function unescapeRustDebug(text: string): string {
  const jsonish = text
    .replace(/\\u\{([0-9a-fA-F]{1,6})\}/g, (_m, hex: string) =>
      JSON.stringify(String.fromCodePoint(Number.parseInt(hex, 16))).slice(1, -1),
    )
    .replace(/\\'/g, "'")
    .replace(/\\0/g, "\\u0000");
  try {
    return JSON.parse(`"${jsonish}"`) as string;
  } catch {
    return text;
  }
}

function parseJsonObject(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === "object" && value !== null ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

function stringField(object: Record<string, unknown> | undefined, key: string): string | undefined {
  const value = object?.[key];
  return typeof value === "string" && value.length > 0 ? value : undefined;
}

function firstLine(text: string, pattern: RegExp): string {
  const line = text.split("\n").find((l) => pattern.test(l)) ?? text;
  return line.replace(/^.*?ERROR:?\s*/, "").trim();
}

function lastErrorLine(stderr: string): string | undefined {
  const lines = stderr
    .split("\n")
    .filter((l) => /\bERROR\b/.test(l) && !/rmcp::|responses_websocket/.test(l));
  const line = lines.at(-1);
  return line === undefined ? undefined : line.replace(/^.*?ERROR:?\s*/, "").trim();
}

/** The last few lines of stderr, redacted, for error details. */
export function stderrTail(stderr: string, maxChars = 2000): string {
  return redactSecrets(stderr.length > maxChars ? stderr.slice(-maxChars) : stderr);
}

/** Adds what the owner needs to trace a failed run to its error (account, thread, exit code, stderr tail). */
export function withRunDetails(
  failure: CodexImgError,
  run: { account: string | undefined; threadId: string | undefined; exitCode: number | null; stderr: string },
): CodexImgError {
  Object.assign(failure.details, {
    ...(run.account ? { account: run.account } : {}),
    ...(run.threadId ? { threadId: run.threadId } : {}),
    exitCode: run.exitCode,
    stderrTail: stderrTail(run.stderr),
  });
  return failure;
}
