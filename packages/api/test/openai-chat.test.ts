import { sniffImage } from "@codex-img/core";
import { testPng } from "@codex-img/core/testing";
import OpenAI, { type APIError } from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ServedOpenAi, serveOpenAiHarness } from "./support/openai-harness.js";

let served: ServedOpenAi;
let client: OpenAI;

beforeAll(async () => {
  served = await serveOpenAiHarness({ partialImages: 0 });
  client = served.client(await served.createKey());
});

afterAll(async () => {
  await served.close();
});

/** Alt text may hold escaped brackets (`\[demo\]`), as markdown requires. */
const MARKDOWN_IMAGE = /!\[((?:\\.|[^\]\\])*)\]\(data:image\/(\w+);base64,([A-Za-z0-9+/=]+)\)$/;

describe("GET /v1/models", () => {
  it("lists the image models for a key of any scope", async () => {
    const readOnly = served.client(await served.createKey(["jobs:read"]));
    const ids: string[] = [];
    for await (const model of readOnly.models.list()) {
      expect(model).toMatchObject({ object: "model", owned_by: "codex-img" });
      expect(typeof model.created).toBe("number");
      ids.push(model.id);
    }
    expect(ids).toContain("gpt-image-2");
    expect(ids).toContain("gpt-image-1");
    expect(await readOnly.models.retrieve("gpt-image-2")).toMatchObject({ id: "gpt-image-2" });
    await expect(readOnly.models.retrieve("gpt-4o")).rejects.toBeInstanceOf(OpenAI.NotFoundError);
  });

  it("requires a key", async () => {
    await expect(served.client("cimg_wrong").models.list()).rejects.toBeInstanceOf(
      OpenAI.AuthenticationError,
    );
    const response = await fetch(`${served.origin}/v1/models`);
    expect(response.status).toBe(401);
    expect(await response.json()).toMatchObject({
      error: { type: "authentication_error", code: "unauthorized" },
    });
  });
});

describe("POST /v1/chat/completions", () => {
  it("draws the last user message and ends the content with a markdown data-URL image", async () => {
    const completion = await client.chat.completions.create({
      model: "gpt-5.5",
      messages: [
        { role: "system", content: "You draw." },
        { role: "user", content: "ignored earlier turn" },
        { role: "assistant", content: "ok" },
        { role: "user", content: "a watercolour cat" },
      ],
    });
    expect(completion.object).toBe("chat.completion");
    expect(completion.model).toBe("gpt-5.5");
    const choice = completion.choices[0];
    expect(choice?.finish_reason).toBe("stop");
    expect(choice?.message.role).toBe("assistant");
    const match = MARKDOWN_IMAGE.exec(choice?.message.content ?? "");
    expect(match?.[1]).toContain("a watercolour cat");
    expect(match?.[1]).not.toContain("ignored earlier turn");
    expect(match?.[2]).toBe("png");
    expect(sniffImage(new Uint8Array(Buffer.from(match?.[3] ?? "", "base64")))?.format).toBe("png");
  });

  it("turns image parts of the message into references when an image model is asked", async () => {
    const png = Buffer.from(await testPng(64, 64)).toString("base64");
    const { data: completion, response } = await client.chat.completions
      .create({
        model: "gpt-image-2",
        messages: [
          {
            role: "user",
            content: [
              { type: "text", text: "make it blue" },
              { type: "image_url", image_url: { url: `data:image/png;base64,${png}` } },
              { type: "image_url", image_url: { url: `data:image/png;base64,${png}` } },
            ],
          },
        ],
      })
      .withResponse();
    expect(MARKDOWN_IMAGE.test(completion.choices[0]?.message.content ?? "")).toBe(true);
    const job = await served.services.queue.get(response.headers.get("x-codex-img-job-id") ?? "");
    expect(job?.request.prompt).toBe("make it blue");
    expect(job?.request.referenceImages).toHaveLength(2);
  });

  it("answers stream: true with 400 invalid_request_error", async () => {
    const error = await client.chat.completions
      .create({ model: "gpt-5.5", stream: true, messages: [{ role: "user", content: "x" }] })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    expect((error as APIError).param).toBe("stream");
    expect((error as APIError).message).toMatch(/streaming is not supported/i);
  });

  it("needs the edit scope for reference images, and a user message with text", async () => {
    const generateOnly = served.client(await served.createKey(["generate"]));
    const png = Buffer.from(await testPng(64, 64)).toString("base64");
    await expect(
      generateOnly.chat.completions.create({
        model: "x",
        messages: [
          {
            role: "user",
            content: [
              { type: "text", text: "edit" },
              { type: "image_url", image_url: { url: `data:image/png;base64,${png}` } },
            ],
          },
        ],
      }),
    ).rejects.toBeInstanceOf(OpenAI.PermissionDeniedError);
    const noUser = await client.chat.completions
      .create({ model: "x", messages: [{ role: "system", content: "hi" }] })
      .catch((e: unknown) => e);
    expect(noUser).toBeInstanceOf(OpenAI.BadRequestError);
    expect((noUser as APIError).param).toBe("messages");
  });
});
