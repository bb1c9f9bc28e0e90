import { bytesToBase64, createCodexHttpBackend, isCodexImgError } from "@codex-img/core";
import { testImage } from "@codex-img/core/testing";
import { describe, expect, it } from "vitest";
import {
  accountOptions,
  recordingCredentials,
  rejectionOf,
  TEST_CLIENT,
} from "./support/codex-http-fixtures.js";

/** A fetch that answers every call with `body`, delivered in chunks of `chunkSize` bytes. */
function replyingWith(body: string, chunkSize: number, declaredLength?: number): typeof fetch {
  const bytes = new TextEncoder().encode(body);
  return (async () =>
    new Response(
      new ReadableStream<Uint8Array>({
        start(controller) {
          for (let i = 0; i < bytes.length; i += chunkSize) controller.enqueue(bytes.slice(i, i + chunkSize));
          controller.close();
        },
      }),
      {
        status: 200,
        headers: {
          "content-type": "application/json",
          ...(declaredLength === undefined ? {} : { "content-length": String(declaredLength) }),
        },
      },
    )) as typeof fetch;
}

const generate = (body: string, chunkSize = 7919, declaredLength?: number) =>
  createCodexHttpBackend({
    baseUrl: "http://upstream.invalid",
    client: TEST_CLIENT,
    fetch: replyingWith(body, chunkSize, declaredLength),
  }).generate({ prompt: "a fox" }, accountOptions(recordingCredentials()));

describe("codex-http native reply read as bytes", () => {
  it("returns every image byte-exact, whatever the chunking and key order", async () => {
    const first = await testImage("png", 80, 60, 1);
    const second = await testImage("jpeg", 64, 48, 2);
    const body = `{"size":"1024x1024","data":[{"revised_prompt":"a \\"fox\\", \\"b64_json\\":\\"x\\"","b64_json":"${bytesToBase64(first)}"},{"b64_json" :  "${bytesToBase64(second)}"}],"created":1778832973,"quality":"medium"}`;
    for (const chunkSize of [13, 4096, body.length]) {
      const result = await generate(body, chunkSize);
      expect(result.images.map((image) => image.bytes)).toEqual([first, second]);
      expect(result.images.map((image) => image.format)).toEqual(["png", "jpeg"]);
      expect(result.images[0]?.revisedPrompt).toBe('a "fox", "b64_json":"x"');
      expect(result.delivered).toEqual({ size: "1024x1024", quality: "medium" });
    }
  });

  it("reads a declared length into one buffer, and takes a reply of another length as it came", async () => {
    const png = await testImage("png", 256, 256, 5);
    const body = `{"data":[{"b64_json":"${bytesToBase64(png)}"}]}`;
    const length = new TextEncoder().encode(body).length;
    for (const declared of [length, length - 1000, length + 1000]) {
      const result = await generate(body, 4096, declared);
      expect(result.images.map((image) => image.bytes)).toEqual([png]);
    }
  });

  it("accepts base64 with JSON escapes (\\/) and with a data URL prefix", async () => {
    const png = await testImage("png", 256, 256, 3);
    const escaped = bytesToBase64(png).replaceAll("/", "\\/");
    const result = await generate(
      `{"data":[{"b64_json":"${escaped}"},{"b64_json":"data:image/png;base64,${bytesToBase64(png)}"}]}`,
    );
    expect(result.images.map((image) => image.bytes)).toEqual([png, png]);
  });

  it("fails the attempt with upstream_failed on a cut or non-image reply", async () => {
    const png = await testImage("png", 256, 256, 4);
    const cut = `{"data":[{"b64_json":"${bytesToBase64(png).slice(0, 5000)}`;
    const notImage = `{"data":[{"b64_json":"${bytesToBase64(new Uint8Array(9000).fill(7))}"}]}`;
    for (const body of [cut, notImage]) {
      const error = await rejectionOf(generate(body));
      expect(isCodexImgError(error, "upstream_failed")).toBe(true);
    }
  });
});
