import { readdirSync, readlinkSync } from "node:fs";
import { sniffImage } from "@codex-img/core";
import { type CodexHomeFixture, type FakeCodexBackend, testImage } from "@codex-img/core/testing";
import { type ServerWithLogin, startServerWithLogin } from "@codex-img/server/testing";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

/**
 * The whole path as a user runs it: a real server process, its Codex login, and the ChatGPT backend
 * (the loopback fake that speaks upstream.md), driven by curl-shaped requests and the official SDK.
 */
describe("the server against the Codex backend", () => {
  let started: ServerWithLogin | undefined;
  let upstream: FakeCodexBackend;
  let login: CodexHomeFixture;
  let url = "";
  let key = "";
  let stderr = "";

  beforeAll(async () => {
    started = await startServerWithLogin({ prefix: "codex-img-e2e-" });
    ({ upstream, login } = started);
    ({ url, firstKey: key } = started.server);
    stderr = started.server.stderr();
  }, 40_000);

  afterAll(async () => {
    await started?.close();
  });

  it("picks the Codex backend for a usable login and says so", () => {
    expect(stderr).toMatch(/backend: codex-http/);
    expect(stderr).not.toMatch(/DEMO MODE/);
  });

  it("generates through the login's account and reports what was really delivered", async () => {
    upstream.script.images.push({ kind: "image", width: 1254, height: 1254, quality: "medium" });
    const reply = await fetch(`${url}/v1/images/generate`, {
      method: "POST",
      headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
      body: JSON.stringify({ prompt: "a lighthouse at dawn", size: "2048x2048", quality: "high" }),
    });
    expect(reply.status).toBe(200);
    const body = (await reply.json()) as { images: Array<{ url: string }> };
    const image = await fetch(body.images[0]?.url ?? "");
    expect(sniffImage(new Uint8Array(await image.arrayBuffer()))).toEqual({
      format: "png",
      width: 1254,
      height: 1254,
    });
    const sent = upstream.requests.find((r) => r.url.endsWith("/images/generations"));
    expect(sent?.headers["chatgpt-account-id"]).toBe(login.accountId);
    expect(sent?.json).toMatchObject({ prompt: "a lighthouse at dawn", size: "2048x2048", quality: "high" });
  });

  it("answers the OpenAI SDK with what upstream reported (quality, usage) and what the bytes say (size, format)", async () => {
    // Its own size: the fake draws the same bytes for the same size (the runner would call them stale).
    upstream.script.images.push({ kind: "image", width: 1200, height: 1200, quality: "medium" });
    const client = new OpenAI({ baseURL: `${url}/v1`, apiKey: key, maxRetries: 0 });
    const reply = await client.images.generate({
      model: "gpt-image-2",
      prompt: "a heron at dusk",
      size: "1536x1024",
      quality: "high",
    });
    // Upstream served `high` as `medium` and normalised the size: the reply says so, not the request.
    expect(reply).toMatchObject({
      quality: "medium",
      size: "1200x1200",
      output_format: "png",
      background: "opaque",
    });
    // The fake's Images reply reports 50 input and 1056 output tokens.
    expect(reply.usage).toMatchObject({ input_tokens: 50, output_tokens: 1056, total_tokens: 1106 });
  });

  it("hands the upstream's image back byte for byte, as b64_json to a slow reader and as a download", async () => {
    // Larger than a loopback connection's buffers, so the reply waits on the reader while it is written.
    const png = await testImage("png", 2560, 2560, 17);
    upstream.script.images.push({ kind: "image", bytes: png });
    const reply = await fetch(`${url}/v1/images/generations`, {
      method: "POST",
      headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
      body: JSON.stringify({ model: "gpt-image-2", prompt: "a slow reader", size: "2560x2560" }),
    });
    expect(reply.status).toBe(200);
    const reader = reply.body?.getReader();
    const chunks: Uint8Array[] = [];
    for (let read = await reader?.read(); read && !read.done; read = await reader?.read()) {
      chunks.push(read.value);
      await new Promise((resume) => setTimeout(resume, 5));
    }
    const json = JSON.parse(Buffer.concat(chunks).toString("utf8")) as { data: Array<{ b64_json: string }> };
    expect(Buffer.from(json.data[0]?.b64_json ?? "", "base64").equals(Buffer.from(png))).toBe(true);

    // The same bytes as a file: the predecessor's download decodes what the store keeps.
    const other = await testImage("png", 1536, 1024, 18);
    upstream.script.images.push({ kind: "image", bytes: other });
    const generated = await fetch(`${url}/v1/images/generate`, {
      method: "POST",
      headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
      body: JSON.stringify({ prompt: "a download", size: "1536x1024" }),
    });
    const { images } = (await generated.json()) as { images: Array<{ url: string }> };
    const download = await fetch(images[0]?.url ?? "");
    expect(Buffer.from(await download.arrayBuffer()).equals(Buffer.from(other))).toBe(true);
  });

  it("lets go of the stored image when the client leaves in the middle of a b64_json reply", async () => {
    // 12 MB after a real PNG head: far more than the connection's buffers, so the reply is still being
    // written when the client goes (the server reads only the head of an image it generated).
    const head = await testImage("png", 64, 64, 19);
    const tail = new Uint8Array(12 * 1024 * 1024).map((_, i) => (i * 2_654_435_761) >>> 24);
    upstream.script.images.push({ kind: "image", bytes: Buffer.concat([head, tail]) });
    const imageFiles = (): number =>
      readdirSync(`/proc/${started?.server.child.pid}/fd`).filter((fd) => {
        try {
          return readlinkSync(`/proc/${started?.server.child.pid}/fd/${fd}`).includes("/images/");
        } catch {
          return false;
        }
      }).length;
    const leaving = new AbortController();
    const reply = await fetch(`${url}/v1/images/generations`, {
      method: "POST",
      signal: leaving.signal,
      headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
      body: JSON.stringify({ model: "gpt-image-2", prompt: "a client that leaves" }),
    });
    await reply.body?.getReader().read();
    await new Promise((resume) => setTimeout(resume, 200));
    expect(imageFiles()).toBe(1);
    leaving.abort();
    for (let i = 0; i < 50 && imageFiles() > 0; i++) await new Promise((resume) => setTimeout(resume, 20));
    expect(imageFiles()).toBe(0);
  });

  it("answers the OpenAI SDK with a RateLimitError it does not retry when the subscription's limit is reached", async () => {
    const resetsInSeconds = 4 * 3600;
    for (let i = 0; i < 5; i++) upstream.script.images.push({ kind: "usage_limit", resetsInSeconds });
    const before = upstream.requests.length;
    const client = new OpenAI({ baseURL: `${url}/v1`, apiKey: key, maxRetries: 2 });
    const error = await client.images.generate({ model: "gpt-image-2", prompt: "a fox" }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(OpenAI.RateLimitError);
    const rateLimit = error as InstanceType<typeof OpenAI.RateLimitError>;
    expect(rateLimit.headers?.get("x-should-retry")).toBe("false");
    const retryAfter = Number(rateLimit.headers?.get("retry-after"));
    expect(retryAfter).toBeGreaterThan(3 * 3600);
    expect(retryAfter).toBeLessThanOrEqual(resetsInSeconds + 60);
    // One upstream call: the account cooled down until its reset instead of being asked again.
    expect(upstream.requests.length - before).toBe(1);
  });
});
