import type { ServerResponse } from "node:http";
import type { ImageFormat } from "../types.js";
import {
  answerCommon,
  delay,
  deliveredQuality,
  deliveredSize,
  type FakeReplyContext,
  replyHeaders,
} from "./answer-fake-common.js";
import { fakeRateLimitsEvent } from "./fake-codex-quota.js";
import type { FakeCodexReply } from "./fake-codex-types.js";
import { openSse, type SseWriter } from "./fake-sse-writer.js";
import type { RecordedRequest } from "./fake-upstream-types.js";
import { testImage } from "./test-images.js";

/**
 * The `/responses` route's answer (upstream.md §2b and Appendix B): the hosted image tool's SSE events,
 * or, without the tool, a question's answer as text deltas and a message item; or the scripted failure.
 */
export async function answerResponses(
  ctx: FakeReplyContext,
  request: RecordedRequest,
  res: ServerResponse,
  reply: FakeCodexReply,
): Promise<void> {
  if (reply.delayMs) await delay(reply.delayMs);
  const headers = replyHeaders(ctx, reply.quota);
  const body = (request.json ?? {}) as Record<string, unknown>;
  const tool = ((body.tools as unknown[] | undefined) ?? []).find(
    (t) => (t as { type?: unknown })?.type === "image_generation",
  ) as Record<string, unknown> | undefined;
  const responseId = `resp_${crypto.randomUUID().replaceAll("-", "")}`;
  const itemId = `ig_${crypto.randomUUID().replaceAll("-", "")}`;
  // Without the image tool a request is a question (vision): a scripted image becomes an answer.
  if (!tool && (reply.kind === "image" || reply.kind === "answer")) {
    const text = reply.kind === "answer" && reply.text !== undefined ? reply.text : visionAnswer(body);
    const writer = openSse(res, headers);
    writer.event("response.created", { response: { id: responseId, status: "in_progress", output: [] } });
    const item = {
      id: `msg_${crypto.randomUUID().replaceAll("-", "")}`,
      type: "message",
      role: "assistant",
      status: "completed",
      content: text ? [{ type: "output_text", text, annotations: [] }] : [],
    };
    writer.event("response.output_item.added", { output_index: 0, item: { ...item, content: [] } });
    // Two deltas, so a client that joins deltas and one that reads the item must agree.
    const half = Math.ceil(text.length / 2);
    for (const delta of [text.slice(0, half), text.slice(half)].filter(Boolean)) {
      writer.event("response.output_text.delta", { output_index: 0, item_id: item.id, delta });
    }
    writer.event("response.output_item.done", { output_index: 0, item });
    writer.event("response.completed", {
      response: {
        id: responseId,
        status: "completed",
        output: [item],
        usage: { input_tokens: 900, output_tokens: 60, total_tokens: 960 },
      },
    });
    writer.end();
    return;
  }
  const sse = (): SseWriter => openSse(res, headers);
  const head = (writer: SseWriter): void => {
    writer.event("response.created", { response: { id: responseId, status: "in_progress", output: [] } });
    writer.event("response.in_progress", { response: { id: responseId, status: "in_progress" } });
  };
  const imageStart = (writer: SseWriter): void => {
    writer.event("response.output_item.added", {
      output_index: 0,
      item: { id: itemId, type: "image_generation_call", status: "in_progress" },
    });
    writer.event("response.image_generation_call.in_progress", { output_index: 0, item_id: itemId });
    writer.event("response.image_generation_call.generating", { output_index: 0, item_id: itemId });
  };
  const partial = async (
    writer: SseWriter,
    index: number,
    size: { width: number; height: number },
  ): Promise<void> => {
    const bytes = await testImage(
      "png",
      Math.max(1, Math.round(size.width / 4)),
      Math.max(1, Math.round(size.height / 4)),
      100 + index,
    );
    writer.event("response.image_generation_call.partial_image", {
      output_index: 0,
      item_id: itemId,
      partial_image_index: index,
      partial_image_b64: Buffer.from(bytes).toString("base64"),
    });
  };
  /** The image call's finished item, its `result` the image's base64. */
  const imageDone = (writer: SseWriter, bytes: Uint8Array, fields: Record<string, unknown> = {}): void => {
    writer.event("response.output_item.done", {
      output_index: 0,
      item: {
        id: itemId,
        type: "image_generation_call",
        status: "completed",
        result: Buffer.from(bytes).toString("base64"),
        ...fields,
      },
    });
  };
  const completed = (writer: SseWriter, output: unknown[] = []): void => {
    writer.event("response.completed", {
      response: {
        id: responseId,
        status: "completed",
        output,
        usage: { input_tokens: 120, output_tokens: 40, total_tokens: 160 },
      },
    });
    writer.end();
  };
  /** The stream up to the image call's partials, sent back to back (`partials_only` and `cut`). */
  const partialsOnly = async (count: number): Promise<SseWriter> => {
    const writer = sse();
    head(writer);
    imageStart(writer);
    const size = deliveredSize({}, tool?.size);
    for (let i = 0; i < count; i++) await partial(writer, i, size);
    return writer;
  };

  switch (reply.kind) {
    case "image": {
      const writer = sse();
      if (reply.rateLimitsEvent)
        writer.event("codex.rate_limits", fakeRateLimitsEvent(ctx.quota(), ctx.now()));
      head(writer);
      imageStart(writer);
      const size = deliveredSize(reply, tool?.size);
      for (let i = 0; i < (reply.partials ?? 0); i++) {
        if (reply.eventDelayMs) await delay(reply.eventDelayMs);
        await partial(writer, i, size);
      }
      if (reply.eventDelayMs) await delay(reply.eventDelayMs);
      const format = reply.format ?? (isImageFormat(tool?.output_format) ? tool.output_format : "png");
      const bytes = reply.bytes ?? (await testImage(format, size.width, size.height, 1));
      imageDone(writer, bytes, {
        revised_prompt: reply.revisedPrompt ?? `A picture: ${promptOf(body)}`,
        size: `${size.width}x${size.height}`,
        quality: reply.quality ?? deliveredQuality(tool?.quality),
        output_format: format,
        background: typeof tool?.background === "string" ? tool.background : "opaque",
      });
      if (reply.eventDelayMs) await delay(reply.eventDelayMs);
      completed(writer);
      return;
    }
    case "partials_only":
      completed(await partialsOnly(reply.partials));
      return;
    case "text_only": {
      const writer = sse();
      head(writer);
      const text = reply.text ?? "I can't help with creating that image.";
      const item = {
        id: `msg_${crypto.randomUUID().replaceAll("-", "")}`,
        type: "message",
        role: "assistant",
        status: "completed",
        content: [{ type: "output_text", text, annotations: [] }],
      };
      writer.event("response.output_item.added", { output_index: 0, item: { ...item, content: [] } });
      writer.event("response.output_text.delta", { output_index: 0, item_id: item.id, delta: text });
      writer.event("response.output_item.done", { output_index: 0, item });
      // Upstream repeats the finished message in response.completed's output.
      completed(writer, [item]);
      return;
    }
    case "failed": {
      const writer = sse();
      head(writer);
      writer.event("response.failed", {
        response: { id: responseId, status: "failed", error: { code: reply.code, message: reply.message } },
      });
      writer.end();
      return;
    }
    case "error_event": {
      const writer = sse();
      head(writer);
      writer.event("error", {
        ...(reply.code ? { code: reply.code } : {}),
        message: reply.message,
        param: null,
      });
      writer.end();
      return;
    }
    case "not_an_image": {
      const writer = sse();
      head(writer);
      imageStart(writer);
      imageDone(writer, Buffer.from("nope"));
      completed(writer);
      return;
    }
    case "stall":
      if (reply.afterHeaders) {
        const writer = sse();
        head(writer);
        if (reply.keepAliveMs) {
          const timer = setInterval(() => writer.comment("keep-alive"), reply.keepAliveMs);
          res.on("close", () => clearInterval(timer));
        }
      }
      return;
    case "cut": {
      await partialsOnly(reply.partials ?? 0);
      // Half an event, then the connection dies.
      res.write('event: response.output_item.done\ndata: {"type":"response.output_item.done","item":{"res');
      setTimeout(() => res.socket?.destroy(), 20);
      return;
    }
    default:
      await answerCommon(ctx, request, res, reply, headers);
  }
}

