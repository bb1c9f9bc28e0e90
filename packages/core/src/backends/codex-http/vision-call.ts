import { CodexImgError } from "../../errors.js";
import type { NormalizedVisionRequest } from "../../request.js";
import type { CodexCredentials, VisionResult } from "../../types.js";
import { classifyUpstreamError } from "./classify-upstream-error.js";
import { CODEX_DEFAULT_VISION_INSTRUCTIONS, CODEX_MAX_REPLY_BYTES } from "./constants.js";
import { readResponsesEvents } from "./responses-events.js";
import { answerText, collectResponsesStream } from "./responses-stream.js";
import { timedChunks } from "./timed-body.js";
import {
  type AccountContext,
  type BackendSettings,
  errorMessage,
  responsesSpec,
  runUpstreamCall,
} from "./upstream-call.js";
import { notAnImage, replyTooLarge } from "./upstream-image.js";
import { inMemoryReference } from "./upstream-references.js";
import { buildVisionBody } from "./vision-route.js";

/**
 * A question about images (upstream.md Appendix B): `/responses` with `input_image` parts and a text
 * model, no tool. The answer is the model's text; none at all is `upstream_failed` (never an empty 200).
 */
export async function callVision(
  settings: BackendSettings,
  ctx: AccountContext,
  normalized: NormalizedVisionRequest,
  model: string,
  creds: CodexCredentials,
): Promise<VisionResult> {
  const references = normalized.images.map(inMemoryReference);
  const spec = await responsesSpec(settings, creds, model, (threadId, clientMetadata, dataUrl) =>
    buildVisionBody(
      normalized,
      { images: references, dataUrl },
      { model, instructions: CODEX_DEFAULT_VISION_INSTRUCTIONS, threadId, clientMetadata },
    ),
  );
  return runUpstreamCall(settings, ctx, spec, async (response, timer, headerQuota) => {
    const outcome = await collectResponsesStream(
      readResponsesEvents(timedChunks(response.body, timer), {
        results: new Map(),
        maxEventBytes: CODEX_MAX_REPLY_BYTES,
        tooLarge: replyTooLarge,
        notImage: () => notAnImage(ctx.label),
      }),
      {
        now: () => settings.clock.now(),
        onProgress: (stage) => ctx.emit({ type: "progress", stage }),
        onQuota: (snapshot) => ctx.emit({ type: "quota", snapshot }),
        classify: (payload) =>
          classifyUpstreamError({ streamError: payload, account: ctx.label, now: settings.clock.now() }),
      },
    );
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
}
