import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createFileImageStore, type ImageStore, type Job } from "@codex-img/core";
import { testImage } from "@codex-img/core/testing";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type ApiHarness, authJson, createApiHarness } from "../src/testing/index.js";

/** An image store whose writes wait until the test opens the gate, so a test can look in between. */
function gatedStore(inner: ImageStore): ImageStore & { writing: Promise<void>; open(): void } {
  let open = (): void => undefined;
  const gate = new Promise<void>((resolve) => {
    open = resolve;
  });
  let started = (): void => undefined;
  const writing = new Promise<void>((resolve) => {
    started = resolve;
  });
  return {
    ...inner,
    writing,
    open,
    async put(bytes, options) {
      started();
      await gate;
      return inner.put(bytes, options);
    },
    async putStream(source, options) {
      started();
      await gate;
      return inner.putStream(source, options);
    },
  };
}

async function storedKeys(store: ImageStore): Promise<string[]> {
  const keys: string[] = [];
  for await (const object of store.list()) keys.push(object.key);
  return keys.sort();
}

const b64 = (bytes: Uint8Array): string => Buffer.from(bytes).toString("base64");

/**
 * The request budget bounds bytes HELD: a request keeps its reservation until its references are in the
 * image store, and references of a request that does not become a job are not left behind.
 */
