import type { Clock } from "../../clock.js";
import { CodexImgError, isCodexImgError } from "../../errors.js";
import { IMAGE_MIME_TYPES, jsonWithBase64 } from "../../image/index.js";
import type { Logger } from "../../logger.js";
import type { NormalizedImageRequest } from "../../request.js";
import type {
  BackendEvent,
  CodexCredentials,
  CredentialProvider,
  ImageRequest,
  ImageSink,
  QuotaSnapshot,
} from "../../types.js";
import type { BodyLanes } from "./body-lanes.js";
import { type CallTimer, startCallTimer } from "./call-timer.js";
import { classifyUpstreamError } from "./classify-upstream-error.js";
import {
  buildResponsesHeaders,
  type CodexClientIdentity,
  type CodexResponsesTurn,
  newCodexTurn,
  type OrderedHeaders,
  responsesClientMetadata,
} from "./codex-headers.js";
import { CODEX_PATHS } from "./constants.js";
import type { Lanes } from "./lanes.js";
import { parseQuotaHeaders } from "./quota-snapshot.js";
import { readTimedText } from "./timed-body.js";
import type { UpstreamReference } from "./upstream-references.js";
import { zstdRawFrame } from "./zstd-raw-frame.js";

/** The two upstream paths: `/images/*` (native) and `/responses` with the hosted image tool. */
export type CodexHttpRoute = "native" | "responses";

/** A backend's options with their defaults applied: what every upstream call reads. */
export interface BackendSettings {
  baseUrl: string;
  clock: Clock;
  logger: Logger;
  idleTimeoutMs: number;
  totalTimeoutMs: number;
  carrierModel: string;
  instructions: string;
  fetch: typeof fetch;
  client: CodexClientIdentity;
  installationId: string;
  partialImages?: number;
  /** The native route's replies are read in turn (`replyReadsAtOnce`). */
  replyLanes: Lanes;
  /** Streamed request bodies are sent in turn (see `createBodyLanes`). */
  bodyLanes: BodyLanes;
}

/** One call's account and event sink: what every upstream call needs. */
export interface AccountContext {
  label: string;
  credentials: CredentialProvider;
  signal: AbortSignal | undefined;
  emit: (event: BackendEvent) => void;
}

export interface CallContext extends AccountContext {
  request: ImageRequest;
  normalized: NormalizedImageRequest;
  /** Where the images are written while they arrive. */
  sink: ImageSink;
  /** The request's references, in memory or in the store, opened when the body is sent. */
  references: UpstreamReference[];
}

export interface CallSpec {
  route: CodexHttpRoute;
  path: string;
  callId: string;
  headers: OrderedHeaders;
  /** Whole, or a stream of a known length (sent with that `content-length`, after the headers above). */
  body: string | Uint8Array<ArrayBuffer> | { stream: ReadableStream<Uint8Array>; length: number };
}

/**
 * A `POST {base}/responses` turn as the CLI sends it: a fresh thread, its headers, and the body that
 * `bodyFor` builds for that thread, zstd-framed. The references' data URLs (`dataUrl` in `bodyFor`) are
 * streamed in from their sources while the body is sent, so the turn is never held whole.
 */
export async function responsesSpec(
  settings: BackendSettings,
  creds: CodexCredentials,
  model: string,
  bodyFor: (
    threadId: string,
    clientMetadata: Record<string, string>,
    dataUrl: (reference: UpstreamReference) => string,
  ) => Record<string, unknown>,
): Promise<CallSpec> {
  const turnInput: CodexResponsesTurn = {
    credentials: creds,
    client: settings.client,
    turn: newCodexTurn(settings.clock.now()),
    model,
    installationId: settings.installationId,
  };
  const callId = turnInput.turn.threadId;
  const json = await jsonWithBase64(
    (base64Of: (reference: UpstreamReference) => string) =>
      bodyFor(
        callId,
        responsesClientMetadata(turnInput),
        (reference) => `data:${IMAGE_MIME_TYPES[reference.format]};base64,${base64Of(reference)}`,
      ),
    (reference) => reference.open(),
  );
  return {
    route: "responses",
    path: CODEX_PATHS.responses,
    callId,
    headers: buildResponsesHeaders(turnInput),
    body: zstdRawFrame(json.body, json.length),
  };
}

