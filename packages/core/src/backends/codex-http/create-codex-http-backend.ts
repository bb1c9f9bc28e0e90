import { type Clock, systemClock } from "../../clock.js";
import { CodexImgError, isCodexImgError } from "../../errors.js";
import {
  base64SourceOf,
  fromDataUrlOrBase64,
  IMAGE_MIME_TYPES,
  jsonWithBase64,
  jsonWithBase64Bytes,
  sniffImage,
} from "../../image/index.js";
import { type Logger, silentLogger } from "../../logger.js";
import { type NormalizedImageRequest, normalizeImageRequest, normalizeVisionRequest } from "../../request.js";
import { createMemoryImageStore } from "../../storage/memory-image-store.js";
import { storeImages } from "../../storage/store-images.js";
import type {
  BackendEvent,
  BackendResult,
  CodexCredentials,
  CredentialProvider,
  GeneratedImage,
  GenerateOptions,
  ImageBackend,
  ImageRequest,
  ImageSink,
  QuotaSnapshot,
  StoredBackendResult,
  StoredGeneratedImage,
  VisionRequest,
  VisionResult,
} from "../../types.js";
import { type CallTimer, startCallTimer } from "./call-timer.js";
import { classifyUpstreamError } from "./classify-upstream-error.js";
import {
  buildNativeImageHeaders,
  buildResponsesHeaders,
  type CodexClientIdentity,
  type CodexResponsesTurn,
  DEFAULT_CODEX_CLIENT,
  newCodexTurn,
  type OrderedHeaders,
  responsesClientMetadata,
} from "./codex-headers.js";
import {
  CODEX_DEFAULT_BASE_URL,
  CODEX_DEFAULT_CARRIER_MODEL,
  CODEX_DEFAULT_IDLE_TIMEOUT_MS,
  CODEX_DEFAULT_INSTRUCTIONS,
  CODEX_DEFAULT_TOTAL_TIMEOUT_MS,
  CODEX_DEFAULT_VISION_INSTRUCTIONS,
  CODEX_HEADERS,
  CODEX_MAX_REPLY_BYTES,
  CODEX_PATHS,
} from "./constants.js";
import { buildNativeImageBody } from "./native-route.js";
import { parseQuotaHeaders } from "./quota-snapshot.js";
import { readNativeReply } from "./read-native-reply.js";
import { buildResponsesBody } from "./responses-route.js";
import { answerText, collectResponsesStream, type StreamImageItem } from "./responses-stream.js";
import { readSseEvents } from "./sse-parser.js";
import { readTimedText, timedChunks } from "./timed-body.js";
import { buildVisionBody } from "./vision-route.js";
import { zstdRawFrame } from "./zstd-raw-frame.js";

/** The two upstream paths: `/images/*` (native) and `/responses` with the hosted image tool. */
export type CodexHttpRoute = "native" | "responses";

export interface CodexHttpBackendOptions {
  /** Default `https://chatgpt.com/backend-api/codex`. */
  baseUrl?: string;
  /**
   * Who the requests say they come from: the impersonated CLI version (default `CODEX_CLI_VERSION`) and
   * the OS facts of the User-Agent (core reads none itself; `detectCodexOsInfo()` from the node helpers).
   */
  client?: Partial<CodexClientIdentity>;
  /** `installation_id` of the `/responses` turn metadata. Default a random UUID per backend. */
  installationId?: string;
  /** Chat model carrying the hosted tool on the Responses route. Default `gpt-5.5`. */
  carrierModel?: string;
  /** Instructions for the carrier on the Responses route (must be non-empty). */
  instructions?: string;
  /** Longest silence between bytes, before and after the reply headers. Default 120,000 ms. */
  idleTimeoutMs?: number;
  /** Longest whole call. Default 300,000 ms. */
  totalTimeoutMs?: number;
  /** Default the system clock; tests pass a `ManualClock`. */
  clock?: Clock;
  /**
   * Default the global `fetch`, which adds headers of its own (`accept-encoding`, `connection`, …) and
   * may reorder them; `createExactFetch()` from the node helpers sends the CLI's headers exactly.
   */
  fetch?: typeof fetch;
  logger?: Logger;
  /** Partial images to ask for on the Responses route (0-3). Default 0. */
  partialImages?: number;
  /** Route for accounts not seen yet. Default `native` (falls back to `responses` on 404/405). */
  initialRoute?: CodexHttpRoute;
}

