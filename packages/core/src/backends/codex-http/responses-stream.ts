import type { CodexImgError } from "../../errors.js";
import { asRecord as rec, nonEmptyString as str } from "../../json-values.js";
import type { QuotaSnapshot, UpstreamUsage } from "../../types.js";
import { parseRateLimitsEvent } from "./quota-snapshot.js";
import type { ResponsesEvent, StreamedImage, StreamedResults } from "./responses-events.js";
import { parseUpstreamUsage } from "./upstream-usage.js";

/** One `image_generation_call` output item; its `result` (bare base64) was streamed into the sink. */
export interface StreamImageItem {
  id?: string;
  image: StreamedImage;
  revisedPrompt?: string;
  size?: string;
  quality?: string;
  outputFormat?: string;
  background?: string;
}

export interface ResponsesStreamOutcome {
  responseId?: string;
  images: StreamImageItem[];
  /** The last `partial_image` seen (base64), the best result when no final image arrives. */
  lastPartial?: { b64: string; index: number };
  /** Assistant text from finished `message` items, when the model answered in words. */
  text: string[];
  /** The same text as streamed by `response.output_text.delta`, for streams whose items never arrive. */
  deltaText: string;
  /** A `response.completed` / `response.done` / `response.incomplete` arrived. */
  completed: boolean;
  /** Token counts of `response.completed`. */
  usage?: UpstreamUsage;
  /** Newest `codex.rate_limits` snapshot. */
  quota?: QuotaSnapshot;
  /**
   * Why reading stopped early (connection cut, timeout, cancel), when it did. Kept instead of thrown so
   * the caller can still return an image or the last partial received before it.
   */
  interruption?: unknown;
}

export interface ResponsesStreamHooks {
  now: () => number;
  onProgress?: (stage: "queued" | "generating" | "receiving") => void;
  onPartialImage?: (b64: string, index: number) => void;
  onQuota?: (snapshot: QuotaSnapshot) => void;
  /** Turns a `response.failed` / `error` payload into the error to throw. */
  classify: (payload: unknown) => CodexImgError;
  /** What each streamed `result` became (see `readResponsesEvents`); without it no image is collected. */
  results?: StreamedResults;
}

/**
 * Folds the Responses SSE events (upstream.md §2b table) into what the backend needs. Images are
 * collected from `response.output_item.done` because `response.completed` may carry an empty `output`.
 * Throws the classified error on `response.failed` or a bare `error` event.
 */
export async function collectResponsesStream(
  events: AsyncIterable<ResponsesEvent>,
  hooks: ResponsesStreamHooks,
): Promise<ResponsesStreamOutcome> {
  const outcome: ResponsesStreamOutcome = { images: [], text: [], deltaText: "", completed: false };
  const seenItems = new Set<string>();
  let stage: "queued" | "generating" | "receiving" | undefined;
  const progress = (next: "queued" | "generating" | "receiving"): void => {
    if (stage === next) return;
    stage = next;
    hooks.onProgress?.(next);
  };
  const addImage = (item: Record<string, unknown>): void => {
    const image = typeof item.result === "string" ? hooks.results?.get(item.result) : undefined;
    if (image instanceof Error) throw image;
    if (!image) return;
    const id = str(item.id);
    if (id !== undefined) {
      if (seenItems.has(id)) return;
      seenItems.add(id);
    }
    outcome.images.push(
      compact({
        id,
        image,
        revisedPrompt: str(item.revised_prompt),
        size: str(item.size),
        quality: str(item.quality),
        outputFormat: str(item.output_format),
        background: str(item.background),
      }) as unknown as StreamImageItem,
    );
  };
  const seenMessages = new Set<string>();
  const addText = (item: Record<string, unknown>): void => {
    if (!Array.isArray(item.content)) return;
    const texts: string[] = [];
    for (const part of item.content as unknown[]) {
      const p = rec(part);
      const text = str(p?.text) ?? str(p?.refusal);
      if (text) texts.push(text);
    }
    // One message arrives twice (its output_item.done and response.completed's output), with or
    // without its id: keep one text per message.
    const id = str(item.id);
    const key = texts.join("\n");
    if ((id !== undefined && seenMessages.has(id)) || seenMessages.has(key)) return;
    if (id !== undefined) seenMessages.add(id);
    seenMessages.add(key);
    outcome.text.push(...texts);
  };
  const addOutputItem = (item: Record<string, unknown> | undefined): void => {
    if (!item) return;
    if (item.type === "image_generation_call") addImage(item);
    else if (item.type === "message") addText(item);
  };

  const iterator = events[Symbol.asyncIterator]();
  try {
    for (;;) {
      let step: IteratorResult<ResponsesEvent>;
      try {
        step = await iterator.next();
      } catch (error) {
        outcome.interruption = error;
        break;
      }
      if (step.done || handle(step.value) === "stop") break;
    }
  } finally {
    // Closes the body (and so the connection) when we stop before the end or throw.
    await iterator.return?.(undefined).catch(() => {});
  }
  return outcome;

  function handle(event: ResponsesEvent): "stop" | undefined {
    if (event.done) return "stop";
    const payload = event.payload;
    if (!payload) return undefined;
    const type = str(payload.type);
    switch (type) {
      case "response.created":
      case "response.in_progress":
        outcome.responseId = str(rec(payload.response)?.id) ?? outcome.responseId;
        if (stage === undefined) progress("queued");
        break;
      case "response.output_item.added":
        if (rec(payload.item)?.type === "image_generation_call") progress("generating");
        break;
      case "response.image_generation_call.in_progress":
      case "response.image_generation_call.generating":
        progress("generating");
        break;
      case "response.output_text.delta": {
        const delta = typeof payload.delta === "string" ? payload.delta : "";
        outcome.deltaText += delta;
        break;
      }
      case "response.image_generation_call.partial_image": {
        const b64 = str(payload.partial_image_b64);
        if (!b64) break;
        const index = typeof payload.partial_image_index === "number" ? payload.partial_image_index : 0;
        outcome.lastPartial = { b64, index };
        hooks.onPartialImage?.(b64, index);
        break;
      }
      case "response.output_item.done": {
        const item = rec(payload.item);
        if (item?.type === "image_generation_call" && str(item.result)) progress("receiving");
        addOutputItem(item);
        break;
      }
      case "response.completed":
      case "response.done":
      case "response.incomplete": {
        const response = rec(payload.response);
        outcome.responseId = str(response?.id) ?? outcome.responseId;
        const usage = parseUpstreamUsage(response?.usage);
        if (usage) outcome.usage = usage;
        if (Array.isArray(response?.output))
          for (const item of response.output as unknown[]) addOutputItem(rec(item));
        outcome.completed = true;
        break;
      }
      case "response.failed":
      case "error":
        throw hooks.classify(payload);
      case "codex.rate_limits": {
        const snapshot = parseRateLimitsEvent(payload, hooks.now());
        if (snapshot) {
          outcome.quota = snapshot;
          hooks.onQuota?.(snapshot);
        }
        break;
      }
      default:
        break;
    }
    return outcome.completed ? "stop" : undefined;
  }
}

/** The model's words: from its finished messages, else from the deltas (Appendix B: one of the two, not both). */
export function answerText(outcome: ResponsesStreamOutcome): string {
  const fromItems = outcome.text.join("\n").trim();
  return fromItems || outcome.deltaText.trim();
}

function compact(value: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined));
}
