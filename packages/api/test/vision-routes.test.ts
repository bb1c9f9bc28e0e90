import { type ApiHarness, authJson } from "@codex-img/api/testing";
import { bytesToBase64, encodePng } from "@codex-img/core";
import { testImage } from "@codex-img/core/testing";
import { describe, expect, it } from "vitest";
import { harnessPerTest } from "./support/harness-per-test.js";
import { ADMIN_PASSWORD, adminCaller } from "./support/trpc-admin.js";

const start = harnessPerTest();

function vision(h: ApiHarness, key: string | undefined, body: unknown): Promise<Response> {
  const headers = key ? authJson(key) : { "content-type": "application/json" };
  return Promise.resolve(
    h.app.request("/v1/vision", { method: "POST", headers, body: JSON.stringify(body) }),
  );
}

/** A solid-colour PNG, so the demo's measured colour is known. */
async function solidPng(width: number, height: number, rgb: [number, number, number]): Promise<string> {
  const rgba = new Uint8Array(width * height * 4);
  for (let i = 0; i < rgba.length; i += 4) rgba.set([...rgb, 255], i);
  return bytesToBase64(await encodePng({ width, height, rgba }));
}

describe("POST /v1/vision (the predecessor's shape)", () => {
  it("answers 200 {id: vis_…, text} from the demo backend with what it measured, labelled demo", async () => {
    const h = await start();
    const key = await h.createKey();
    const jpeg = bytesToBase64(await testImage("jpeg", 320, 200));
    const response = await vision(h, key, {
      prompt: "What colour is it?",
      images_base64: [await solidPng(40, 30, [255, 0, 0]), `data:image/jpeg;base64,${jpeg}`],
    });
    expect(response.status).toBe(200);
    const body = (await response.json()) as { id: string; text: string };
    expect(body.id).toMatch(/^vis_[a-z2-7]{26}$/);
    expect(body.text).toContain("[demo]");
    expect(body.text).toContain("Image 1: PNG, 40x30, dominant colours #ff0000 (100%)");
    expect(body.text).toContain("Image 2: JPEG, 320x200");
    expect(body.text).toContain("What colour is it?");
  });

  it("keeps the answer in the history as a vision job with its attempts", async () => {
    const h = await start();
    const key = await h.createKey();
    const response = await vision(h, key, {
      prompt: "describe",
      images_base64: [await solidPng(8, 8, [0, 0, 255])],
    });
    const { id, text } = (await response.json()) as { id: string; text: string };
    const job = await h.app.request(`/v1/jobs/${id}`, { headers: authJson(key) });
    expect(job.status).toBe(200);
    const view = (await job.json()) as { kind: string; status: string; text: string; attempts: unknown[] };
    expect(view).toMatchObject({ kind: "vision", status: "succeeded", text });
    expect(view.attempts).toHaveLength(1);
    const polled = await h.app.request(`/v1/images/jobs/${id}`, { headers: authJson(key) });
    expect(((await polled.json()) as { text: string }).text).toBe(text);
  });

  it("answers 422 for 0 and for 17 images, and makes no job", async () => {
    const h = await start();
    const key = await h.createKey();
    const png = await solidPng(4, 4, [1, 2, 3]);
    for (const images of [[], Array.from({ length: 17 }, () => png)]) {
      const response = await vision(h, key, { prompt: "what is this?", images_base64: images });
      expect(response.status).toBe(422);
      const body = (await response.json()) as { error: { code: string; param: string }; detail: string };
      expect(body.error).toMatchObject({ code: "invalid_request", param: "images_base64" });
      expect(body.detail).toContain(`${images.length} were given`);
    }
    expect(await h.countJobs()).toBe(0);
  });

  it("answers 400 for an image that is not base64 or not an image", async () => {
    const h = await start();
    const key = await h.createKey();
    const notBase64 = await vision(h, key, { prompt: "what?", images_base64: ["%%%"] });
    expect(notBase64.status).toBe(400);
    expect(((await notBase64.json()) as { error: { param: string } }).error.param).toBe("images_base64.0");
    const notImage = await vision(h, key, {
      prompt: "what?",
      images_base64: [bytesToBase64(new Uint8Array(64))],
    });
    expect(notImage.status).toBe(400);
    expect(((await notImage.json()) as { error: { param: string } }).error.param).toBe("images_base64");
  });

  it("answers 401 without a key and 403 for a key without the vision scope", async () => {
    const h = await start();
    const png = await solidPng(4, 4, [1, 2, 3]);
    const anonymous = await vision(h, undefined, { prompt: "what?", images_base64: [png] });
    expect(anonymous.status).toBe(401);
    const imagesOnly = await h.createKey(["generate", "edit"]);
    const forbidden = await vision(h, imagesOnly, { prompt: "what?", images_base64: [png] });
    expect(forbidden.status).toBe(403);
    expect(((await forbidden.json()) as { error: { reason: string } }).error.reason).toBe("missing_scope");
  });

  it("counts vision requests per day apart from images", async () => {
    const h = await start();
    const key = await h.createKey(["generate", "vision"], { visionPerDay: 1, imagesPerDay: 1 });
    const png = await solidPng(4, 4, [9, 9, 9]);
    expect((await vision(h, key, { prompt: "one", images_base64: [png] })).status).toBe(200);
    const second = await vision(h, key, { prompt: "two", images_base64: [png] });
    expect(second.status).toBe(429);
    expect(((await second.json()) as { error: { reason: string } }).error.reason).toBe("vision_per_day");
    // The image quota is untouched by the question.
    const image = await h.app.request("/v1/images/generate", {
      method: "POST",
      headers: authJson(key),
      body: JSON.stringify({ prompt: "a fox", size: "256x256" }),
    });
    expect(image.status).toBe(200);
  });
});

