import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { base64ToBytes, createCodexHttpBackend, createFileImageStore, sniffImage } from "@codex-img/core";
import { type FakeCodexBackend, startFakeCodexBackend, testImage } from "@codex-img/core/testing";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  accountOptions,
  exactFetch,
  recordingCredentials,
  TEST_CLIENT,
} from "./support/codex-http-fixtures.js";

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

let fake: FakeCodexBackend;
beforeEach(async () => {
  fake = await startFakeCodexBackend();
});
afterEach(async () => {
  await fake.close();
});

const backendFor = (extra: Parameters<typeof createCodexHttpBackend>[0] = {}) =>
  createCodexHttpBackend({ baseUrl: fake.baseUrl, client: TEST_CLIENT, fetch: exactFetch, ...extra });

describe("codex-http native route", () => {
  it("sends the official CLI's headers in its order and its body fields (Appendix A)", async () => {
    const credentials = recordingCredentials();
    await backendFor().generate(
      { prompt: "a red fox", size: "1024x1536", quality: "low" },
      accountOptions(credentials),
    );
    expect(fake.mismatches).toEqual([]);
    const [request] = fake.requests;
    expect(request?.url).toBe("/backend-api/codex/images/generations");
    const turn = request?.rawHeaders.find(([name]) => name === "x-codex-image-turn-id")?.[1] ?? "";
    expect(turn).toMatch(UUID_V7);
    const metadata = JSON.parse(String(request?.headers["x-codex-turn-metadata"]));
    expect(metadata.turn_id).toBe(turn);
    expect(metadata.session_id).toMatch(UUID_V7);
    expect(
      request?.rawHeaders.map(([name, value]) => (name === "x-codex-turn-metadata" ? [name] : [name, value])),
    ).toEqual([
      ["version", "0.169.0"],
      ["x-codex-image-turn-id", turn],
      ["x-codex-turn-metadata"],
      ["authorization", `Bearer ${credentials.tokens[0]?.accessToken}`],
      ["chatgpt-account-id", "acct-test-1"],
      ["content-type", "application/json"],
      ["originator", "codex_exec"],
      ["user-agent", "codex_exec/0.169.0 (Debian 12.0.0; x86_64) xterm (codex_exec; 0.169.0)"],
      ["accept", "*/*"],
      ["host", new URL(fake.origin).host],
      ["content-length", String(request?.body.length)],
    ]);
    // Key order included: the CLI never sends `n` for one image and never `background: auto`.
    expect(request?.body.toString("utf8")).toBe(
      '{"prompt":"a red fox","background":"opaque","model":"gpt-image-2","quality":"low","size":"1024x1536"}',
    );
  });

  it("sends n only when more than one image is asked, and transparent only when asked", async () => {
    await backendFor().generate(
      { prompt: "two cats", n: 2, background: "transparent" },
      accountOptions(recordingCredentials()),
    );
    expect(fake.mismatches).toEqual([]);
    expect(fake.requests[0]?.body.toString("utf8")).toBe(
      '{"prompt":"two cats","background":"transparent","model":"gpt-image-2","quality":"auto","size":"auto","n":2}',
    );
  });

  it("the fake fails a request that differs from the CLI's (the runtime's own fetch adds headers)", async () => {
    const error = await createCodexHttpBackend({ baseUrl: fake.baseUrl, client: TEST_CLIENT })
      .generate({ prompt: "x" }, accountOptions(recordingCredentials()))
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(error).toMatchObject({ code: "upstream_refused" });
    expect(fake.mismatches[0]?.differences.join("\n")).toMatch(/headers .*accept-encoding|Accept-Encoding/);
  });

  it("reports requested and delivered size and quality, with real dimensions read from the bytes", async () => {
    fake.script.images.push({
      kind: "image",
      width: 1254,
      height: 1254,
      quality: "medium",
      revisedPrompt: "a fox, revised",
    });
    const options = accountOptions(recordingCredentials());
    const result = await backendFor().generate(
      { prompt: "a fox", size: "2048x2048", quality: "high" },
      options,
    );
    expect(result).toMatchObject({
      backend: "codex-http",
      route: "native",
      requested: { size: "2048x2048", quality: "high", n: 1 },
      delivered: { size: "1254x1254", quality: "medium", outputFormat: "png", background: "opaque" },
    });
    expect(result.images).toHaveLength(1);
    expect(result.images[0]).toMatchObject({
      format: "png",
      width: 1254,
      height: 1254,
      revisedPrompt: "a fox, revised",
    });
    expect(sniffImage(result.images[0]?.bytes ?? new Uint8Array())).toEqual({
      format: "png",
      width: 1254,
      height: 1254,
    });
    expect(result.upstreamIds.imagegen_request_id).toMatch(/^igr_/);
    expect(result.upstreamIds.image_turn_id).toBe(fake.requests[0]?.headers["x-codex-image-turn-id"]);
    expect(options.events.map((e) => e.type)).toEqual(["route", "progress", "quota", "progress"]);
  });

  it("trusts the bytes, not the reply, for the format", async () => {
    fake.script.images.push({ kind: "image", format: "jpeg", width: 640, height: 480 });
    const result = await backendFor().generate({ prompt: "x" }, accountOptions(recordingCredentials()));
    expect(result.images[0]).toMatchObject({ format: "jpeg", width: 640, height: 480 });
  });

  it("sends n and returns every image", async () => {
    const result = await backendFor().generate(
      { prompt: "two cats", n: 2 },
      accountOptions(recordingCredentials()),
    );
    expect(fake.requests[0]?.json).toMatchObject({ n: 2 });
    expect(result.images).toHaveLength(2);
    expect(result.requested.n).toBe(2);
  });

  it("edits with references inlined as data URLs", async () => {
    const png = await testImage("png", 64, 64, 3);
    const jpeg = await testImage("jpeg", 80, 64);
    await backendFor().generate(
      { prompt: "merge these", referenceImages: [{ bytes: png }, { bytes: jpeg }], background: "opaque" },
      accountOptions(recordingCredentials()),
    );
    const [request] = fake.requests;
    expect(request?.url).toBe("/backend-api/codex/images/edits");
    const body = request?.json as { images: Array<{ image_url: string }>; background: string };
    expect(body.background).toBe("opaque");
    expect(body.images).toHaveLength(2);
    expect(body.images[0]?.image_url.startsWith("data:image/png;base64,")).toBe(true);
    expect(body.images[1]?.image_url.startsWith("data:image/jpeg;base64,")).toBe(true);
    expect(base64ToBytes(body.images[0]?.image_url.split(",")[1] ?? "")).toEqual(png);
  });

  it("sends image-sized references byte-exact, with a known length, on both routes", async () => {
    // 200+ KB each: past the size at which the body keeps data URLs out of the serialized JSON string.
    const big = await testImage("png", 256, 256, 5);
    const other = await testImage("png", 256, 256, 6);
    expect(big.length).toBeGreaterThan(64 * 1024);
    fake.script.images.push({ kind: "route_missing" });
    await backendFor().generate(
      { prompt: 'quote " and \\ backslash', referenceImages: [{ bytes: big }, { bytes: other }] },
      accountOptions(recordingCredentials()),
    );
    const [native, responses] = fake.requests;
    const nativeBody = native?.json as { prompt: string; images: Array<{ image_url: string }> };
    expect(nativeBody.prompt).toBe('quote " and \\ backslash');
    expect(nativeBody.images.map((image) => base64ToBytes(image.image_url.split(",")[1] ?? ""))).toEqual([
      big,
      other,
    ]);
    expect(Number(native?.headers["content-length"])).toBe(native?.body.length);
    const responsesBody = responses?.json as
      | { input: Array<{ content: Array<{ image_url?: string }> }> }
      | undefined;
    const content = responsesBody?.input[1]?.content;
    expect(base64ToBytes(content?.[1]?.image_url?.split(",")[1] ?? "")).toEqual(other);
    expect(Number(responses?.headers["content-length"])).toBe(responses?.rawBodyLength);
  });

  it("streams stored references from the store into the edit body, and refuses a missing one", async () => {
    const dir = await mkdtemp(join(tmpdir(), "codex-img-refs-"));
    try {
      const store = createFileImageStore({ dir });
      const first = await testImage("png", 300, 300, 7);
      const second = await testImage("jpeg", 200, 100, 8);
      const refs = [];
      for (const [bytes, format] of [
        [first, "png"],
        [second, "jpeg"],
      ] as const) {
        const stored = await store.put(bytes, { format, prefix: "ref" });
        const info = sniffImage(bytes);
        refs.push({
          key: stored.key,
          format,
          width: info?.width ?? 0,
          height: info?.height ?? 0,
          bytes: stored.bytes,
        });
      }
      const result = await backendFor().generateInto(
        { prompt: "blend them", storedReferences: refs },
        store,
        accountOptions(recordingCredentials()),
      );
      expect(fake.mismatches).toEqual([]);
      const [request] = fake.requests;
      expect(request?.url).toBe("/backend-api/codex/images/edits");
      const body = request?.json as { images: Array<{ image_url: string }> };
      expect(body.images.map((image) => image.image_url.slice(0, 23))).toEqual([
        "data:image/png;base64,i",
        "data:image/jpeg;base64,",
      ]);
      expect(body.images.map((image) => base64ToBytes(image.image_url.split(",")[1] ?? ""))).toEqual([
        first,
        second,
      ]);
      // The length is known before the body is read, and sent after host as the CLI does.
      expect(request?.rawHeaders.slice(-2).map(([name]) => name)).toEqual(["host", "content-length"]);
      expect(Number(request?.headers["content-length"])).toBe(request?.body.length);
      expect(result.images).toHaveLength(1);

      // The /responses route streams them too, inside its zstd frame.
      const viaResponses = await backendFor({ initialRoute: "responses" }).generateInto(
        { prompt: "blend them", storedReferences: refs },
        store,
        accountOptions(recordingCredentials()),
      );
      expect(viaResponses.route).toBe("responses");
      expect(fake.mismatches).toEqual([]);
      const turn = fake.requests[1];
      const turnBody = turn?.json as { input: Array<{ content: Array<{ image_url?: string }> }> } | undefined;
      const parts = turnBody?.input[1]?.content;
      expect(parts?.slice(0, 2).map((part) => base64ToBytes(part.image_url?.split(",")[1] ?? ""))).toEqual([
        first,
        second,
      ]);
      expect(Number(turn?.headers["content-length"])).toBe(turn?.rawBodyLength);
      await Promise.all(viaResponses.images.map((image) => store.delete(image.stored.key)));

      await store.delete(refs[1]?.key ?? "");
      const error = await backendFor()
        .generateInto(
          { prompt: "blend them", storedReferences: refs },
          store,
          accountOptions(recordingCredentials()),
        )
        .then(
          () => undefined,
          (caught: unknown) => caught,
        );
      expect(error).toMatchObject({ code: "invalid_request", retryable: false });
      expect(fake.requests).toHaveLength(2);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("parses the quota headers of the reply into a snapshot", async () => {
    fake.quota.primaryUsedPercent = 42;
    fake.quota.secondaryUsedPercent = 7.5;
    fake.quota.activeLimit = "codex";
    fake.quota.creditsBalance = "12.5";
    const before = Date.now();
    const options = accountOptions(recordingCredentials());
    const result = await backendFor().generate({ prompt: "x" }, options);
    expect(result.quota).toMatchObject({
      primary: { usedPercent: 42, windowMinutes: 300 },
      secondary: { usedPercent: 7.5, windowMinutes: 10080 },
      planType: "plus",
      activeLimit: "codex",
      credits: { hasCredits: false, unlimited: false, balance: "12.5" },
    });
    expect(result.quota?.primary?.resetsAt).toBeGreaterThanOrEqual(
      Math.floor(before / 1000) * 1000 + 9000_000 - 1000,
    );
    expect(options.events.find((e) => e.type === "quota")).toEqual({ type: "quota", snapshot: result.quota });
  });
});

describe("codex-http responses route", () => {
  it("falls back on 404, remembers the route per account and sends the §2b body", async () => {
    fake.script.images.push({ kind: "route_missing" });
    const backend = backendFor();
    const credentials = recordingCredentials();
    const options = accountOptions(credentials);
    const first = await backend.generate({ prompt: "a boat", size: "1024x1024", quality: "high" }, options);
    expect(first.route).toBe("responses");
    expect(first.requested).toEqual({ size: "1024x1024", quality: "high", n: 1 });
    expect(first.delivered).toMatchObject({ size: "1024x1024", quality: "high", outputFormat: "png" });
    expect(first.images[0]).toMatchObject({ format: "png", width: 1024, height: 1024 });
    expect(first.upstreamIds.response_id).toMatch(/^resp_/);
    expect(first.upstreamIds.session_id).toMatch(UUID_V7);
    expect(options.events).toContainEqual({
      type: "route",
      route: "responses",
      reason: "native image route answered 404",
    });
    expect(backend.rememberedRoute("work")).toBe("responses");

    expect(fake.requests.map((r) => r.url)).toEqual([
      "/backend-api/codex/images/generations",
      "/backend-api/codex/responses",
    ]);
    expect(fake.mismatches).toEqual([]);
    const responses = fake.requests[1];
    const thread = String(responses?.headers["session-id"]);
    expect(thread).toMatch(UUID_V7);
    expect(first.upstreamIds.session_id).toBe(thread);
    expect(responses?.contentEncoding).toBe("zstd");
    expect(responses?.rawHeaders.map(([name]) => name)).toEqual([
      "version",
      "x-codex-beta-features",
      "x-codex-window-id",
      "x-codex-turn-metadata",
      "x-codex-routing-hint",
      "x-client-request-id",
      "session-id",
      "thread-id",
      "accept",
      "content-encoding",
      "content-type",
      "authorization",
      "chatgpt-account-id",
      "originator",
      "user-agent",
      "host",
      "content-length",
    ]);
    expect(responses?.headers).toMatchObject({
      "x-codex-window-id": `${thread}:0`,
      "x-client-request-id": thread,
      "thread-id": thread,
      "x-codex-routing-hint": "model=gpt-5.5",
      accept: "text/event-stream",
    });
    const body = responses?.json as Record<string, unknown>;
    expect(Object.keys(body)).toEqual([
      "model",
      "stream",
      "input",
      "tools",
      "tool_choice",
      "parallel_tool_calls",
      "reasoning",
      "store",
      "include",
      "prompt_cache_key",
      "client_metadata",
    ]);
    expect(body).toMatchObject({
      model: "gpt-5.5",
      input: [
        {
          type: "message",
          role: "developer",
          content: [
            { type: "input_text", text: "Use the image_generation tool to create the requested image." },
          ],
        },
        { type: "message", role: "user", content: [{ type: "input_text", text: "a boat" }] },
      ],
      tools: [{ type: "image_generation", output_format: "png", size: "1024x1024", quality: "high" }],
      parallel_tool_calls: true,
      reasoning: { effort: "low", summary: "auto" },
      prompt_cache_key: thread,
      client_metadata: { session_id: thread, thread_id: thread },
    });

    // The same account goes straight to /responses; another account still tries the native route first.
    await backend.generate({ prompt: "again" }, accountOptions(credentials));
    expect(fake.requests.map((r) => r.url).slice(2)).toEqual(["/backend-api/codex/responses"]);
    await backend.generate({ prompt: "other" }, accountOptions(recordingCredentials(), "home"));
    expect(fake.requests.at(-1)?.url).toBe("/backend-api/codex/images/generations");
    expect(backend.rememberedRoute("home")).toBe("native");
  });

  it("falls back on 405 too, and puts references before the prompt", async () => {
    fake.script.images.push({ kind: "route_missing", status: 405 });
    const reference = await testImage("webp", 32, 32);
    const result = await backendFor({ carrierModel: "gpt-5.4" }).generate(
      {
        prompt: "restyle",
        referenceImages: [{ bytes: reference }],
        outputFormat: "webp",
        background: "transparent",
      },
      accountOptions(recordingCredentials()),
    );
    expect(fake.requests[0]?.url).toBe("/backend-api/codex/images/edits");
    const body = fake.requests[1]?.json as {
      model: string;
      input: Array<{ content: Array<Record<string, string>> }>;
      tools: unknown[];
    };
    expect(body.model).toBe("gpt-5.4");
    expect(fake.mismatches).toEqual([]);
    expect(body.input[1]?.content.map((c) => c.type)).toEqual(["input_image", "input_text"]);
    expect(body.input[1]?.content[0]?.image_url?.startsWith("data:image/webp;base64,")).toBe(true);
    expect(body.tools).toEqual([
      {
        type: "image_generation",
        output_format: "webp",
        size: "auto",
        quality: "auto",
        background: "transparent",
      },
    ]);
    expect(result.images[0]?.format).toBe("webp");
  });

  it("reports partial images as events and asks for them in the tool", async () => {
    fake.script.responses.push({ kind: "image", partials: 2, width: 512, height: 512 });
    const options = accountOptions(recordingCredentials());
    const result = await backendFor({ initialRoute: "responses", partialImages: 2 }).generate(
      { prompt: "x" },
      options,
    );
    expect(
      (fake.requests[0]?.json as { tools: Array<Record<string, unknown>> } | undefined)?.tools[0]
        ?.partial_images,
    ).toBe(2);
    const partials = options.events.filter((e) => e.type === "partial_image");
    expect(partials).toHaveLength(2);
    expect(
      partials.map((p) => (p.type === "partial_image" ? [p.index, p.image.partial, p.image.width] : [])),
    ).toEqual([
      [0, true, 128],
      [1, true, 128],
    ]);
    expect(
      options.events.filter((e) => e.type === "progress").map((e) => (e.type === "progress" ? e.stage : "")),
    ).toEqual(["sent", "queued", "generating", "receiving"]);
    expect(result.images[0]).toMatchObject({ width: 512, height: 512 });
    expect(result.images[0]?.partial).toBeUndefined();
  });

  it("returns the last partial, marked partial, when the stream completes without a final image", async () => {
    fake.script.responses.push({ kind: "partials_only", partials: 3 });
    const result = await backendFor({ initialRoute: "responses", partialImages: 3 }).generate(
      { prompt: "x", size: "1024x1024" },
      accountOptions(recordingCredentials()),
    );
    expect(result.images).toHaveLength(1);
    expect(result.images[0]).toMatchObject({ partial: true, format: "png", width: 256, height: 256 });
    expect(result.diagnostics?.partialResult).toMatch(/last partial image 2/);
  });

  it("returns the last partial when the stream is cut after partials", async () => {
    fake.script.responses.push({ kind: "cut", partials: 1 });
    const result = await backendFor({ initialRoute: "responses", partialImages: 1 }).generate(
      { prompt: "x" },
      accountOptions(recordingCredentials()),
    );
    expect(result.images[0]?.partial).toBe(true);
    expect(result.diagnostics?.partialResult).toMatch(/stream cut/);
  });

  it("takes the quota from a codex.rate_limits event", async () => {
    fake.quota.primaryUsedPercent = 61;
    fake.script.responses.push({ kind: "image", rateLimitsEvent: true });
    const options = accountOptions(recordingCredentials());
    const result = await backendFor({ initialRoute: "responses" }).generate({ prompt: "x" }, options);
    expect(options.events.filter((e) => e.type === "quota")).toHaveLength(2);
    expect(result.quota).toMatchObject({
      primary: { usedPercent: 61, windowMinutes: 300 },
      planType: "plus",
    });
  });
});