/** One HTTP call under the timeouts: quota headers on every reply, errors classified in one place. */
export async function runUpstreamCall<T>(
  settings: BackendSettings,
  ctx: AccountContext,
  spec: CallSpec,
  onOk: (response: Response, timer: CallTimer, quota: QuotaSnapshot | undefined) => Promise<T>,
): Promise<T> {
  const timer = startCallTimer({
    clock: settings.clock,
    idleTimeoutMs: settings.idleTimeoutMs,
    totalTimeoutMs: settings.totalTimeoutMs,
    ...(ctx.signal ? { signal: ctx.signal } : {}),
  });
  let quota: QuotaSnapshot | undefined;
  try {
    ctx.emit({ type: "route", route: spec.route });
    ctx.emit({ type: "progress", stage: "sent" });
    settings.logger.debug("codex-http: request", {
      account: ctx.label,
      route: spec.route,
      path: spec.path,
      callId: spec.callId,
    });
    const response = await timer.race(
      settings.fetch(`${settings.baseUrl}${spec.path}`, requestInit(spec, timer.signal, settings.bodyLanes)),
    );
    timer.touch();
    quota = parseQuotaHeaders(response.headers, settings.clock.now());
    if (quota) ctx.emit({ type: "quota", snapshot: quota });
    if (!response.ok) {
      const bodyText = await readTimedText(response.body, timer);
      const error = classifyUpstreamError({
        status: response.status,
        headers: response.headers,
        bodyText,
        account: ctx.label,
        now: settings.clock.now(),
      });
      if (spec.route === "native" && (response.status === 404 || response.status === 405))
        error.details.routeMissing = true;
      if (quota) error.details.quota = quota;
      settings.logger.debug("codex-http: upstream error", {
        account: ctx.label,
        route: spec.route,
        status: response.status,
        code: error.code,
        upstreamCode: error.details.upstreamCode,
      });
      throw error;
    }
    return await onOk(response, timer, quota);
  } catch (error) {
    throw toCallError(settings, error, timer, ctx.label, quota);
  } finally {
    timer.dispose();
    // A streamed body not sent (the call failed first) still holds its sources open: release them.
    if (typeof spec.body === "object" && !(spec.body instanceof Uint8Array) && !spec.body.stream.locked) {
      await spec.body.stream.cancel().catch(() => undefined);
    }
  }
}

/**
 * The fetch options of a call. A streamed body goes with its `content-length` as the last given header
 * (`createExactFetch` writes it after `host`, where the CLI's client has it) and `duplex: "half"`, which
 * the fetch standard requires for a stream.
 */
function requestInit(spec: CallSpec, signal: AbortSignal, bodyLanes: BodyLanes): RequestInit {
  const { body } = spec;
  if (typeof body === "string" || body instanceof Uint8Array) {
    return { method: "POST", headers: spec.headers, body, signal };
  }
  return {
    method: "POST",
    headers: [...spec.headers, ["content-length", String(body.length)]],
    body: bodyLanes.inTurn(body.stream),
    signal,
    duplex: "half",
  } as RequestInit;
}

function toCallError(
  settings: BackendSettings,
  error: unknown,
  timer: CallTimer,
  label: string,
  quota: QuotaSnapshot | undefined,
): CodexImgError {
  if (isCodexImgError(error)) return error;
  const stop = timer.stopReason;
  if (stop === "canceled") return canceledError(label, error);
  if (stop === "idle" || stop === "total") {
    return new CodexImgError("upstream_timeout", describeStop(settings, timer, error), {
      cause: error,
      details: { account: label, accountFault: true, timeout: stop, ...(quota ? { quota } : {}) },
    });
  }
  const classified = classifyUpstreamError({
    networkError: error,
    account: label,
    now: settings.clock.now(),
  });
  if (quota) classified.details.quota = quota;
  return classified;
}

export function describeStop(settings: BackendSettings, timer: CallTimer, error: unknown): string {
  if (timer.stopReason === "idle")
    return `Upstream sent nothing for ${settings.idleTimeoutMs / 1000} s (idle timeout).`;
  if (timer.stopReason === "total")
    return `Upstream did not finish within ${settings.totalTimeoutMs / 1000} s (total timeout).`;
  if (timer.stopReason === "canceled") return "The request was canceled.";
  return `stream cut (${errorMessage(error)})`;
}

export function canceledError(label: string, cause?: unknown): CodexImgError {
  return new CodexImgError("canceled", "The request was canceled.", {
    ...(cause === undefined ? {} : { cause }),
    details: { account: label, accountFault: false },
  });
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