describe("request bodies: held under the budget until stored, references stored as the job's", () => {
  let harness: ApiHarness;
  let dir: string;
  let store: ReturnType<typeof gatedStore>;
  let key: string;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "codex-img-budget-"));
    store = gatedStore(createFileImageStore({ dir }));
    // No runner: jobs stay queued, so a synchronous request waits with its job enqueued.
    harness = await createApiHarness({
      startRunner: false,
      options: { requestBudgetBytes: 4 * 1024 * 1024, metricsPublic: true, requestWaitTimeoutMs: 60_000 },
      services: { images: store },
    });
    key = await harness.createKey();
  });

  afterEach(async () => {
    store.open();
    await harness.close();
    await rm(dir, { recursive: true, force: true });
  });

  const held = async (): Promise<number> => {
    const text = await (await harness.app.request("/metrics")).text();
    return Number(/^codex_img_request_body_bytes_held (\d+)$/m.exec(text)?.[1]);
  };

  it("holds the reservation while the references are stored, and gives it back once the job holds them", async () => {
    const png = await testImage("png", 256, 256, 3);
    const body = JSON.stringify({
      prompt: "make it dusk",
      images: [{ image_url: `data:image/png;base64,${b64(png)}` }, { image_url: b64(png) }],
    });
    const hangUp = new AbortController();
    const reply = harness.app.request("/v1/images/edits", {
      method: "POST",
      headers: authJson(key),
      body,
      signal: hangUp.signal,
    });
    // The body is read whole and its first reference is being written: its bytes are still held, with the
    // copy it was parsed from and the references decoded from it (three quarters of their base64).
    await store.writing;
    const decoded = [`data:image/png;base64,${b64(png)}`, b64(png)].map((s) =>
      Math.floor((s.length * 3) / 4),
    );
    expect(await held()).toBe(2 * Buffer.byteLength(body) + decoded.reduce((sum, n) => sum + n, 0));
    store.open();
    // Enqueued: the request waits for its job, holding nothing of its body.
    let jobs: Job[] = [];
    while (jobs.length === 0) {
      jobs = (await harness.queue.list({ limit: 5 })).jobs;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    while ((await held()) !== 0) await new Promise((resolve) => setTimeout(resolve, 20));
    const refs = jobs[0]?.request.referenceImages ?? [];
    expect(refs.map((ref) => ref.key)).toEqual([
      expect.stringMatching(/^ref_/),
      expect.stringMatching(/^ref_/),
    ]);
    expect(refs.map((ref) => ref.bytes)).toEqual([png.length, png.length]);
    expect(await storedKeys(store)).toEqual(refs.map((ref) => ref.key).sort());
    hangUp.abort();
    await Promise.resolve(reply).catch(() => undefined);
  });

  it("deletes the stored references of a request refused after they were stored, on JSON and multipart", async () => {
    store.open();
    const png = await testImage("png", 256, 256, 4);
    const badSize = await harness.app.request("/v1/images/edits", {
      method: "POST",
      headers: authJson(key),
      body: JSON.stringify({ prompt: "x", size: "7x7", images: [{ image_url: b64(png) }] }),
    });
    expect(badSize.status).toBe(400);
    expect(await badSize.json()).toMatchObject({ error: { code: "invalid_request", param: "size" } });

    const form = new FormData();
    form.set("prompt", "x");
    form.append("image[]", new Blob([png as Uint8Array<ArrayBuffer>], { type: "image/png" }), "a.png");
    // Whole by its header, cut in its pixel data: refused by the full check, after the first was stored.
    const truncated = png.subarray(0, Math.floor(png.length * 0.7));
    form.append("image[]", new Blob([truncated as Uint8Array<ArrayBuffer>], { type: "image/png" }), "b.png");
    const damaged = await harness.app.request("/v1/images/edits", {
      method: "POST",
      headers: { authorization: `Bearer ${key}` },
      body: form,
    });
    expect(damaged.status).toBe(400);
    expect(await damaged.json()).toMatchObject({
      error: {
        code: "invalid_request",
        param: "image",
        message: expect.stringMatching(/^reference image 2 /),
      },
    });

    const chat = await harness.app.request("/v1/chat/completions", {
      method: "POST",
      headers: authJson(key),
      body: JSON.stringify({
        model: "gpt-image-1",
        messages: [{ role: "user", content: [{ type: "image_url", image_url: { url: b64(png) } }] }],
      }),
    });
    expect(chat.status).toBe(400);
    expect(await storedKeys(store)).toEqual([]);
    expect(await harness.countJobs()).toBe(0);
    expect(await held()).toBe(0);
  });

  it("answers a long reference exactly as a short one: bad base64, a raw control character, a remote URL", async () => {
    store.open();
    const edit = async (imageUrl: string): Promise<unknown> => {
      const response = await harness.app.request("/v1/images/edits", {
        method: "POST",
        headers: authJson(key),
        body: JSON.stringify({ prompt: "x", images: [{ image_url: imageUrl }] }).replace("\\u0001", "\u0001"),
      });
      return { status: response.status, ...((await response.json()) as object) };
    };
    // Past 4 KiB a string is kept as bytes and decoded natively; below it takes the string path.
    for (const length of [100, 100_000]) {
      expect(await edit(`data:image/png;base64,${"QUJD".repeat(length / 4)}*`)).toMatchObject({
        status: 400,
        error: { param: "images.0.image_url", message: "image 1 is not a valid data: URL or base64 string" },
      });
      expect(await edit(`https://example.com/${"a".repeat(length)}`)).toMatchObject({
        status: 400,
        error: { message: "image 1: remote URLs are not fetched; send a data: URL instead" },
      });
      expect(await edit(`${"QUJD".repeat(length / 4)}\u0001`)).toMatchObject({
        status: 400,
        error: { param: "body", message: "The request body is not valid JSON." },
      });
      expect(await edit("QUJD".repeat(length / 4))).toMatchObject({
        status: 400,
        error: { param: "images.0.image_url", message: "image 1 is not a PNG, JPEG or WebP image" },
      });
    }
    expect(await storedKeys(store)).toEqual([]);
  });

  it("stores /v1/responses input_image references as the job's, and reads its body by its own rules", async () => {
    store.open();
    const png = await testImage("png", 256, 256, 5);
    const hangUp = new AbortController();
    const reply = harness.app.request("/v1/responses", {
      method: "POST",
      headers: authJson(key),
      body: JSON.stringify({
        model: "gpt-5",
        tools: [{ type: "image_generation" }],
        input: [
          {
            role: "user",
            content: [
              { type: "input_text", text: "make it dusk" },
              { type: "input_image", image_url: `data:image/png;base64,${b64(png)}` },
            ],
          },
        ],
      }),
      signal: hangUp.signal,
    });
    let jobs: Job[] = [];
    while (jobs.length === 0) {
      jobs = (await harness.queue.list({ limit: 5 })).jobs;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const refs = jobs[0]?.request.referenceImages ?? [];
    expect(refs).toEqual([
      expect.objectContaining({ key: expect.stringMatching(/^ref_/), bytes: png.length }),
    ]);
    expect(await storedKeys(store)).toEqual([refs[0]?.key]);
    hangUp.abort();
    await Promise.resolve(reply).catch(() => undefined);
    // Any JSON value parses here (it is the schema that refuses a bare string), as this route always did.
    const bare = await harness.app.request("/v1/responses", {
      method: "POST",
      headers: authJson(key),
      body: JSON.stringify("a lighthouse"),
    });
    expect(bare.status).toBe(400);
    expect(((await bare.json()) as { error: { message: string } }).error.message).not.toMatch(
      /not valid JSON/,
    );
  });
});
