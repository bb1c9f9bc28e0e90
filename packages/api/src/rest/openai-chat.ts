import { CodexImgError, DEFAULT_IMAGE_MODEL, IMAGE_MIME_TYPES, type Job } from "@codex-img/core";
import type { JsonWithReferences } from "../http/json-references.js";
import type { Base64Of } from "../services/json-with-images.js";
import { referenceFromString } from "../services/reference-input.js";
import type { ApiServices } from "../services.js";
import type { OpenAiChatRequest } from "./openai-schemas.js";

/** What a chat request asks for: the last user message's text, and its image parts as references. */
export interface ChatImagePrompt {
  prompt: string;
  references: Uint8Array[];
}

/**
 * Reads the prompt the way the seed gateway did: only the last user message counts (earlier turns are
 * conversation, not instructions for this image), its text parts joined, its image parts as references.
 */
export function chatImagePrompt(body: OpenAiChatRequest, json?: JsonWithReferences): ChatImagePrompt {
  let index = body.messages.length - 1;
  while (index >= 0 && body.messages[index]?.role !== "user") index--;
  const message = body.messages[index];
  if (!message) {
    throw new CodexImgError("invalid_request", "messages must contain a user message with the prompt.", {
      details: { param: "messages" },
    });
  }
  const texts: string[] = [];
  const references: Uint8Array[] = [];
  const content = message.content ?? "";
  if (typeof content === "string") {
    texts.push(content);
  } else {
    content.forEach((part, partIndex) => {
      const param = `messages.${index}.content.${partIndex}`;
      if (part.type === "text" && "text" in part && typeof part.text === "string") texts.push(part.text);
      if (part.type === "image_url" && "image_url" in part) {
        const value = part.image_url;
        const url = typeof value === "string" ? value : (value as { url: string }).url;
        references.push(referenceFromString(url, references.length, `${param}.image_url`, json));
      }
    });
  }
  const prompt = texts.join("\n").trim();
  if (prompt.length === 0) {
    throw new CodexImgError("invalid_request", "The last user message has no text to use as the prompt.", {
      details: { param: `messages.${index}.content` },
    });
  }
  return { prompt, references };
}

/** OpenAI's `chat.completion` object. */
export interface ChatCompletion {
  id: string;
  object: "chat.completion";
  created: number;
  model: string;
  choices: Array<{
    index: number;
    message: { role: "assistant"; content: string; refusal: null };
    finish_reason: "stop";
    logprobs: null;
  }>;
  usage: { prompt_tokens: number; completion_tokens: number; total_tokens: number };
}

/**
 * The seed gateway's reply: the assistant content ends with one markdown image per result,
 * `![<revised prompt>](data:image/png;base64,…)`, which chat clients render and scripts can cut out.
 * The base64 is a placeholder from `base64Of`, filled while the reply streams (`jsonWithImages`).
 */
export function chatCompletion(
  services: ApiServices,
  job: Job,
  model: string | null | undefined,
  base64Of: Base64Of,
): ChatCompletion {
  const lines: string[] = [];
  for (const image of job.images) {
    const alt = markdownAlt(image.revisedPrompt ?? job.request.prompt);
    lines.push(`![${alt}](data:${IMAGE_MIME_TYPES[image.format]};base64,${base64Of(image.key)})`);
  }
  return {
    id: `chatcmpl-${job.id}`,
    object: "chat.completion",
    created: Math.floor((job.finishedAt ?? services.clock.now()) / 1000),
    model: model || DEFAULT_IMAGE_MODEL,
    choices: [
      {
        index: 0,
        message: { role: "assistant", content: lines.join("\n\n"), refusal: null },
        finish_reason: "stop",
        logprobs: null,
      },
    ],
    usage: { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 },
  };
}

/** A vision job's answer as a `chat.completion`: the assistant content is the answer itself. */
export function chatTextCompletion(
  services: ApiServices,
  job: Job,
  model: string | null | undefined,
): ChatCompletion {
  return {
    id: `chatcmpl-${job.id}`,
    object: "chat.completion",
    created: Math.floor((job.finishedAt ?? services.clock.now()) / 1000),
    model: model || "default",
    choices: [
      {
        index: 0,
        message: { role: "assistant", content: job.text ?? "", refusal: null },
        finish_reason: "stop",
        logprobs: null,
      },
    ],
    usage: { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 },
  };
}

/** Alt text must not close the markdown early or span lines. */
function markdownAlt(text: string): string {
  return text
    .replace(/\s+/g, " ")
    .replace(/[[\]\\]/g, (char) => `\\${char}`)
    .trim()
    .slice(0, 1000);
}
