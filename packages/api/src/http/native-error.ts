import {
  CodexImgError,
  ERROR_HTTP_STATUS,
  type ErrorCode,
  isCodexImgError,
  type Logger,
} from "@codex-img/core";
import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { z } from "zod";
import { holdBeyondBody } from "./request-door.js";

/** Our error body. `detail` repeats the message so scripts written for the predecessor (FastAPI's `{"detail": …}`) keep working. */
export interface NativeErrorBody {
  error: {
    code: ErrorCode;
    message: string;
    retry_after_ms?: number;
    param?: string;
    reason?: string;
  };
  detail: string;
}

/** Without a content length the body is read up to this many bytes unless the route says otherwise. */
export const DEFAULT_MAX_JSON_BYTES = 25 * 1024 * 1024;

/**
 * Any thrown value as our JSON error reply. Only `CodexImgError` messages reach the caller (they are written
 * for callers and already redacted); anything else is a bug and answers a bare 500 so that no stack, SQL text
 * or server path leaks. The original is logged with the request id so the owner can find it.
 */
export function nativeErrorResponse(c: Context, error: unknown): Response {
  const known = toKnownError(c, error);
  const { body, status, headers } = nativeErrorParts(known);
  for (const [name, value] of Object.entries(headers)) c.header(name, value);
  return c.json(body, status as ContentfulStatusCode);
}

/** Body, status and headers of an error reply, for routes that add fields of their own (the job id). */
export function nativeErrorParts(error: CodexImgError): {
  body: NativeErrorBody;
  status: number;
  headers: Record<string, string>;
} {
  const status = ERROR_HTTP_STATUS[error.code] ?? 500;
  const param = typeof error.details.param === "string" ? error.details.param : undefined;
  const reason = typeof error.details.reason === "string" ? error.details.reason : undefined;
  const body: NativeErrorBody = {
    error: {
      code: error.code,
      message: error.message,
      ...(error.retryAfterMs === undefined ? {} : { retry_after_ms: error.retryAfterMs }),
      ...(param === undefined ? {} : { param }),
      ...(reason === undefined ? {} : { reason }),
    },
    detail: error.message,
  };
  const headers: Record<string, string> = {};
  if (error.retryAfterMs !== undefined) {
    headers["Retry-After"] = String(Math.max(1, Math.ceil(error.retryAfterMs / 1000)));
  }
  if (error.code === "unauthorized") headers["WWW-Authenticate"] = 'Bearer realm="codex-img"';
  return { body, status, headers };
}

function toKnownError(c: Context, error: unknown): CodexImgError {
  if (isCodexImgError(error) && error.code !== "internal") return error;
  const requestId = (c.get("requestId") as string | undefined) ?? "";
  const logger = c.get("logger") as Logger | undefined;
  // The cause of an `internal` error may hold SQL or paths: it goes to the log, never to the caller.
  const fields = { requestId, method: c.req.method, path: c.req.path, error };
  if (logger) logger.error("request failed", fields);
  else
    console.error(JSON.stringify({ level: "error", msg: "request failed", requestId, error: String(error) }));
  return new CodexImgError("internal", "Internal error");
}

/**
 * Reads a JSON body and validates it. Every way a body can be wrong answers `invalid_request` with the
 * offending `param`: wrong content type, more than `maxBytes`, malformed JSON, or a schema failure (the path
 * of the first issue, e.g. `reference_images_base64.2`).
 */
export async function readJsonBody<S extends z.ZodType>(
  c: Context,
  schema: S,
  options: { maxBytes?: number } = {},
): Promise<z.infer<S>> {
  assertJsonContentType(c);
  return validateBody(schema, await readJsonValue(c, options.maxBytes ?? DEFAULT_MAX_JSON_BYTES));
}

/** JSON bodies must say so: `application/json` or a `+json` type. */
export function assertJsonContentType(c: Context): void {
  const type = c.req.header("content-type") ?? "";
  if (!/^application\/([a-z0-9.+-]*\+)?json\s*(;|$)/i.test(type.trim())) {
    throw invalid("body", "The request body must be JSON (Content-Type: application/json).");
  }
}

/** A parsed body checked against its schema; the first issue's path is the error's `param`. */
export function validateBody<S extends z.ZodType>(schema: S, value: unknown): z.infer<S> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const path = issue?.path.map(String).join(".") ?? "";
    const message = issue ? `${path || "body"}: ${issue.message}` : "The request body is not valid.";
    throw invalid(path || "body", message);
  }
  return parsed.data;
}

