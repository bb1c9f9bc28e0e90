import { CodexImgError } from "../../errors.js";
import { storeImages } from "../../storage/store-images.js";
import type { CodexCredentials, QuotaSnapshot, StoredBackendResult } from "../../types.js";
import type { CallTimer } from "./call-timer.js";
import { classifyUpstreamError } from "./classify-upstream-error.js";
import { CODEX_MAX_REPLY_BYTES } from "./constants.js";
import { readResponsesEvents, type StreamedImage, type StreamedResults } from "./responses-events.js";
import { buildResponsesBody } from "./responses-route.js";
import { collectResponsesStream, type StreamImageItem } from "./responses-stream.js";
import { timedChunks } from "./timed-body.js";
import {
  type BackendSettings,
  type CallContext,
  describeStop,
  errorMessage,
  responsesSpec,
  runUpstreamCall,
} from "./upstream-call.js";
import {
  buildResult,
  decodeImage,
  deliveredOf,
  notAnImage,
  replyTooLarge,
  tryDecodeImage,
} from "./upstream-image.js";

export async function callResponses(
  settings: BackendSettings,
  ctx: CallContext,
  creds: CodexCredentials,
): Promise<StoredBackendResult> {
  const spec = await responsesSpec(
    settings,
    creds,
    settings.carrierModel,
    (threadId, clientMetadata, dataUrl) =>
      buildResponsesBody(
        ctx.request,
        ctx.normalized,
        { images: ctx.references, dataUrl },
        {
          carrierModel: settings.carrierModel,
          instructions: settings.instructions,
          threadId,
          clientMetadata,
          ...(settings.partialImages === undefined ? {} : { partialImages: settings.partialImages }),
        },
      ),
  );
  const callId = spec.callId;
  return runUpstreamCall(settings, ctx, spec, async (response, timer, headerQuota) => {
    // Each final image is written into the sink while its event streams in; the ones not kept (a repeat
    // in `response.completed`, an error later on) are deleted before this call returns or throws.
    const results: StreamedResults = new Map();
    const kept = new Set<string>();
    try {
      const result = await readImagesFromStream(response, timer, results, headerQuota);
      for (const image of result.images) kept.add(image.stored.key);
      return result;
    } finally {
      const unkept = [...results.values()].filter(
        (image): image is StreamedImage =>
          image !== undefined && !(image instanceof Error) && !kept.has(image.stored.key),
      );
      await Promise.all(unkept.map((image) => ctx.sink.delete(image.stored.key).catch(() => false)));
    }
  });

  async function readImagesFromStream(
    response: Response,
    timer: CallTimer,
    results: StreamedResults,
    headerQuota: QuotaSnapshot | undefined,
  ): Promise<StoredBackendResult> {
    const events = readResponsesEvents(timedChunks(response.body, timer), {
      sink: ctx.sink,
      results,
      maxEventBytes: CODEX_MAX_REPLY_BYTES,
      tooLarge: replyTooLarge,
      notImage: () => notAnImage(ctx.label),
    });
    const outcome = await collectResponsesStream(events, {
      now: () => settings.clock.now(),
      onProgress: (stage) => ctx.emit({ type: "progress", stage }),
      onPartialImage: (b64, index) => {
        const image = tryDecodeImage(b64);
        if (image) ctx.emit({ type: "partial_image", index, image: { ...image, partial: true } });
      },
      onQuota: (snapshot) => ctx.emit({ type: "quota", snapshot }),
      classify: (payload) =>
        classifyUpstreamError({ streamError: payload, account: ctx.label, now: settings.clock.now() }),
      results,
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
      const images = outcome.images.map((item) =>
        item.revisedPrompt === undefined ? item.image : { ...item.image, revisedPrompt: item.revisedPrompt },
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
          ? describeStop(settings, timer, outcome.interruption)
          : outcome.completed
            ? "completed without a final image"
            : "stream ended without a final image";
      settings.logger.warn("codex-http: no final image, returning the last partial", {
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
  }
}
