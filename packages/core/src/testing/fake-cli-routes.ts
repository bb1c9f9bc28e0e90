import { randomUUID } from "node:crypto";
import type { ServerResponse } from "node:http";
import { headerValue, sendJson } from "./fake-upstream.js";
import type { FakeHandler, RecordedRequest } from "./fake-upstream-types.js";

/**
 * The fake backend passes its context (`origin`, read lazily, and `requests`); tests that mount the routes
 * themselves may pass the knobs below instead, or both.
 */
export interface FakeCliRoutesOptions {
  /** Origin for `workspace_backend_origin`; default from the request's Host header. */
  readonly origin?: string;
  /** `plan_type` that `/wham/accounts/check` reports. Default `plus`. */
  planType?: string;
  /**
   * What the fake model does on the CLI's first turn: `image` (default) calls `image_gen.imagegen`;
   * `text` declines with a text answer, so the CLI ends without an image.
   */
  modelTurn?: "image" | "text";
  /** The prompt the fake model hands to `imagegen`. Default: the user's message without `$imagegen`. */
  imagePrompt?: (userText: string) => string;
}

/** A catalog entry the 0.169.0 CLI accepts: every field here is required (upstream.md §5). */
export const FAKE_CLI_MODEL = {
  slug: "gpt-5.5",
  display_name: "GPT-5.5",
  supported_reasoning_levels: [{ effort: "low", description: "low" }],
  shell_type: "shell_command",
  visibility: "list",
  supported_in_api: true,
  priority: 1,
  base_instructions: "You are Codex.",
  support_verbosity: false,
  truncation_policy: { mode: "tokens", limit: 10000 },
  experimental_supported_tools: [],
} as const;

/**
 * Routes that make the fake Codex backend good enough for the real `codex` CLI (upstream.md §5): the
 * account check, the config bundle, and the model's two turns on `/responses` (a `function_call` to
 * `image_gen.imagegen`, then a short answer to the `function_call_output`). Requests to `/responses`
 * that are not the CLI's (they carry the hosted `image_generation` tool) are left to other handlers.
 * The image itself comes from the fake's `/images/*` routes, which the CLI calls on its own.
 */
export function fakeCliRoutes(backend: FakeCliRoutesOptions = {}): FakeHandler[] {
  const accountsCheck: FakeHandler = async (request, res) => {
    if (request.method !== "GET" || pathOf(request) !== "/backend-api/wham/accounts/check") return false;
    const id = headerValue(request.headers["chatgpt-account-id"]) ?? "acct-fake";
    const host = headerValue(request.headers.host);
    const origin = backend.origin || (host ? `https://${host}` : "");
    sendJson(res, 200, {
      accounts: [
        {
          id,
          plan_type: backend.planType ?? "plus",
          // The origin without a path; "NO_CONSTRAINT" is accepted too.
          workspace_backend_origin: origin || "NO_CONSTRAINT",
          account_routing_override: "NO_CONSTRAINT",
          structure: "personal",
        },
      ],
      account_ordering: [id],
      default_account_id: id,
    });
    return true;
  };

  const configBundle: FakeHandler = async (request, res) => {
    if (request.method !== "GET" || pathOf(request) !== "/backend-api/wham/config/bundle") return false;
    sendJson(res, 200, {});
    return true;
  };

  const responses: FakeHandler = async (request, res) => {
    if (request.method !== "POST" || pathOf(request) !== "/backend-api/codex/responses") return false;
    const body = request.json as CliTurnBody | undefined;
    const turnInput = body?.input;
    // A CLI turn whose user did not start with `$imagegen` is a question about `-i` images (upstream.md
    // Appendix B), whatever tools the CLI offers: the fake model answers in words.
    // (The CLI always offers its own tools; codex-img's own Responses calls offer none or the hosted one.)
    const question =
      headerValue(request.headers.originator) === "codex_exec" &&
      Array.isArray(body?.tools) &&
      body.tools.length > 0 &&
      !body.tools.some((tool) => tool.type === "image_generation") &&
      Array.isArray(turnInput) &&
      lastUserText(turnInput) === "" &&
      !turnInput.some((item) => item.type === "function_call_output");
    if (question) {
      const id = `resp_${randomUUID().replaceAll("-", "")}`;
      writeSse(res, [
        { type: "response.created", response: { id } },
        {
          type: "response.output_item.done",
          output_index: 0,
          item: {
            type: "message",
            id: `msg_${randomUUID().replaceAll("-", "")}`,
            role: "assistant",
            status: "completed",
            content: [{ type: "output_text", text: cliVisionAnswer(turnInput ?? []), annotations: [] }],
          },
        },
        completedEvent(id),
      ]);
      return true;
    }
    if (!isCliTurn(body)) return false;
    const responseId = `resp_${randomUUID().replaceAll("-", "")}`;
    const input = body.input ?? [];
    const followUp = input.some((item) => item.type === "function_call_output");
    const events: Array<Record<string, unknown>> = [
      { type: "response.created", response: { id: responseId, status: "in_progress" } },
    ];
    if (!followUp && (backend.modelTurn ?? "image") === "image") {
      const userText = lastUserText(input);
      const paths = referencedPaths(input);
      const prompt = backend.imagePrompt?.(userText) ?? userText.replace(/^\s*\$imagegen\b\s*/, "");
      events.push({
        type: "response.output_item.done",
        output_index: 0,
        item: {
          type: "function_call",
          id: `fc_${randomUUID().replaceAll("-", "")}`,
          status: "completed",
          namespace: "image_gen",
          name: "imagegen",
          call_id: `call_${randomUUID().replaceAll("-", "").slice(0, 24)}`,
          arguments: JSON.stringify({
            prompt,
            ...(paths.length > 0 ? { referenced_image_paths: paths } : {}),
          }),
        },
      });
    } else {
      const text = followUp ? "Done." : "I can only describe the picture in words.";
      events.push({
        type: "response.output_item.done",
        output_index: 0,
        item: {
          type: "message",
          id: `msg_${randomUUID().replaceAll("-", "")}`,
          role: "assistant",
          status: "completed",
          content: [{ type: "output_text", text, annotations: [] }],
        },
      });
    }
    events.push(completedEvent(responseId));
    writeSse(res, events);
    return true;
  };

  return [accountsCheck, configBundle, responses];
}