/**
 * The body parsed as JSON: read as bytes (at most `maxBytes`), refused at once when it cannot be a JSON
 * object or array (a flood of junk is never decoded to a string), then decoded once and parsed.
 */
export async function readJsonValue(c: Context, maxBytes: number): Promise<unknown> {
  const bytes = await readJsonBytes(c, maxBytes);
  const text = decodeUtf8(bytes, "body");
  try {
    return JSON.parse(text);
  } catch {
    throw invalid("body", "The request body is not valid JSON.");
  }
}

/**
 * The body's bytes, refused as not JSON as soon as its first byte that is not whitespace arrives and
 * cannot start a JSON object or array: a flood of junk is never read whole (nor decoded to a string).
 */
export async function readJsonBytes(c: Context, maxBytes: number): Promise<Uint8Array> {
  let started = false;
  return readBodyBytes(c, maxBytes, (chunk) => {
    if (started) return;
    const first = chunk.findIndex((byte) => byte !== 0x20 && byte !== 0x0a && byte !== 0x0d && byte !== 0x09);
    if (first === -1) return;
    started = true;
    if (chunk[first] !== 0x7b && chunk[first] !== 0x5b) {
      throw invalid("body", "The request body is not valid JSON.");
    }
  }).then((bytes) => {
    // Nothing but whitespace (or nothing at all) is not JSON either.
    if (!started) throw invalid("body", "The request body is not valid JSON.");
    return bytes;
  });
}

/**
 * Text the client sent (a body, a multipart field), decoded by the one UTF-8 rule of every route: invalid
 * bytes are refused 400 `invalid_request` naming `param`, never patched to U+FFFD.
 */
export function decodeUtf8(bytes: Uint8Array, param: string): string {
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw invalid(
      param,
      param === "body" ? "The request body is not valid UTF-8." : `The field ${param} is not valid UTF-8.`,
    );
  }
}

/**
 * The body as bytes, refusing more than `maxBytes` before reading it all (content length or streamed
 * count). With a content length the chunks are written into one buffer as they arrive (garbage at once)
 * instead of being held until a final copy: half the peak memory of a large upload.
 */
export async function readBodyBytes(
  c: Context,
  maxBytes: number,
  /** Sees each chunk as it arrives and may refuse the body by throwing; the rest is then not read. */
  check?: (chunk: Uint8Array) => void,
): Promise<Uint8Array> {
  const tooLarge = (): CodexImgError =>
    new CodexImgError("body_too_large", `The request body is larger than ${maxBytes} bytes.`, {
      details: { param: "body", limit: maxBytes },
    });
  const declared = Number(c.req.header("content-length") ?? Number.NaN);
  if (Number.isFinite(declared) && declared > maxBytes) throw tooLarge();
  const body = c.req.raw.body;
  if (!body) return new Uint8Array();
  const reader = body.getReader();
  // The copy sits beside the chunks it is made from (garbage only once collected): it counts too.
  const hold = async (bytes: number): Promise<void> => {
    try {
      holdBeyondBody(c, bytes);
    } catch (error) {
      await reader.cancel().catch(() => undefined);
      throw error;
    }
  };
  const initial = Number.isSafeInteger(declared) && declared >= 0 ? declared : 64 * 1024;
  await hold(initial);
  let buffer = new Uint8Array(initial);
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    if (total + value.length > maxBytes) {
      await reader.cancel().catch(() => undefined);
      throw tooLarge();
    }
    try {
      check?.(value);
    } catch (error) {
      await reader.cancel().catch(() => undefined);
      throw error;
    }
    if (total + value.length > buffer.length) {
      // No (or a wrong) content length: grow by doubling, bounded by maxBytes.
      const size = Math.min(maxBytes, Math.max(buffer.length * 2, total + value.length));
      await hold(size - buffer.length);
      const grown = new Uint8Array(size);
      grown.set(buffer.subarray(0, total));
      buffer = grown;
    }
    buffer.set(value, total);
    total += value.length;
  }
  return total === buffer.length ? buffer : buffer.subarray(0, total);
}

function invalid(param: string, message: string, extra: Record<string, unknown> = {}): CodexImgError {
  return new CodexImgError("invalid_request", message, { details: { param, ...extra } });
}
