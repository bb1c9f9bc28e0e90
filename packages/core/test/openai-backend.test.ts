import {
  type BackendEvent,
  CodexImgError,
  createOpenAiBackend,
  type ErrorCode,
  type ImageBackend,
  type Logger,
  type OpenAiBackendOptions,
} from "@codex-img/core";
import {
  type FakeOpenAiApi,
  type FakeOpenAiStep,
  ManualClock,
  startFakeOpenAiApi,
  testImage,
} from "@codex-img/core/testing";
import { afterEach, describe, expect, it } from "vitest";

let fake: FakeOpenAiApi | undefined;

afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

async function setup(
  backendOptions: Partial<OpenAiBackendOptions> = {},
  fakeOptions: Parameters<typeof startFakeOpenAiApi>[0] = {},
): Promise<{ api: FakeOpenAiApi; backend: ImageBackend }> {
  const api = await startFakeOpenAiApi(fakeOptions);
  fake = api;
  const backend = createOpenAiBackend({ apiKey: api.apiKey, baseUrl: api.baseUrl, ...backendOptions });
  return { api, backend };
}

async function failure(promise: Promise<unknown>): Promise<CodexImgError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(CodexImgError);
    return error as CodexImgError;
  }
  throw new Error("expected the call to fail");
}

describe("openai backend: generations", () => {
  it("sends exactly the JSON the Images API expects and returns what the bytes say", async () => {
    const { api, backend } = await setup({ organization: "org-owner" }, { organization: "org-owner" });
    api.push({ kind: "images", revisedPrompt: "a red fox, watercolour" });
    const events: BackendEvent[] = [];

    const result = await backend.generate(
      {
        prompt: "a red fox",
        n: 2,
        size: "1536x1024",
        quality: "high",
        background: "transparent",
        outputFormat: "webp",
      },
      { onEvent: (event) => events.push(event) },
    );

    expect(backend.kind).toBe("openai");
    const [sent] = api.requests;
    expect(sent?.route).toBe("generations");
    expect(sent?.contentType).toMatch(/^application\/json/);
    expect(sent?.json).toEqual({
      prompt: "a red fox",
      model: "gpt-image-2",
      n: 2,
      size: "1536x1024",
      quality: "high",
      background: "transparent",
      output_format: "webp",
    });
    expect(sent?.headers.authorization).toBe(`Bearer ${api.apiKey}`);
    expect(sent?.headers["openai-organization"]).toBe("org-owner");

    expect(result).toMatchObject({
      backend: "openai",
      route: "openai",
      requested: { size: "1536x1024", quality: "high", n: 2 },
      delivered: { size: "1536x1024", quality: "high", background: "transparent", outputFormat: "webp" },
      upstreamIds: { request_id: "req_fake000001" },
    });
    expect(result.images).toHaveLength(2);
    for (const image of result.images) {
      expect(image).toMatchObject({
        format: "webp",
        width: 1536,
        height: 1024,
        revisedPrompt: "a red fox, watercolour",
      });
    }
    expect(JSON.parse(result.diagnostics?.usage ?? "{}")).toMatchObject({ output_tokens: 2112 });
    expect(events).toEqual([
      { type: "progress", stage: "sent" },
      { type: "progress", stage: "receiving" },
    ]);
  });

  it("leaves out unset and auto options and honours the request's model", async () => {
    const { api, backend } = await setup({ model: "gpt-image-1" });
    await backend.generate({ prompt: "a cat", size: "auto", quality: "auto", background: "auto" });
    await backend.generate({ prompt: "a dog", model: "gpt-image-1-mini" });
    expect(api.requests.map((r) => r.json)).toEqual([
      { prompt: "a cat", model: "gpt-image-1" },
      { prompt: "a dog", model: "gpt-image-1-mini" },
    ]);
  });

  it("reads format and dimensions from the bytes, not from the reply's claims", async () => {
    const { api, backend } = await setup();
    api.push({
      kind: "images",
      images: [{ format: "jpeg", width: 640, height: 480 }],
      reply: { size: "1024x1024", output_format: "png" },
    });
    const result = await backend.generate({ prompt: "a lighthouse", size: "1024x1024" });
    expect(result.images[0]).toMatchObject({ format: "jpeg", width: 640, height: 480 });
    expect(result.delivered).toMatchObject({ size: "1024x1024", outputFormat: "png" });
    expect(result.requested).toEqual({ size: "1024x1024", quality: "auto", n: 1 });
  });
});

