import { parseWhamUsage } from "@codex-img/core";
import { FAKE_MODELS_CATALOG, type FakeCodexBackend, startFakeCodexBackend } from "@codex-img/core/testing";
import { afterEach, beforeEach, describe, expect, it } from "vitest";

let fake: FakeCodexBackend;
beforeEach(async () => {
  fake = await startFakeCodexBackend({ cliFidelity: "off" });
});
afterEach(async () => {
  await fake.close();
});

const clientHeaders = {
  authorization: "Bearer test-token",
  "chatgpt-account-id": "acct-1",
  originator: "codex_cli_rs",
  "content-type": "application/json",
};

const validResponsesBody = {
  model: "gpt-5.5",
  instructions: "Use the image_generation tool to create the requested image.",
  input: [{ type: "message", role: "user", content: [{ type: "input_text", text: "x" }] }],
  tools: [{ type: "image_generation", output_format: "png", size: "auto", quality: "auto" }],
  tool_choice: "auto",
  store: false,
  stream: true,
};

async function post(
  path: string,
  body: unknown,
  headers: Record<string, string> = clientHeaders,
): Promise<Response> {
  return fetch(`${fake.baseUrl}${path}`, {
    method: "POST",
    headers,
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
}

describe("fake Codex backend validates like upstream", () => {
  it("answers a Cloudflare block page without originator", async () => {
    const { originator: _, ...rest } = clientHeaders;
    const reply = await post("/images/generations", { prompt: "x" }, rest);
    expect(reply.status).toBe(403);
    expect(reply.headers.get("content-type")).toMatch(/text\/html/);
    expect(await reply.text()).toMatch(/Attention Required/);
  });

  it.each([
    [{ store: true }, "Store must be set to false"],
    [{ max_output_tokens: 100 }, "Unsupported parameter: max_output_tokens"],
    [
      { tool_choice: { type: "image_generation" } },
      "Tool choice 'image_generation' not found in 'tools' parameter.",
    ],
    [{ model: "gpt-5.3-codex" }, "Tool 'image_generation' is not supported with gpt-5.3-codex."],
  ])("rejects /responses with %j", async (change, message) => {
    const reply = await post("/responses", { ...validResponsesBody, ...change });
    expect(reply.status).toBe(400);
    expect(await reply.json()).toEqual({ detail: message });
  });

  it("rejects multipart and remote URLs on /images/*", async () => {
    const multipart = await post("/images/edits", "--x\r\n", {
      ...clientHeaders,
      "content-type": "multipart/form-data; boundary=x",
    });
    expect(multipart.status).toBe(400);
    const remote = await post("/images/edits", {
      prompt: "x",
      images: [{ image_url: "https://example.com/a.png" }],
    });
    expect(remote.status).toBe(400);
    expect(((await remote.json()) as { error: { message: string } }).error.message).toBe(
      "Error while downloading file",
    );
  });

  it("serves the model catalog, the usage snapshot and quota headers", async () => {
    const models = await fetch(`${fake.baseUrl}/models?client_version=0.169.0`);
    expect(await models.json()).toEqual(FAKE_MODELS_CATALOG);
    fake.quota.primaryUsedPercent = 55;
    const usage = await fetch(`${fake.chatgptBaseUrl}wham/usage`, { headers: { authorization: "Bearer t" } });
    expect(parseWhamUsage(await usage.json(), Date.now())).toMatchObject({
      primary: { usedPercent: 55, windowMinutes: 300 },
      secondary: { windowMinutes: 10080 },
      planType: "plus",
    });
    const image = await post("/images/generations", { prompt: "x", size: "64x64" });
    expect(image.headers.get("x-codex-primary-used-percent")).toBe("55");
    expect(image.headers.get("x-codex-imagegen-request-id")).toMatch(/^igr_/);
  });

  it("mounts the token endpoint and streams a hosted-tool reply", async () => {
    expect(fake.tokenUrl).toBe(`${fake.origin}/oauth/token`);
    const reply = await post("/responses", validResponsesBody, {
      ...clientHeaders,
      accept: "text/event-stream",
    });
    expect(reply.headers.get("content-type")).toBe("text/event-stream");
    const text = await reply.text();
    expect(text).toMatch(/event: response.output_item.done\ndata: \{"type":"response.output_item.done"/);
    expect(text).toMatch(/event: response.completed/);
  });
});