function isImageFormat(value: unknown): value is ImageFormat {
  return value === "png" || value === "jpeg" || value === "webp";
}

/** The fake model's answer to a question about images: what it was shown and what it was asked. */
function visionAnswer(body: Record<string, unknown>): string {
  const input = Array.isArray(body.input) ? (body.input as Array<{ content?: unknown }>) : [];
  const formats: string[] = [];
  for (const message of input) {
    for (const part of Array.isArray(message?.content)
      ? (message.content as Array<{ type?: unknown; image_url?: unknown }>)
      : []) {
      if (part?.type !== "input_image" || typeof part.image_url !== "string") continue;
      formats.push(/^data:image\/(\w+);/.exec(part.image_url)?.[1] ?? "unknown");
    }
  }
  return `Fake vision answer: I see ${formats.length} image(s) (${formats.join(", ")}). You asked: ${promptOf(body)}`;
}

/** The user's text: the first `input_text` of a user message (the CLI-style turn puts instructions first). */
function promptOf(body: Record<string, unknown>): string {
  const input = Array.isArray(body.input) ? (body.input as Array<{ role?: unknown; content?: unknown }>) : [];
  for (const message of input) {
    if (message?.role !== undefined && message.role !== "user") continue;
    for (const part of Array.isArray(message?.content)
      ? (message.content as Array<{ type?: unknown; text?: unknown }>)
      : []) {
      if (part?.type === "input_text" && typeof part.text === "string") return part.text;
    }
  }
  return "";
}