describe("openai backend: edits", () => {
  it("sends reference images as multipart image[] parts with the right mime types", async () => {
    const { api, backend } = await setup();
    const png = await testImage("png", 64, 48);
    const jpeg = await testImage("jpeg", 32, 32);
    const webp = await testImage("webp", 16, 24);

    const result = await backend.generate({
      prompt: "put them together",
      size: "1024x1536",
      quality: "low",
      n: 1,
      // A declared format that contradicts the bytes loses: the bytes are what upstream checks.
      referenceImages: [{ bytes: png }, { bytes: jpeg, format: "jpeg" }, { bytes: webp, format: "png" }],
    });

    const [sent] = api.requests;
    expect(sent?.route).toBe("edits");
    expect(sent?.contentType).toMatch(/^multipart\/form-data; boundary=/);
    expect(sent?.fields).toEqual({
      prompt: "put them together",
      model: "gpt-image-2",
      n: "1",
      size: "1024x1536",
      quality: "low",
    });
    expect(sent?.files.map(({ name, filename, type, size }) => ({ name, filename, type, size }))).toEqual([
      { name: "image[]", filename: "image-1.png", type: "image/png", size: png.length },
      { name: "image[]", filename: "image-2.jpg", type: "image/jpeg", size: jpeg.length },
      { name: "image[]", filename: "image-3.webp", type: "image/webp", size: webp.length },
    ]);
    expect(sent?.files[1]?.bytes).toEqual(jpeg);
    expect(result.images[0]).toMatchObject({ format: "png", width: 1024, height: 1536 });
  });

  it("passes input_fidelity on edits, where the Images API takes it, and not on generations", async () => {
    const { api, backend } = await setup();
    const png = await testImage("png", 64, 48);
    await backend.generate({
      prompt: "keep the face",
      referenceImages: [{ bytes: png }],
      inputFidelity: "high",
    });
    await backend.generate({ prompt: "a new face", inputFidelity: "high" });
    expect(api.requests.map((r) => [r.route, r.fields.input_fidelity])).toEqual([
      ["edits", "high"],
      ["generations", undefined],
    ]);
  });

  it("rejects an unreadable reference image before spending a request", async () => {
    const { api, backend } = await setup();
    const error = await failure(
      backend.generate({
        prompt: "edit",
        referenceImages: [{ bytes: new TextEncoder().encode("not an image") }],
      }),
    );
    expect(error).toMatchObject({ code: "invalid_request", retryable: false });
    expect(api.rawRequests).toHaveLength(0);
  });
});

describe("openai backend: errors", () => {
  const cases: Array<{
    name: string;
    step: FakeOpenAiStep;
    code: ErrorCode;
    retryable: boolean;
    retryAfterMs?: number;
    message?: RegExp;
    param?: string;
  }> = [
    {
      name: "400 with a param",
      step: {
        kind: "invalid_param",
        param: "size",
        message: "Invalid value: '999x999'. Supported values are: 'auto'.",
      },
      code: "invalid_request",
      retryable: false,
      message: /^Invalid value: '999x999'\. Supported values are: 'auto'\.$/,
      param: "size",
    },
    {
      name: "400 moderation_blocked",
      step: { kind: "moderation_blocked" },
      code: "upstream_refused",
      retryable: false,
      message: /^Your request was rejected as a result of our safety system\./,
    },
    {
      name: "401",
      step: { kind: "invalid_api_key" },
      code: "login_required",
      retryable: false,
      message: /API key was rejected/,
    },
    {
      name: "429 insufficient_quota",
      step: { kind: "insufficient_quota" },
      code: "quota_exhausted",
      retryable: false,
      message: /exceeded your current quota/,
    },
    {
      name: "429 with retry-after",
      step: { kind: "rate_limited", retryAfterSeconds: 7 },
      code: "rate_limited",
      retryable: true,
      retryAfterMs: 7000,
    },
    {
      name: "429 with retry-after-ms",
      step: { kind: "rate_limited", retryAfterMs: 1500, retryAfterSeconds: 2 },
      code: "rate_limited",
      retryable: true,
      retryAfterMs: 1500,
    },
    {
      name: "429 with only x-ratelimit-reset-requests",
      step: {
        kind: "error",
        status: 429,
        body: { error: { message: "slow down", type: "requests", param: null, code: "rate_limit_exceeded" } },
        headers: { "x-ratelimit-reset-requests": "1m30s" },
      },
      code: "rate_limited",
      retryable: true,
      retryAfterMs: 90_000,
    },
    { name: "500", step: { kind: "server_error" }, code: "upstream_failed", retryable: true },
    { name: "503", step: { kind: "server_error", status: 503 }, code: "upstream_failed", retryable: true },
    {
      name: "502 HTML from a proxy",
      step: { kind: "error", status: 502, body: "<html>Bad gateway</html>" },
      code: "upstream_failed",
      retryable: true,
    },
  ];

  it.each(cases)("$name -> $code", async ({ step, code, retryable, retryAfterMs, message, param }) => {
    const { api, backend } = await setup();
    api.push(step);
    const error = await failure(backend.generate({ prompt: "a boat" }));
    expect(error.code).toBe(code);
    expect(error.retryable).toBe(retryable);
    expect(error.retryAfterMs).toBe(retryAfterMs);
    expect(error.details).toMatchObject({ upstreamStatus: expect.any(Number), requestId: "req_fake000001" });
    if (message) expect(error.message).toMatch(message);
    if (param) expect(error.details.param).toBe(param);
  });

  it("takes a retry-after date relative to the injected clock", async () => {
    const clock = new ManualClock();
    const { api, backend } = await setup({ clock });
    api.push({
      kind: "error",
      status: 429,
      body: { error: { message: "busy", type: "requests", code: "rate_limit_exceeded" } },
      headers: { "retry-after": new Date(clock.now() + 30_000).toUTCString() },
    });
    const error = await failure(backend.generate({ prompt: "a boat" }));
    expect(error).toMatchObject({ code: "rate_limited", retryAfterMs: 30_000 });
  });

  it("reports a wrong key as the owner's configuration, not the caller's", async () => {
    const api = await startFakeOpenAiApi();
    fake = api;
    const backend = createOpenAiBackend({
      apiKey: "sk-proj-wrongKeyForTheFake987654321",
      baseUrl: api.baseUrl,
    });
    const error = await failure(backend.generate({ prompt: "a boat" }));
    expect(error).toMatchObject({
      code: "login_required",
      retryable: false,
      details: { upstreamStatus: 401 },
    });
    expect(error.httpStatus).toBe(503);
  });

  it("answers unreachable upstream with upstream_failed", async () => {
    const api = await startFakeOpenAiApi();
    const baseUrl = api.baseUrl;
    await api.close();
    const backend = createOpenAiBackend({ apiKey: api.apiKey, baseUrl });
    const error = await failure(backend.generate({ prompt: "a boat" }));
    expect(error).toMatchObject({ code: "upstream_failed", retryable: true });
  });
});