export interface CodexHttpBackend extends ImageBackend {
  readonly kind: "codex-http";
  generateInto(
    request: ImageRequest,
    sink: ImageSink,
    options?: GenerateOptions,
  ): Promise<StoredBackendResult>;
  describe(request: VisionRequest, options?: GenerateOptions): Promise<VisionResult>;
  /** The route remembered for an account label; undefined until the account made a call. */
  rememberedRoute(accountLabel: string): CodexHttpRoute | undefined;
}

/** One call's account and event sink: what every upstream call needs. */
interface AccountContext {
  label: string;
  credentials: CredentialProvider;
  signal: AbortSignal | undefined;
  emit: (event: BackendEvent) => void;
}

interface CallContext extends AccountContext {
  request: ImageRequest;
  normalized: NormalizedImageRequest;
  /** Where the images are written while they arrive. */
  sink: ImageSink;
}

interface CallSpec {
  route: CodexHttpRoute;
  path: string;
  callId: string;
  headers: OrderedHeaders;
  body: string | Uint8Array<ArrayBuffer>;
}

/**
 * The ChatGPT Codex backend over HTTP (upstream.md §2). The native `/images/*` route is tried first;
 * on 404/405 the account falls back to `/responses` with the hosted image tool, and the route that
 * worked is remembered per account label. With `n > 1` the native route sends `n`; the Responses route
 * makes one image per call and the runner calls again for the rest.
 */
