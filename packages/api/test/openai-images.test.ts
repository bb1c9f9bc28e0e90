import { createHash } from "node:crypto";
import { sniffImage } from "@codex-img/core";
import { testImage, testPng } from "@codex-img/core/testing";
import OpenAI, { toFile } from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ServedOpenAi, serveOpenAiHarness } from "./support/openai-harness.js";

let served: ServedOpenAi;
let client: OpenAI;

beforeAll(async () => {
  served = await serveOpenAiHarness();
  client = served.client(await served.createKey());
});

afterAll(async () => {
  await served.close();
});

function decode(b64: string | undefined): Uint8Array {
  return new Uint8Array(Buffer.from(b64 ?? "", "base64"));
}

describe("POST /v1/images/generations through the openai SDK", () => {
  it("answers b64_json that decodes to a real PNG, in the Images API reply shape", async () => {
    const { data: reply, response } = await client.images
      .generate({ model: "gpt-image-2", prompt: "a green leaf", size: "1024x1536", quality: "low" })
      .withResponse();
    expect(response.headers.get("x-codex-img-job-id")).toMatch(/^img_/);
    expect(reply.data).toHaveLength(1);
    const info = sniffImage(decode(reply.data?.[0]?.b64_json));
    expect(info).toMatchObject({ format: "png", width: 1024, height: 1536 });
    expect(reply).toMatchObject({
      output_format: "png",
      // What the backend reported: the demo draws an opaque placeholder and reports the quality asked for
      // (OpenAI's enum has no "demo"; the `[demo]` revised prompt labels it).
      quality: "low",
      size: "1024x1536",
      background: "opaque",
      usage: { input_tokens: 0, output_tokens: 0, total_tokens: 0, input_tokens_details: { text_tokens: 0 } },
    });
    expect(reply.data?.[0]?.revised_prompt).toBe("[demo] a green leaf");
    expect(typeof reply.created).toBe("number");
  });

  it("accepts other model names and n > 1, and maps the model to what the backend serves", async () => {
    const { data: reply, response } = await client.images
      .generate({ model: "dall-e-3", prompt: "two cats", n: 2, size: "256x256", quality: "hd" })
      .withResponse();
    expect(reply.data).toHaveLength(2);
    const job = await served.services.queue.get(response.headers.get("x-codex-img-job-id") ?? "");
    expect(job?.request).toMatchObject({ model: "gpt-image-2", quality: "high", n: 2 });
  });

  it("streams every image's base64 byte-exact from the store, beside a prompt with quotes and NULs", async () => {
    const prompt = 'two "quoted" birds\u0000\\ {"b64_json":"x"}';
    const { data: reply, response } = await client.images
      .generate({ prompt, n: 2, size: "1536x1024" })
      .withResponse();
    const job = await served.services.queue.get(response.headers.get("x-codex-img-job-id") ?? "");
    const stored = await Promise.all(
      (job?.images ?? []).map(async (image) => served.services.images.get(image.key)),
    );
    expect(stored).toHaveLength(2);
    expect(reply.data?.map((image) => decode(image.b64_json))).toEqual(stored);
    expect(reply.data?.map((image) => image.revised_prompt)).toEqual([
      expect.stringContaining(prompt),
      expect.stringContaining(prompt),
    ]);
    expect(Number(response.headers.get("content-length"))).toBeGreaterThan(0);
  });

  it("answers a fetchable url with response_format url", async () => {
    const reply = await client.images.generate({
      prompt: "a url please",
      response_format: "url",
      size: "512x512",
    });
    const url = reply.data?.[0]?.url ?? "";
    expect(url.startsWith(`${served.origin}/generated/`)).toBe(true);
    expect(reply.data?.[0]?.b64_json).toBeUndefined();
    const fetched = await fetch(url);
    expect(fetched.status).toBe(200);
    expect(sniffImage(new Uint8Array(await fetched.arrayBuffer()))).toMatchObject({
      width: 512,
      height: 512,
    });
  });

  it("streams partial images then image_generation.completed", async () => {
    const stream = await client.images.generate({
      prompt: "streamed",
      stream: true,
      partial_images: 2,
      size: "256x256",
    });
    const types: string[] = [];
    let completed: OpenAI.Images.ImageGenCompletedEvent | undefined;
    for await (const event of stream) {
      types.push(event.type);
      if (event.type === "image_generation.partial_image") {
        expect(event.partial_image_index).toBe(types.length - 1);
        expect(sniffImage(decode(event.b64_json))?.format).toBe("png");
        expect(event).toMatchObject({
          size: "32x32",
          output_format: "png",
          quality: "auto",
          background: "auto",
        });
        expect(typeof event.created_at).toBe("number");
      }
      if (event.type === "image_generation.completed") completed = event;
    }
    expect(types).toEqual([
      "image_generation.partial_image",
      "image_generation.partial_image",
      "image_generation.completed",
    ]);
    expect(sniffImage(decode(completed?.b64_json))).toMatchObject({ width: 256, height: 256 });
    expect(completed?.usage.total_tokens).toBe(0);
  });

  it("sends no more partial images than asked for", async () => {
    const stream = await client.images.generate({ prompt: "one partial", stream: true, partial_images: 1 });
    const types: string[] = [];
    for await (const event of stream) types.push(event.type);
    expect(types).toEqual(["image_generation.partial_image", "image_generation.completed"]);
  });
});