describe("POST /v1/chat/completions with an image part", () => {
  it("answers a text model's question about the image as text", async () => {
    const h = await start();
    const key = await h.createKey();
    const png = await solidPng(16, 16, [0, 255, 0]);
    const response = await h.app.request("/v1/chat/completions", {
      method: "POST",
      headers: authJson(key),
      body: JSON.stringify({
        model: "gpt-5.5",
        messages: [
          {
            role: "user",
            content: [
              { type: "text", text: "Which colour dominates?" },
              { type: "image_url", image_url: { url: `data:image/png;base64,${png}` } },
            ],
          },
        ],
      }),
    });
    expect(response.status).toBe(200);
    const body = (await response.json()) as {
      object: string;
      model: string;
      choices: Array<{ message: { content: string } }>;
    };
    expect(body.object).toBe("chat.completion");
    expect(body.model).toBe("gpt-5.5");
    expect(body.choices[0]?.message.content).toContain("#00ff00 (100%)");
    expect(body.choices[0]?.message.content).not.toContain("![");
  });
});

describe("the dashboard's vision question and history kind filter (tRPC)", () => {
  it("asks about the playground's images, answers in the job, and filters history by kind", async () => {
    const h = await start({ options: { adminPassword: ADMIN_PASSWORD } });
    const { caller } = await adminCaller(h);
    const png = await solidPng(8, 8, [255, 255, 0]);
    const { job } = await caller.images.ask({
      prompt: "What colour?",
      references: [{ name: "yellow.png", dataUrl: `data:image/png;base64,${png}` }],
    });
    expect(job).toMatchObject({ kind: "vision", status: "queued" });
    const done = await h.queue.waitForJob(job.id, { timeoutMs: 5_000 });
    expect(done.text).toContain("#ffff00 (100%)");
    await caller.images.generate({ prompt: "a fox", size: "256x256" });

    const vision = await caller.jobs.list({ kind: "vision" });
    expect(vision.items.map((item) => item.id)).toEqual([job.id]);
    const images = await caller.jobs.list({ kind: "image" });
    expect(images.items).toHaveLength(1);
    expect(images.items[0]?.kind).toBe("image");
  });
});
