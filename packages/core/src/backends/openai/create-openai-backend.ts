import { type Clock, systemClock } from "../../clock.js";
import { CodexImgError, isCodexImgError } from "../../errors.js";
import { type Logger, silentLogger } from "../../logger.js";
import { DEFAULT_IMAGE_MODEL, normalizeImageRequest } from "../../request.js";
import type { BackendResult, GenerateOptions, ImageBackend, ImageRequest } from "../../types.js";
import { openAiErrorFromReply, scrubOpenAiText } from "./openai-error.js";
import { parseOpenAiImagesReply } from "./openai-reply.js";
import { openAiEditForm, openAiOptionFields } from "./openai-request.js";

export interface OpenAiBackendOptions {
  /** The owner's platform API key (`sk-…`). Never logged, never quoted in errors. */
  apiKey: string;
  /** Default `https://api.openai.com/v1`. */
  baseUrl?: string;
  /** Sent as `OpenAI-Organization` when set. */
  organization?: string;
  /** Default the global `fetch`. */
  fetch?: typeof fetch;
  /** Default the system clock; tests pass a `ManualClock`. */
  clock?: Clock;
  /** Total time for one call, reply body included, in milliseconds. Default 600,000 (the SDK's). */
  timeoutMs?: number;
  logger?: Logger;
  /** Image model when the request names none. Default `gpt-image-2`. */
  model?: string;
}

export const OPENAI_DEFAULT_BASE_URL = "https://api.openai.com/v1";
export const OPENAI_DEFAULT_TIMEOUT_MS = 600_000;

/**
 * The public OpenAI Images API, paid per image with the owner's API key. Generations go as JSON;
 * requests with reference images go to `/images/edits` as multipart with repeated `image[]` parts,
 * exactly as the official SDK sends an array of images.
 */
export function createOpenAiBackend(options: OpenAiBackendOptions): ImageBackend {
  const baseUrl = (options.baseUrl ?? OPENAI_DEFAULT_BASE_URL).replace(/\/+$/, "");
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? silentLogger;
  const timeoutMs = options.timeoutMs ?? OPENAI_DEFAULT_TIMEOUT_MS;
  const defaultModel = options.model ?? DEFAULT_IMAGE_MODEL;
  // Read lazily so a test can stub the global after creating the backend.
  const doFetch = (input: string, init: RequestInit): Promise<Response> =>
    (options.fetch ?? fetch)(input, init);
  const scrub = (text: string): string => scrubOpenAiText(text, options.apiKey);

  async function generate(
    request: ImageRequest,
    generateOptions: GenerateOptions = {},
  ): Promise<BackendResult> {
    const { signal, onEvent } = generateOptions;
    if (signal?.aborted) throw canceledError(signal.reason);
    const normalized = normalizeImageRequest(request);
    const model = request.model?.trim() || defaultModel;
    const isEdit = normalized.referenceImages.length > 0;
    const route = isEdit ? "edits" : "generations";
    const headers: Record<string, string> = {
      authorization: `Bearer ${options.apiKey}`,
      accept: "application/json",
    };
    if (options.organization) headers["openai-organization"] = options.organization;
    let body: BodyInit;
    if (isEdit) {
      // fetch sets the multipart content-type with its boundary; setting it here would break it.
      body = openAiEditForm(request, normalized, model);
    } else {
      headers["content-type"] = "application/json";
      body = JSON.stringify(openAiOptionFields(request, normalized, model));
    }

    const controller = new AbortController();
    let timedOut = false;
    const cancelTimer = clock.setTimeout(() => {
      timedOut = true;
      controller.abort(new Error("timeout"));
    }, timeoutMs);
    const onAbort = (): void => controller.abort(signal?.reason);
    signal?.addEventListener("abort", onAbort, { once: true });

    const started = clock.now();
    const fields = { route, model, n: normalized.n, references: normalized.referenceImages.length };
    logger.debug("openai image request", fields);
    try {
      let response: Response;
      let text: string;
      try {
        onEvent?.({ type: "progress", stage: "sent" });
        response = await doFetch(`${baseUrl}/images/${route}`, {
          method: "POST",
          headers,
          body,
          signal: controller.signal,
        });
        onEvent?.({ type: "progress", stage: "receiving" });
        text = await response.text();
      } catch (cause) {
        if (timedOut) {
          throw new CodexImgError("upstream_timeout", `OpenAI did not answer within ${timeoutMs} ms.`, {
            cause,
            details: { backend: "openai", timeoutMs },
          });
        }
        if (signal?.aborted) throw canceledError(cause);
        const reason = cause instanceof Error ? cause.message : String(cause);
        throw new CodexImgError("upstream_failed", `Could not reach OpenAI: ${scrub(reason)}`, {
          cause,
          details: { backend: "openai" },
        });
      }

      const requestId = response.headers.get("x-request-id") ?? undefined;
      if (!response.ok) {
        throw openAiErrorFromReply({
          status: response.status,
          headers: response.headers,
          text,
          now: clock.now(),
          apiKey: options.apiKey,
        });
      }
      const reply = parseOpenAiImagesReply(text);
      const diagnostics: Record<string, string> = {};
      if (reply.usage) diagnostics.usage = reply.usage;
      const processingMs = response.headers.get("openai-processing-ms");
      if (processingMs) diagnostics.processing_ms = processingMs;
      logger.info("openai images delivered", {
        ...fields,
        images: reply.images.length,
        elapsedMs: clock.now() - started,
        ...(requestId ? { requestId } : {}),
      });
      return {
        images: reply.images,
        backend: "openai",
        route: "openai",
        requested: { size: normalized.size, quality: normalized.quality, n: normalized.n },
        delivered: reply.delivered,
        upstreamIds: requestId ? { request_id: requestId } : {},
        ...(Object.keys(diagnostics).length > 0 ? { diagnostics } : {}),
      };
    } catch (error) {
      const failure = isCodexImgError(error)
        ? error
        : new CodexImgError("internal", scrub(String(error)), { cause: error });
      logger.warn("openai image request failed", {
        ...fields,
        code: failure.code,
        message: failure.message,
        elapsedMs: clock.now() - started,
        ...(failure.details.upstreamStatus === undefined ? {} : { status: failure.details.upstreamStatus }),
        ...(failure.details.requestId === undefined ? {} : { requestId: failure.details.requestId }),
      });
      throw failure;
    } finally {
      cancelTimer();
      signal?.removeEventListener("abort", onAbort);
    }
  }

  return { kind: "openai", generate };
}

function canceledError(cause: unknown): CodexImgError {
  return new CodexImgError("canceled", "The request was canceled.", {
    cause,
    details: { backend: "openai" },
  });
}
