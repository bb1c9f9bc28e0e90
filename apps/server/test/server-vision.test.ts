import { bytesToBase64 } from "@codex-img/core";
import { type FakeCodexBackend, testImage } from "@codex-img/core/testing";
import { type ServerWithLogin, startServerWithLogin } from "@codex-img/server/testing";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

/**
 * Questions about images through a real server process and its Codex login, against the fake backend
 * speaking upstream.md Appendix B: curl-shaped `/v1/vision` and the official SDK's chat completions.
 */
describe("vision through the server against the Codex backend", () => {
  let started: ServerWithLogin | undefined;
  let upstream: FakeCodexBackend;
  let url = "";
  let key = "";

  beforeAll(async () => {
    started = await startServerWithLogin({ prefix: "codex-img-vision-" });
    upstream = started.upstream;
    ({ url, firstKey: key } = started.server);
  }, 40_000);

  afterAll(async () => {
    await started?.close();
  });

  const postVision = (body: unknown): Promise<Response> =>
    fetch(`${url}/v1/vision`, {
      method: "POST",
      headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
      body: JSON.stringify(body),
    });

  it("answers /v1/vision with the model's text from a Responses call with input_image parts and no tool", async () => {
    const png = bytesToBase64(await testImage("png", 64, 48, 7));
    const webp = bytesToBase64(await testImage("webp", 32, 32, 8));
    const reply = await postVision({ prompt: "What is in these pictures?", images_base64: [png, webp] });
    expect(reply.status).toBe(200);
    const body = (await reply.json()) as { id: string; text: string };
    expect(body.id).toMatch(/^vis_/);
    // The fake streams the answer twice over (deltas and the item): it must arrive once.
    expect(body.text).toBe(
      "Fake vision answer: I see 2 image(s) (png, webp). You asked: What is in these pictures?",
    );
    const sent = upstream.requests.filter((r) => r.url.endsWith("/responses")).at(-1);
    expect(sent?.headers["chatgpt-account-id"]).toBe(started?.login.accountId);
    const json = sent?.json as { tools?: unknown; stream: boolean; store: boolean; input: unknown };
    expect(json.tools).toEqual([]);
    expect(json).toMatchObject({ stream: true, store: false });
    expect(JSON.stringify(json.input)).toContain('"type":"input_image"');
  });

  it("answers 502 when upstream gives no answer, never an empty 200", async () => {
    upstream.script.responses.push({ kind: "answer", text: "" });
    const png = bytesToBase64(await testImage("png", 16, 16, 9));
    const reply = await postVision({ prompt: "anything there?", images_base64: [png] });
    expect(reply.status).toBe(502);
    const body = (await reply.json()) as { id: string; error: { code: string } };
    expect(body.error.code).toBe("upstream_failed");
    expect(body.id).toMatch(/^vis_/);
  });

  it("answers the OpenAI SDK's chat.completions.create with an image part as text", async () => {
    const client = new OpenAI({ baseURL: `${url}/v1`, apiKey: key });
    const png = bytesToBase64(await testImage("png", 24, 24, 10));
    const completion = await client.chat.completions.create({
      model: "gpt-5.5",
      messages: [
        {
          role: "user",
          content: [
            { type: "text", text: "Describe the image." },
            { type: "image_url", image_url: { url: `data:image/png;base64,${png}` } },
          ],
        },
      ],
    });
    expect(completion.choices[0]?.message.content).toBe(
      "Fake vision answer: I see 1 image(s) (png). You asked: Describe the image.",
    );
    const sent = upstream.requests.filter((r) => r.url.endsWith("/responses")).at(-1);
    expect(sent?.json).toMatchObject({ model: "gpt-5.5" });
  });
});
