import type { Clock } from "../../clock.js";
import { systemClock } from "../../clock.js";
import { CodexImgError, isCodexImgError } from "../../errors.js";
import { type Logger, silentLogger } from "../../logger.js";
import { normalizeImageRequest, normalizeVisionRequest } from "../../request.js";
import { createMemoryImageStore } from "../../storage/memory-image-store.js";
import type {
  BackendEvent,
  BackendResult,
  CodexCredentials,
  GeneratedImage,
  GenerateOptions,
  ImageBackend,
  ImageRequest,
  ImageSink,
  StoredBackendResult,
  VisionRequest,
  VisionResult,
} from "../../types.js";
import { BODY_LANE_DEFAULTS, createBodyLanes } from "./body-lanes.js";
import { type CodexClientIdentity, DEFAULT_CODEX_CLIENT } from "./codex-headers.js";
import {
  CODEX_DEFAULT_BASE_URL,
  CODEX_DEFAULT_CARRIER_MODEL,
  CODEX_DEFAULT_IDLE_TIMEOUT_MS,
  CODEX_DEFAULT_INSTRUCTIONS,
  CODEX_DEFAULT_TOTAL_TIMEOUT_MS,
} from "./constants.js";
import { createLanes } from "./lanes.js";
import { callNative } from "./native-call.js";
import { callResponses } from "./responses-call.js";
import {
  type AccountContext,
  type BackendSettings,
  type CallContext,
  type CodexHttpRoute,
  canceledError,
  errorMessage,
} from "./upstream-call.js";
import { upstreamReferences } from "./upstream-references.js";
import { callVision } from "./vision-call.js";

export type { CodexHttpRoute } from "./upstream-call.js";

/**
 * Longest wait of a native-route reply for its lane. Reading a whole reply takes a few milliseconds to a
 * few tens (8 MB), so under any load the server keeps up with no reply waits this long; past it, one whose
 * body stalled halfway stops holding the others back.
 */
export const REPLY_LANE_MAX_WAIT_MS = 2_000;

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
  /**
   * Native-route replies read at once; the others wait in their sockets, in arrival order
   * (`createLanes`): the first of a burst is stored and answered first. Default 1; 0 reads every reply as
   * it comes. A reply that stalls halfway holds the others at most `REPLY_LANE_MAX_WAIT_MS`.
   */
  replyReadsAtOnce?: number;
  /**
   * Streamed request bodies (edits with references) sent at once; the others wait for a lane before their
   * first byte (`createBodyLanes`). Default 2; 0 sends every body as it comes.
   */
  requestBodiesAtOnce?: number;
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

/**
 * The ChatGPT Codex backend over HTTP (upstream.md §2). The native `/images/*` route is tried first;
 * on 404/405 the account falls back to `/responses` with the hosted image tool, and the route that
 * worked is remembered per account label. With `n > 1` the native route sends `n`; the Responses route
 * makes one image per call and the runner calls again for the rest.
 */
export function createCodexHttpBackend(options: CodexHttpBackendOptions = {}): CodexHttpBackend {
  const settings: BackendSettings = {
    baseUrl: (options.baseUrl ?? CODEX_DEFAULT_BASE_URL).replace(/\/+$/, ""),
    clock: options.clock ?? systemClock,
    logger: options.logger ?? silentLogger,
    idleTimeoutMs: options.idleTimeoutMs ?? CODEX_DEFAULT_IDLE_TIMEOUT_MS,
    totalTimeoutMs: options.totalTimeoutMs ?? CODEX_DEFAULT_TOTAL_TIMEOUT_MS,
    carrierModel: options.carrierModel ?? CODEX_DEFAULT_CARRIER_MODEL,
    instructions: options.instructions?.trim() ? options.instructions : CODEX_DEFAULT_INSTRUCTIONS,
    fetch: (input, init) => (options.fetch ?? globalThis.fetch)(input, init),
    client: { ...DEFAULT_CODEX_CLIENT, ...options.client },
    installationId: options.installationId ?? crypto.randomUUID(),
    replyLanes: createLanes(options.replyReadsAtOnce ?? 1, REPLY_LANE_MAX_WAIT_MS),
    bodyLanes: createBodyLanes({
      ...(options.requestBodiesAtOnce === undefined ? {} : { lanes: options.requestBodiesAtOnce }),
      // A waiting call's idle countdown runs: it goes ahead well before it would time out.
      maxWaitMs: Math.min(
        BODY_LANE_DEFAULTS.maxWaitMs,
        (options.idleTimeoutMs ?? CODEX_DEFAULT_IDLE_TIMEOUT_MS) / 2,
      ),
    }),
    ...(options.partialImages === undefined ? {} : { partialImages: options.partialImages }),
  };
  const { logger } = settings;
  const routes = new Map<string, CodexHttpRoute>();

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
    const references = upstreamReferences(request, normalized, sink);
    const ctx: CallContext = { ...accountContext(generateOptions), request, normalized, sink, references };
    const { label, emit } = ctx;

    if ((routes.get(label) ?? options.initialRoute ?? "native") === "native") {
      try {
        const result = await withUnauthorizedRecovery(ctx, (creds) => callNative(settings, ctx, creds));
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
    const result = await withUnauthorizedRecovery(ctx, (creds) => callResponses(settings, ctx, creds));
    routes.set(label, "responses");
    return result;
  }

  /** A question about images: one `/responses` call without the tool (see `callVision`). */
  async function describe(
    request: VisionRequest,
    generateOptions: GenerateOptions = {},
  ): Promise<VisionResult> {
    const normalized = normalizeVisionRequest(request);
    const ctx = accountContext(generateOptions);
    const model = normalized.model ?? settings.carrierModel;
    return withUnauthorizedRecovery(ctx, (creds) => callVision(settings, ctx, normalized, model, creds));
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

  return {
    kind: "codex-http",
    generate,
    generateInto,
    describe,
    rememberedRoute: (accountLabel) => routes.get(accountLabel),
  };
}
