import { CodexImgError } from "../../errors.js";
import { base64SourceOf, IMAGE_MIME_TYPES, jsonWithBase64, jsonWithBase64Bytes } from "../../image/index.js";
import type { CodexCredentials, StoredBackendResult } from "../../types.js";
import { buildNativeImageHeaders, newCodexTurn } from "./codex-headers.js";
import { CODEX_HEADERS, CODEX_MAX_REPLY_BYTES, CODEX_PATHS } from "./constants.js";
import { buildNativeImageBody } from "./native-route.js";
import { readNativeReply } from "./read-native-reply.js";
import { timedChunks } from "./timed-body.js";
import { type BackendSettings, type CallContext, type CallSpec, runUpstreamCall } from "./upstream-call.js";
import { buildResult, notAnImage, replyTooLarge } from "./upstream-image.js";

export async function callNative(
  settings: BackendSettings,
  ctx: CallContext,
  creds: CodexCredentials,
): Promise<StoredBackendResult> {
  const turn = newCodexTurn(settings.clock.now());
  const callId = turn.turnId;
  const spec: CallSpec = {
    route: "native",
    path: ctx.normalized.referenceImages.length > 0 ? CODEX_PATHS.edits : CODEX_PATHS.generations,
    callId,
    headers: buildNativeImageHeaders({
      credentials: creds,
      client: settings.client,
      turn,
      model: settings.carrierModel,
    }),
    body: await nativeBody(ctx),
  };
  return runUpstreamCall(settings, ctx, spec, async (response, timer, quota) => {
    ctx.emit({ type: "progress", stage: "receiving" });
    const declared = Number(response.headers.get("content-length") ?? Number.NaN);
    if (declared > CODEX_MAX_REPLY_BYTES) throw replyTooLarge();
    // Each image's base64 is decoded and written to the sink while the reply streams in.
    const reply = await readNativeReply(timedChunks(response.body, timer), ctx.sink, CODEX_MAX_REPLY_BYTES, {
      tooLarge: replyTooLarge,
      notImage: () => notAnImage(ctx.label),
      noImage: () =>
        new CodexImgError("upstream_failed", "The native image route answered without any image.", {
          details: { upstreamStatus: response.status, account: ctx.label, accountFault: true },
        }),
    });
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
