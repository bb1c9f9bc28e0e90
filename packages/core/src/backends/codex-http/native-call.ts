import { CodexImgError } from "../../errors.js";
import { IMAGE_MIME_TYPES, jsonWithBase64 } from "../../image/index.js";
import type { CodexCredentials, StoredBackendResult } from "../../types.js";
import { buildNativeImageHeaders, newCodexTurn } from "./codex-headers.js";
import { CODEX_HEADERS, CODEX_MAX_REPLY_BYTES, CODEX_PATHS } from "./constants.js";
import { buildNativeImageBody } from "./native-route.js";
import { readNativeReply } from "./read-native-reply.js";
import { timedChunks } from "./timed-body.js";
import { type BackendSettings, type CallContext, type CallSpec, runUpstreamCall } from "./upstream-call.js";
import { buildResult, notAnImage, replyTooLarge } from "./upstream-image.js";
import type { UpstreamReference } from "./upstream-references.js";

export async function callNative(
  settings: BackendSettings,
  ctx: CallContext,
  creds: CodexCredentials,
): Promise<StoredBackendResult> {
  const turn = newCodexTurn(settings.clock.now());
  const callId = turn.turnId;
  const spec: CallSpec = {
    route: "native",
    path: ctx.references.length > 0 ? CODEX_PATHS.edits : CODEX_PATHS.generations,
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
    // Read in turn with the other replies of a burst: the first is stored and answered first.
    const chunks = settings.replyLanes.inTurn(timedChunks(response.body, timer));
    const reply = await readNativeReply(chunks, ctx.sink, CODEX_MAX_REPLY_BYTES, {
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
 * The native route's JSON body. With references it streams, each reference's base64 encoded chunk by
 * chunk from its source (the image store, for a job) while the body is sent, with its length known
 * before the first byte: no reference is loaded whole, and no base64 string or JSON copy is built (an
 * edit with 4 references of 5 MB is a 27 MB body).
 */
async function nativeBody(ctx: CallContext): Promise<CallSpec["body"]> {
  if (ctx.references.length === 0) {
    return JSON.stringify(buildNativeImageBody(ctx.normalized, [], () => ""));
  }
  const json = await jsonWithBase64(
    (base64Of: (reference: UpstreamReference) => string) =>
      buildNativeImageBody(
        ctx.normalized,
        ctx.references,
        (reference) => `data:${IMAGE_MIME_TYPES[reference.format]};base64,${base64Of(reference)}`,
      ),
    (reference) => reference.open(),
  );
  return { stream: json.body, length: json.length };
}