describe("POST /v1/images/edits", () => {
  it("takes several files as image[] multipart and gives the job that many references", async () => {
    const files = await Promise.all([
      toFile(await testPng(64, 64), "a.png", { type: "image/png" }),
      toFile(await testImage("jpeg", 80, 64), "b.jpg", { type: "image/jpeg" }),
      toFile(await testImage("webp", 64, 96), "c.webp", { type: "image/webp" }),
    ]);
    const { data: reply, response } = await client.images
      .edit({ image: files, prompt: "combine them", size: "1024x1024" })
      .withResponse();
    expect(sniffImage(decode(reply.data?.[0]?.b64_json))?.format).toBe("png");
    const job = await served.services.queue.get(response.headers.get("x-codex-img-job-id") ?? "");
    expect(job?.request.referenceImages.map((ref) => ref.format)).toEqual(["png", "jpeg", "webp"]);
  });

  it("stores multipart references byte-exact from the chunks they arrive in", async () => {
    const png = await testImage("png", 300, 200, 4);
    const jpeg = await testImage("jpeg", 80, 64);
    const form = new FormData();
    form.set("prompt", "from pieces");
    form.append("image[]", new Blob([png as Uint8Array<ArrayBuffer>], { type: "image/png" }), "a.png");
    form.append("image[]", new Blob([jpeg as Uint8Array<ArrayBuffer>], { type: "image/jpeg" }), "b.jpg");
    const encoded = new Response(form);
    const body = new Uint8Array(await encoded.arrayBuffer());
    // Odd-sized chunks, so parts, PNG chunk headers and CRCs straddle the chunks the server receives.
    let at = 0;
    const response = await fetch(`${served.origin}/v1/images/edits`, {
      method: "POST",
      headers: {
        authorization: `Bearer ${await served.createKey()}`,
        "content-type": encoded.headers.get("content-type") ?? "",
        "content-length": String(body.length),
      },
      body: new ReadableStream<Uint8Array>({
        pull(controller) {
          if (at >= body.length) return controller.close();
          controller.enqueue(body.slice(at, at + 997));
          at += 997;
        },
      }),
      duplex: "half",
    } as RequestInit);
    expect(response.status).toBe(200);
    const job = await served.services.queue.get(response.headers.get("x-codex-img-job-id") ?? "");
    const refs = job?.request.referenceImages ?? [];
    expect(refs.map((ref) => [ref.format, ref.width, ref.height])).toEqual([
      ["png", 300, 200],
      ["jpeg", 80, 64],
    ]);
    for (const [index, sent] of [png, jpeg].entries()) {
      const ref = refs[index];
      expect(ref?.sha256).toBe(createHash("sha256").update(sent).digest("hex"));
      expect(ref?.key ? await served.services.images.get(ref.key) : undefined).toEqual(sent);
    }
  });

  it("takes a single file as image and ignores a mask, saying so", async () => {
    const { response } = await client.images
      .edit({
        image: await toFile(await testPng(64, 64), "one.png", { type: "image/png" }),
        mask: await toFile(await testPng(64, 64), "mask.png", { type: "image/png" }),
        prompt: "edit one",
      })
      .withResponse();
    expect(response.headers.get("x-codex-img-warning")).toContain("mask");
    const job = await served.services.queue.get(response.headers.get("x-codex-img-job-id") ?? "");
    expect(job?.request.referenceImages).toHaveLength(1);
  });

  it("passes input_fidelity of an edit on to the backend, from the SDK's multipart and from JSON", async () => {
    const { response } = await client.images
      .edit({
        image: await toFile(await testPng(64, 64), "face.png", { type: "image/png" }),
        prompt: "keep the face",
        input_fidelity: "high",
      })
      .withResponse();
    const job = await served.services.queue.get(response.headers.get("x-codex-img-job-id") ?? "");
    expect(job?.request.inputFidelity).toBe("high");
    expect(served.backendCalls.at(-1)?.inputFidelity).toBe("high");

    const png = Buffer.from(await testPng(64, 64)).toString("base64");
    const refused = await fetch(`${served.origin}/v1/images/edits`, {
      method: "POST",
      headers: { authorization: `Bearer ${client.apiKey}`, "content-type": "application/json" },
      body: JSON.stringify({ prompt: "x", images: [{ image_url: png }], input_fidelity: "max" }),
    });
    expect(refused.status).toBe(400);
    expect(((await refused.json()) as { error: { param: string } }).error.param).toBe("input_fidelity");
  });

  it("takes a JSON body with images as data URLs", async () => {
    const png = Buffer.from(await testPng(64, 64)).toString("base64");
    const response = await fetch(`${served.origin}/v1/images/edits`, {
      method: "POST",
      headers: { authorization: `Bearer ${client.apiKey}`, "content-type": "application/json" },
      body: JSON.stringify({
        prompt: "json edit",
        images: [{ image_url: `data:image/png;base64,${png}` }, { image_url: png }],
        response_format: "url",
        unknown_field: "ignored",
      }),
    });
    expect(response.status).toBe(200);
    const body = (await response.json()) as OpenAI.Images.ImagesResponse;
    expect(body.data?.[0]?.url).toContain("/generated/");
    const job = await served.services.queue.get(response.headers.get("x-codex-img-job-id") ?? "");
    expect(job?.request.referenceImages).toHaveLength(2);
  });

  it("streams image_edit events", async () => {
    const stream = await client.images.edit({
      image: await toFile(await testPng(64, 64), "s.png", { type: "image/png" }),
      prompt: "streamed edit",
      stream: true,
      partial_images: 3,
    });
    const types: string[] = [];
    for await (const event of stream) types.push(event.type);
    expect(types).toEqual(["image_edit.partial_image", "image_edit.partial_image", "image_edit.completed"]);
  });

  it("refuses bytes that are not an image, naming the param", async () => {
    const error = await client.images
      .edit({ image: await toFile(new TextEncoder().encode("not an image"), "x.png"), prompt: "x" })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    expect((error as InstanceType<typeof OpenAI.BadRequestError>).param).toBe("image");
  });

  it("refuses more than 16 images", async () => {
    const png = await testPng(64, 64);
    const files = await Promise.all(Array.from({ length: 17 }, (_, i) => toFile(png, `${i}.png`)));
    const error = await client.images.edit({ image: files, prompt: "too many" }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    expect((error as InstanceType<typeof OpenAI.BadRequestError>).param).toBe("image");
  });

  it("refuses remote image URLs in JSON edits instead of fetching them", async () => {
    const response = await fetch(`${served.origin}/v1/images/edits`, {
      method: "POST",
      headers: { authorization: `Bearer ${client.apiKey}`, "content-type": "application/json" },
      body: JSON.stringify({ prompt: "x", images: [{ image_url: "http://169.254.169.254/latest" }] }),
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({
      error: { type: "invalid_request_error", param: "images.0.image_url", code: "invalid_request" },
    });
  });
});