/** `GET /backend-api/codex/models`: a catalog with one model the CLI accepts, for setups without the full fake backend. */
export function fakeCliModelsRoute(): FakeHandler {
  return async (request, res) => {
    if (request.method !== "GET" || pathOf(request) !== "/backend-api/codex/models") return false;
    sendJson(res, 200, { models: [FAKE_CLI_MODEL] });
    return true;
  };
}

interface CliInputItem {
  type?: string;
  role?: string;
  content?: Array<{ type?: string; text?: string }>;
}

interface CliTurnBody {
  tools?: Array<{ type?: string; name?: string; tools?: Array<{ name?: string }> }>;
  input?: CliInputItem[];
}

/**
 * The CLI's turns offer the `image_gen` namespace (function `imagegen`) and never the hosted
 * `image_generation` tool; the codex-http backend's turns are the other way round.
 */
function isCliTurn(body: CliTurnBody | undefined): body is CliTurnBody {
  const tools = body?.tools;
  if (!Array.isArray(tools)) return false;
  if (tools.some((tool) => tool.type === "image_generation")) return false;
  return tools.some(
    (tool) =>
      (tool.type === "namespace" && tool.name === "image_gen") ||
      (tool.type === "function" && tool.name === "imagegen") ||
      tool.tools?.some((inner) => inner.name === "imagegen") === true,
  );
}

/** Without `response.completed` the CLI fails the turn. */
function completedEvent(responseId: string): Record<string, unknown> {
  return {
    type: "response.completed",
    response: {
      id: responseId,
      status: "completed",
      output: [],
      usage: {
        input_tokens: 1,
        input_tokens_details: null,
        output_tokens: 1,
        output_tokens_details: null,
        total_tokens: 2,
      },
    },
  };
}

/** The fake model's answer about `-i` images: how many it was shown and the question between the fences. */
function cliVisionAnswer(input: CliInputItem[]): string {
  let images = 0;
  let question = "";
  for (const item of input) {
    if (item.type !== "message" || item.role !== "user") continue;
    for (const part of item.content ?? []) {
      if (part.type === "input_image") images++;
      const fenced =
        typeof part.text === "string" ? /\nBEGIN (\S+)\n([\s\S]*)\nEND \1/.exec(part.text) : null;
      if (fenced?.[2]) question = fenced[2];
    }
  }
  return `Fake CLI vision answer: I see ${images} image(s). You asked: ${question}`;
}

function lastUserText(input: CliInputItem[]): string {
  let found = "";
  for (const item of input) {
    if (item.type !== "message" || item.role !== "user") continue;
    for (const part of item.content ?? []) {
      if (
        part.type === "input_text" &&
        typeof part.text === "string" &&
        part.text.trimStart().startsWith("$")
      ) {
        found = part.text;
      }
    }
  }
  return found;
}

/** `-i` files show up as `<image name=[Image #1] path="/abs/file.png">` text before each input_image. */
function referencedPaths(input: CliInputItem[]): string[] {
  const paths: string[] = [];
  for (const item of input) {
    if (item.type !== "message" || item.role !== "user") continue;
    for (const part of item.content ?? []) {
      const match =
        typeof part.text === "string" ? /^<image name=[^>]*? path="(.*)">$/.exec(part.text) : null;
      if (!match?.[1]) continue;
      try {
        paths.push(JSON.parse(`"${match[1]}"`) as string);
      } catch {
        paths.push(match[1]);
      }
    }
  }
  return paths;
}

function writeSse(res: ServerResponse, events: Array<Record<string, unknown>>): void {
  res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
  for (const event of events) res.write(`event: ${String(event.type)}\ndata: ${JSON.stringify(event)}\n\n`);
  res.end();
}

function pathOf(request: RecordedRequest): string {
  return request.url.split("?")[0] ?? request.url;
}
