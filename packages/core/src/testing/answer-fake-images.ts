import type { ServerResponse } from "node:http";
import {
  answerCommon,
  delay,
  deliveredQuality,
  deliveredSize,
  type FakeReplyContext,
  replyHeaders,
} from "./answer-fake-common.js";
import type { FakeCodexReply } from "./fake-codex-types.js";
import { sendJson } from "./fake-upstream.js";
import type { RecordedRequest } from "./fake-upstream-types.js";
import { testImage } from "./test-images.js";

/**
 * The native image routes' answer (upstream.md §2a): the public ImagesResponse shape with the
 * `x-codex-imagegen-request-id` header, or the scripted failure.
 */
export async function answerImages(
  ctx: FakeReplyContext,
  request: RecordedRequest,
  res: ServerResponse,
  reply: FakeCodexReply,
): Promise<void> {
  if (reply.delayMs) await delay(reply.delayMs);
  const headers = replyHeaders(ctx, reply.quota);
  const body = (request.json ?? {}) as Record<string, unknown>;
  switch (reply.kind) {
    case "image":
    case "partials_only": {
      const image = reply.kind === "image" ? reply : { kind: "image" as const };
      const count = image.count ?? (typeof body.n === "number" ? body.n : 1);
      const { width, height } = deliveredSize(image, body.size);
      const format = image.format ?? "png";
      const data = [];
      for (let i = 0; i < count; i++) {
        const bytes = image.bytes ?? (await testImage(format, width, height, i + 1));
        data.push({
          b64_json: Buffer.from(bytes).toString("base64"),
          ...(image.revisedPrompt ? { revised_prompt: image.revisedPrompt } : {}),
        });
      }
      sendJson(
        res,
        200,
        {
          created: Math.floor(ctx.now() / 1000),
          data,
          background:
            typeof body.background === "string" && body.background !== "auto" ? body.background : "opaque",
          output_format: format,
          quality: image.quality ?? deliveredQuality(body.quality),
          size: `${width}x${height}`,
          usage: { input_tokens: 50, output_tokens: 1056, total_tokens: 1106 },
        },
        { ...headers, "x-codex-imagegen-request-id": `igr_${crypto.randomUUID()}` },
      );
      return;
    }
    case "not_an_image":
      sendJson(
        res,
        200,
        { created: 1, data: [{ b64_json: Buffer.from("not an image at all").toString("base64") }] },
        headers,
      );
      return;
    case "stall":
      if (reply.afterHeaders) {
        res.writeHead(200, { "content-type": "application/json", ...headers });
        res.flushHeaders();
      }
      return;
    case "cut":
      res.writeHead(200, { "content-type": "application/json", "content-length": "100000", ...headers });
      res.write('{"created": 1, "data": [{"b64_json": "iVBORw0KGgo');
      setTimeout(() => res.socket?.destroy(), 20);
      return;
    default:
      await answerCommon(ctx, request, res, reply, headers);
  }
}