export function createCodexHttpBackend(options: CodexHttpBackendOptions = {}): CodexHttpBackend {
  const baseUrl = (options.baseUrl ?? CODEX_DEFAULT_BASE_URL).replace(/\/+$/, "");
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? silentLogger;
  const idleTimeoutMs = options.idleTimeoutMs ?? CODEX_DEFAULT_IDLE_TIMEOUT_MS;
  const totalTimeoutMs = options.totalTimeoutMs ?? CODEX_DEFAULT_TOTAL_TIMEOUT_MS;
  const carrierModel = options.carrierModel ?? CODEX_DEFAULT_CARRIER_MODEL;
  const instructions = options.instructions?.trim() ? options.instructions : CODEX_DEFAULT_INSTRUCTIONS;
  const doFetch: typeof fetch = (input, init) => (options.fetch ?? globalThis.fetch)(input, init);
  const routes = new Map<string, CodexHttpRoute>();
  const client: CodexClientIdentity = { ...DEFAULT_CODEX_CLIENT, ...options.client };
  const installationId = options.installationId ?? crypto.randomUUID();

  /** The account's login and event sink for one call; refuses an account without a login. */
  function accountContext(generateOptions: GenerateOptions): AccountContext {
    const label = generateOptions.account?.label ?? "default";
    const emit = (event: BackendEvent): void => {
      try {
        generateOptions.onEvent?.(event);
      } catch (error) {
        logger.warn("codex-http: onEvent handler threw", { error, account: label });
      }
    };
    const credentials = generateOptions.account?.credentials;
    if (!credentials) {
      throw new CodexImgError(
        "login_required",
        `Account "${label}" has no ChatGPT login; run \`codex login\` with a ChatGPT account.`,
        { details: { account: label, accountFault: true } },
      );
    }
    if (generateOptions.signal?.aborted) throw canceledError(label);
    return { label, credentials, signal: generateOptions.signal, emit };
  }

  /** Library use: the images are written into a store in memory and handed back as bytes. */
  async function generate(
    request: ImageRequest,
    generateOptions: GenerateOptions = {},
  ): Promise<BackendResult> {
    const memory = createMemoryImageStore();
    const result = await generateInto(request, memory, generateOptions);
    const images: GeneratedImage[] = [];
    for (const { stored, ...image } of result.images) {
      const bytes = await memory.get(stored.key);
      if (bytes) images.push({ ...image, bytes });
    }
    return { ...result, images };
  }

  async function generateInto(
    request: ImageRequest,
    sink: ImageSink,
    generateOptions: GenerateOptions = {},
  ): Promise<StoredBackendResult> {
    const normalized = normalizeImageRequest(request);
    const ctx: CallContext = { ...accountContext(generateOptions), request, normalized, sink };
    const { label, emit } = ctx;

    if ((routes.get(label) ?? options.initialRoute ?? "native") === "native") {
      try {
        const result = await withUnauthorizedRecovery(ctx, (creds) => callNative(ctx, creds));
        routes.set(label, "native");
        return result;
      } catch (error) {
        if (!(isCodexImgError(error) && error.details.routeMissing === true)) throw error;
        const reason = `native image route answered ${error.details.upstreamStatus}`;
        routes.set(label, "responses");
        logger.info("codex-http: falling back to the responses route", { account: label, reason });
        emit({ type: "route", route: "responses", reason });
      }
    }
    const result = await withUnauthorizedRecovery(ctx, (creds) => callResponses(ctx, creds));
    routes.set(label, "responses");
    return result;
  }

  /**
   * A question about images (upstream.md Appendix B): `/responses` with `input_image` parts and a text
   * model, no tool. The answer is the model's text; none at all is `upstream_failed` (never an empty 200).
   */
  async function describe(
    request: VisionRequest,
    generateOptions: GenerateOptions = {},
  ): Promise<VisionResult> {
    const normalized = normalizeVisionRequest(request);
    const ctx = accountContext(generateOptions);
    const model = normalized.model ?? carrierModel;
    return withUnauthorizedRecovery(ctx, (creds) => {
      const spec = responsesSpec(creds, model, (threadId, clientMetadata) =>
        buildVisionBody(normalized, {
          model,
          instructions: CODEX_DEFAULT_VISION_INSTRUCTIONS,
          threadId,
          clientMetadata,
        }),
      );
      return runCall(ctx, spec, async (response, timer, headerQuota) => {
        const outcome = await collectResponsesStream(readSseEvents(timedChunks(response.body, timer)), {
          now: () => clock.now(),
          onProgress: (stage) => ctx.emit({ type: "progress", stage }),
          onQuota: (snapshot) => ctx.emit({ type: "quota", snapshot }),
          classify: (payload) =>
            classifyUpstreamError({ streamError: payload, account: ctx.label, now: clock.now() }),
        });
        if (outcome.interruption !== undefined) {
          if (timer.stopReason !== undefined) throw outcome.interruption;
          throw new CodexImgError(
            "upstream_failed",
            `The stream was cut before the answer was complete (${errorMessage(outcome.interruption)}).`,
            {
              cause: outcome.interruption,
              details: { account: ctx.label, accountFault: true, upstreamStatus: response.status },
            },
          );
        }
        const text = answerText(outcome);
        if (!text) {
          throw new CodexImgError("upstream_failed", "Upstream gave no answer about the images.", {
            retryable: false,
            details: {
              account: ctx.label,
              accountFault: false,
              upstreamStatus: response.status,
              empty: true,
            },
          });
        }
        const quota = outcome.quota ?? headerQuota;
        return {
          text,
          backend: "codex-http",
          route: "responses",
          upstreamIds: {
            session_id: spec.callId,
            ...(outcome.responseId ? { response_id: outcome.responseId } : {}),
          },
          ...(quota ? { quota } : {}),
        };
      });
    });
  }

  /** 401 → ask the credentials once for a recovered token and retry once (upstream.md §1). */
  async function withUnauthorizedRecovery<T>(
    ctx: AccountContext,
    call: (creds: CodexCredentials) => Promise<T>,
  ): Promise<T> {
    const creds = await getCredentials(ctx, (signal) => ctx.credentials.get(signal));
    try {
      return await call(creds);
    } catch (error) {
      if (!(isCodexImgError(error, "login_required") && error.details.upstreamStatus === 401)) throw error;
      logger.info("codex-http: 401 from upstream, recovering the login once", { account: ctx.label });
      const fresh = await getCredentials(ctx, (signal) =>
        ctx.credentials.recoverFromUnauthorized(creds.accessToken, signal),
      );
      return await call(fresh);
    }
  }

  async function getCredentials(
    ctx: AccountContext,
    read: (signal?: AbortSignal) => Promise<CodexCredentials>,
  ): Promise<CodexCredentials> {
    try {
      return await read(ctx.signal);
    } catch (error) {
      if (ctx.signal?.aborted) throw canceledError(ctx.label, error);
      const original = isCodexImgError(error) ? error : undefined;
      // Keep the provider's own code (login_required, upstream_failed of the token endpoint, …) and tag the account.
      throw new CodexImgError(
        original?.code ?? "login_required",
        original?.message ?? `The login of account "${ctx.label}" cannot be used: ${errorMessage(error)}`,
        {
          ...(original ? { retryable: original.retryable } : {}),
          ...(original?.retryAfterMs === undefined ? {} : { retryAfterMs: original.retryAfterMs }),
          cause: error,
          details: { ...original?.details, account: ctx.label, accountFault: true },
        },
      );
    }
  }

  async function callNative(ctx: CallContext, creds: CodexCredentials): Promise<StoredBackendResult> {
    const turn = newCodexTurn(clock.now());
    const callId = turn.turnId;
    const spec: CallSpec = {
      route: "native",
      path: ctx.normalized.referenceImages.length > 0 ? CODEX_PATHS.edits : CODEX_PATHS.generations,
      callId,
      headers: buildNativeImageHeaders({ credentials: creds, client, turn, model: carrierModel }),
      body: await nativeBody(ctx),
    };
    return runCall(ctx, spec, async (response, timer, quota) => {
      ctx.emit({ type: "progress", stage: "receiving" });
      const declared = Number(response.headers.get("content-length") ?? Number.NaN);
      if (declared > CODEX_MAX_REPLY_BYTES) throw replyTooLarge();
      // Each image's base64 is decoded and written to the sink while the reply streams in.
      const reply = await readNativeReply(
        timedChunks(response.body, timer),
        ctx.sink,
        CODEX_MAX_REPLY_BYTES,
        {
          tooLarge: replyTooLarge,
          notImage: () => notAnImage(ctx.label),
          noImage: () =>
            new CodexImgError("upstream_failed", "The native image route answered without any image.", {
              details: { upstreamStatus: response.status, account: ctx.label, accountFault: true },
            }),
        },
      );
      const imagegenRequestId = response.headers.get(CODEX_HEADERS.imagegenRequestId);
      const result = buildResult(
        ctx,
        "native",
        reply.images,
        reply.delivered,
        {
          image_turn_id: callId,
          ...(imagegenRequestId ? { imagegen_request_id: imagegenRequestId } : {}),
        },
        quota,
      );
      return reply.usage ? { ...result, usage: reply.usage } : result;
    });
  }

  /**
   * A `POST {base}/responses` turn as the CLI sends it: a fresh thread, its headers, and the body that
   * `bodyFor` builds for that thread, zstd-compressed.
   */
  function responsesSpec(
    creds: CodexCredentials,
    model: string,
    bodyFor: (threadId: string, clientMetadata: Record<string, string>) => Record<string, unknown>,
  ): CallSpec {
    const turnInput: CodexResponsesTurn = {
      credentials: creds,
      client,
      turn: newCodexTurn(clock.now()),
      model,
      installationId,
    };
    const callId = turnInput.turn.threadId;
    const json = JSON.stringify(bodyFor(callId, responsesClientMetadata(turnInput)));
    return {
      route: "responses",
      path: CODEX_PATHS.responses,
      callId,
      headers: buildResponsesHeaders(turnInput),
      body: zstdRawFrame(new TextEncoder().encode(json)),
    };
  }

  async function callResponses(ctx: CallContext, creds: CodexCredentials): Promise<StoredBackendResult> {
    const spec = responsesSpec(creds, carrierModel, (threadId, clientMetadata) =>
      buildResponsesBody(ctx.request, ctx.normalized, {
        carrierModel,
        instructions,
        threadId,
        clientMetadata,
        ...(options.partialImages === undefined ? {} : { partialImages: options.partialImages }),
      }),
    );
    const callId = spec.callId;
    return runCall(ctx, spec, async (response, timer, headerQuota) => {
      const outcome = await collectResponsesStream(readSseEvents(timedChunks(response.body, timer)), {
        now: () => clock.now(),
        onProgress: (stage) => ctx.emit({ type: "progress", stage }),
        onPartialImage: (b64, index) => {
          const image = tryDecodeImage(b64);
          if (image) ctx.emit({ type: "partial_image", index, image: { ...image, partial: true } });
        },
        onQuota: (snapshot) => ctx.emit({ type: "quota", snapshot }),
        classify: (payload) =>
          classifyUpstreamError({ streamError: payload, account: ctx.label, now: clock.now() }),
      });
      const quota = outcome.quota ?? headerQuota;
      const upstreamIds: Record<string, string> = {
        session_id: callId,
        ...(outcome.responseId ? { response_id: outcome.responseId } : {}),
      };
      if (
        outcome.interruption !== undefined &&
        (timer.stopReason === "canceled" || (outcome.images.length === 0 && !outcome.lastPartial))
      ) {
        if (timer.stopReason !== undefined) throw outcome.interruption;
        throw new CodexImgError(
          "upstream_failed",
          `The stream was cut before the image arrived (${errorMessage(outcome.interruption)}).`,
          {
            cause: outcome.interruption,
            details: { account: ctx.label, accountFault: true, upstreamStatus: response.status },
          },
        );
      }
      const first: StreamImageItem | undefined = outcome.images[0];
      if (first) {
        const images = await storeImages(
          ctx.sink,
          outcome.images.map((item) =>
            decodeImage(
              item.b64,
              ctx.label,
              item.revisedPrompt === undefined ? {} : { revisedPrompt: item.revisedPrompt },
            ),
          ),
        );
        if (first.id) upstreamIds.image_call_id = first.id;
        const result = buildResult(ctx, "responses", images, deliveredOf(first), upstreamIds, quota);
        return outcome.usage ? { ...result, usage: outcome.usage } : result;
      }
      if (outcome.lastPartial) {
        const [image] = await storeImages(ctx.sink, [
          decodeImage(outcome.lastPartial.b64, ctx.label, { partial: true }),
        ]);
        const endedBy =
          outcome.interruption !== undefined
            ? describeStop(timer, outcome.interruption)
            : outcome.completed
              ? "completed without a final image"
              : "stream ended without a final image";
        logger.warn("codex-http: no final image, returning the last partial", {
          account: ctx.label,
          endedBy,
        });
        return {
          ...buildResult(ctx, "responses", image ? [image] : [], {}, upstreamIds, quota),
          diagnostics: { partialResult: `last partial image ${outcome.lastPartial.index}; ${endedBy}` },
        };
      }
      if (outcome.completed) {
        const said = outcome.text.join("\n").trim();
        throw new CodexImgError(
          "upstream_refused",
          said
            ? `The model answered without drawing: ${said.slice(0, 1000)}`
            : "The response completed without an image.",
          {
            details: {
              account: ctx.label,
              accountFault: false,
              upstreamStatus: response.status,
              declined: true,
            },
          },
        );
      }
      throw new CodexImgError(
        "upstream_failed",
        "The stream was cut before the image arrived (no completion).",
        {
          details: { account: ctx.label, accountFault: true, upstreamStatus: response.status },
        },
      );
    });
  }

  /** One HTTP call under the timeouts: quota headers on every reply, errors classified in one place. */
  async function runCall<T>(
    ctx: AccountContext,
    spec: CallSpec,
    onOk: (response: Response, timer: CallTimer, quota: QuotaSnapshot | undefined) => Promise<T>,
  ): Promise<T> {
    const timer = startCallTimer({
      clock,
      idleTimeoutMs,
      totalTimeoutMs,
      ...(ctx.signal ? { signal: ctx.signal } : {}),
    });
    let quota: QuotaSnapshot | undefined;
    try {
      ctx.emit({ type: "route", route: spec.route });
      ctx.emit({ type: "progress", stage: "sent" });
      logger.debug("codex-http: request", {
        account: ctx.label,
        route: spec.route,
        path: spec.path,
        callId: spec.callId,
      });
      const response = await timer.race(
        doFetch(`${baseUrl}${spec.path}`, {
          method: "POST",
          headers: spec.headers,
          body: spec.body,
          signal: timer.signal,
        }),
      );
      timer.touch();
      quota = parseQuotaHeaders(response.headers, clock.now());
      if (quota) ctx.emit({ type: "quota", snapshot: quota });
      if (!response.ok) {
        const bodyText = await readTimedText(response.body, timer);
        const error = classifyUpstreamError({
          status: response.status,
          headers: response.headers,
          bodyText,
          account: ctx.label,
          now: clock.now(),
        });
        if (spec.route === "native" && (response.status === 404 || response.status === 405))
          error.details.routeMissing = true;
        if (quota) error.details.quota = quota;
        logger.debug("codex-http: upstream error", {
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
      throw toCallError(error, timer, ctx.label, quota);
    } finally {
      timer.dispose();
    }
  }

  function toCallError(
    error: unknown,
    timer: CallTimer,
    label: string,
    quota: QuotaSnapshot | undefined,
  ): CodexImgError {
    if (isCodexImgError(error)) return error;
    const stop = timer.stopReason;
    if (stop === "canceled") return canceledError(label, error);
    if (stop === "idle" || stop === "total") {
      return new CodexImgError("upstream_timeout", describeStop(timer, error), {
        cause: error,
        details: { account: label, accountFault: true, timeout: stop, ...(quota ? { quota } : {}) },
      });
    }
    const classified = classifyUpstreamError({ networkError: error, account: label, now: clock.now() });
    if (quota) classified.details.quota = quota;
    return classified;
  }

  function describeStop(timer: CallTimer, error: unknown): string {
    if (timer.stopReason === "idle")
      return `Upstream sent nothing for ${idleTimeoutMs / 1000} s (idle timeout).`;
    if (timer.stopReason === "total")
      return `Upstream did not finish within ${totalTimeoutMs / 1000} s (total timeout).`;
    if (timer.stopReason === "canceled") return "The request was canceled.";
    return `stream cut (${errorMessage(error)})`;
  }

  function buildResult(
    ctx: CallContext,
    route: CodexHttpRoute,
    images: StoredGeneratedImage[],
    delivered: BackendResult["delivered"],
    upstreamIds: Record<string, string>,
    quota: QuotaSnapshot | undefined,
  ): StoredBackendResult {
    return {
      images,
      backend: "codex-http",
      route,
      requested: { size: ctx.normalized.size, quality: ctx.normalized.quality, n: ctx.normalized.n },
      delivered,
      upstreamIds,
      ...(quota ? { quota } : {}),
    };
  }

  return {
    kind: "codex-http",
    generate,
    generateInto,
    describe,
    rememberedRoute: (accountLabel) => routes.get(accountLabel),
  };
}

function deliveredOf(item: StreamImageItem): BackendResult["delivered"] {
  return {
    ...(item.size ? { size: item.size } : {}),
    ...(item.quality ? { quality: item.quality } : {}),
    ...(item.background ? { background: item.background } : {}),
    ...(item.outputFormat ? { outputFormat: item.outputFormat } : {}),
  };
}

/** Upstream base64 to an image whose format and size come from the bytes; anything else is an upstream failure. */
function decodeImage(b64: string, label: string, extra: Partial<GeneratedImage>): GeneratedImage {
  const image = tryDecodeImage(b64);
  if (!image) throw notAnImage(label);
  return { ...image, ...extra };
}

function notAnImage(label: string): CodexImgError {
  return new CodexImgError(
    "upstream_failed",
    "Upstream returned bytes that are not a PNG, JPEG or WebP image.",
    {
      details: { account: label, accountFault: true },
    },
  );
}

function replyTooLarge(): CodexImgError {
  return new CodexImgError(
    "upstream_failed",
    `The upstream reply is larger than ${CODEX_MAX_REPLY_BYTES} bytes.`,
    {
      details: { accountFault: false },
    },
  );
}

function tryDecodeImage(b64: string): GeneratedImage | undefined {
  let bytes: Uint8Array;
  try {
    bytes = fromDataUrlOrBase64(b64);
  } catch {
    return undefined;
  }
  const info = sniffImage(bytes);
  return info ? { bytes, format: info.format, width: info.width, height: info.height } : undefined;
}

/**
 * The native route's JSON body. With references it is written as bytes with each reference's base64
 * encoded in place, instead of building base64 strings, a JSON string and its UTF-8 copy (an edit with
 * 4 references of 5 MB is a 27 MB body).
 */
async function nativeBody(ctx: CallContext): Promise<string | Uint8Array<ArrayBuffer>> {
  if (ctx.normalized.referenceImages.length === 0) {
    return JSON.stringify(buildNativeImageBody(ctx.request, ctx.normalized));
  }
  const json = await jsonWithBase64(
    (base64Of: (bytes: Uint8Array) => string) =>
      buildNativeImageBody(
        ctx.request,
        ctx.normalized,
        (bytes, format) => `data:${IMAGE_MIME_TYPES[format]};base64,${base64Of(bytes)}`,
      ),
    async (bytes) => base64SourceOf(bytes),
  );
  return jsonWithBase64Bytes(json);
}

function canceledError(label: string, cause?: unknown): CodexImgError {
  return new CodexImgError("canceled", "The request was canceled.", {
    ...(cause === undefined ? {} : { cause }),
    details: { account: label, accountFault: false },
  });
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