describe("openai backend: timeouts and cancellation", () => {
  it("times out on the injected clock while upstream stalls", async () => {
    const clock = new ManualClock();
    const { api, backend } = await setup({ clock, timeoutMs: 30_000 });
    api.push({ kind: "stall" });
    let settled = false;
    const call = backend.generate({ prompt: "a slow boat" }).finally(() => {
      settled = true;
    });
    call.catch(() => {});
    await api.waitForRequests(1);

    await clock.advance(29_999);
    expect(settled).toBe(false);
    await clock.advance(1);
    const error = await failure(call);
    expect(error).toMatchObject({ code: "upstream_timeout", retryable: true });
    expect(clock.pendingTimers).toBe(0);
  });

  it("defaults to the SDK's ten minutes", async () => {
    const clock = new ManualClock();
    const { api, backend } = await setup({ clock });
    api.push({ kind: "stall" });
    const call = backend.generate({ prompt: "a slow boat" });
    call.catch(() => {});
    await api.waitForRequests(1);
    await clock.advance(600_000);
    expect((await failure(call)).code).toBe("upstream_timeout");
  });

  it("turns an abort into canceled, mid-request and before it starts", async () => {
    const clock = new ManualClock();
    const { api, backend } = await setup({ clock });
    api.push({ kind: "stall" });
    const controller = new AbortController();
    const call = backend.generate({ prompt: "never mind" }, { signal: controller.signal });
    call.catch(() => {});
    await api.waitForRequests(1);
    controller.abort();
    expect(await failure(call)).toMatchObject({ code: "canceled", retryable: false });
    expect(clock.pendingTimers).toBe(0);

    const early = await failure(backend.generate({ prompt: "no" }, { signal: AbortSignal.abort() }));
    expect(early.code).toBe("canceled");
    expect(api.requests).toHaveLength(1);
  });
});

describe("openai backend: the API key stays secret", () => {
  it("never appears in error messages, details or logs, even when upstream quotes it", async () => {
    // Not shaped like `sk-…`, so the generic redaction cannot be what hides it.
    const apiKey = "owner-platform-key-0123456789-ABCDEFGH";
    const lines: string[] = [];
    const record =
      (level: string) =>
      (message: string, fields?: Record<string, unknown>): void => {
        lines.push(JSON.stringify({ level, message, fields }));
      };
    const logger: Logger = {
      debug: record("debug"),
      info: record("info"),
      warn: record("warn"),
      error: record("error"),
    };
    const { api, backend } = await setup({ apiKey, logger }, { apiKey });
    api.push(
      { kind: "invalid_api_key" },
      { kind: "error", status: 400, body: { error: { message: `bad header Bearer ${apiKey}`, param: "x" } } },
      { kind: "error", status: 500, body: `upstream crashed with key=${apiKey}` },
      { kind: "error", status: 401, body: { error: { message: `Incorrect API key provided: ${apiKey}` } } },
      { kind: "images" },
    );

    const errors: CodexImgError[] = [];
    for (let i = 0; i < 4; i++) errors.push(await failure(backend.generate({ prompt: "a key" })));
    await backend.generate({ prompt: "a key" });

    expect(errors.map((e) => e.code)).toEqual([
      "login_required",
      "invalid_request",
      "upstream_failed",
      "login_required",
    ]);
    for (const error of errors) {
      expect(JSON.stringify(error.toJSON())).not.toContain(apiKey);
      expect(error.message).not.toContain(apiKey);
    }
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines) expect(line).not.toContain(apiKey);
    expect(api.requests[0]?.headers.authorization).toBe(`Bearer ${apiKey}`);
  });
});
