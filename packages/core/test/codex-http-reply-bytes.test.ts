import {
  Base64StreamDecoder,
  bytesToBase64,
  createCodexHttpBackend,
  createMemoryImageStore,
  isCodexImgError,
  singleChunk,
} from "@codex-img/core";
import { testImage } from "@codex-img/core/testing";
import { describe, expect, it } from "vitest";
import {
  accountOptions,
  recordingCredentials,
  rejectionOf,
  TEST_CLIENT,
  watchedSink,
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

describe("codex-http native reply streamed into the image store", () => {
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

  it("takes a reply whose length is not the declared one as it came", async () => {
    const png = await testImage("png", 256, 256, 5);
    const body = `{"data":[{"b64_json":"${bytesToBase64(png)}"}]}`;
    const length = new TextEncoder().encode(body).length;
    for (const declared of [length, length - 1000, length + 1000]) {
      const result = await generate(body, 4096, declared);
      expect(result.images.map((image) => image.bytes)).toEqual([png]);
    }
  });

  it("reads escapes and a data URL prefix cut by any chunk boundary", async () => {
    const png = await testImage("png", 12, 10, 6);
    const base64 = bytesToBase64(png);
    // Every `/` escaped one way or the other, and a `\n` (dropped) in the middle.
    let escaped = "";
    for (const [i, char] of [...base64].entries()) {
      escaped += char === "/" ? (i % 2 === 0 ? "\\/" : "\\u002F") : char;
      if (i === 40) escaped += "\\n";
    }
    const body = `{"data":[{"b64_json":"${escaped}"},{"b64_json":"data:image/png;base64,${base64}"}]}`;
    for (const chunkSize of [1, 2, 3, 5, 7]) {
      const result = await generate(body, chunkSize);
      expect(result.images.map((image) => image.bytes)).toEqual([png, png]);
    }
  });

  it("finds a JPEG's size after 256 KiB of metadata arriving in small pieces, and keeps every byte", async () => {
    const jpeg = await testImage("jpeg", 40, 30, 3);
    // Four APP15 segments of 64 KiB between the start marker and the rest (the size comes after them).
    const segment = new Uint8Array(4 + 65_531).fill(0x20);
    segment.set([0xff, 0xef, 0xff, 0xfd]);
    const padded = Buffer.concat([jpeg.subarray(0, 2), segment, segment, segment, segment, jpeg.subarray(2)]);
    const result = await generate(`{"data":[{"b64_json":"${bytesToBase64(padded)}"}]}`, 1021);
    const [image] = result.images;
    expect([image?.format, image?.width, image?.height]).toEqual(["jpeg", 40, 30]);
    expect(Buffer.from(image?.bytes ?? new Uint8Array()).equals(padded)).toBe(true);
  });

  it("writes each image into the sink while the reply still arrives, hashed on the way", async () => {
    const png = await testImage("png", 512, 512, 7);
    const body = new TextEncoder().encode(`{"data":[{"b64_json":"${bytesToBase64(png)}"}]}`);
    const chunkSize = 16 * 1024;
    let sent = 0;
    const fetchInChunks = (async () =>
      new Response(
        new ReadableStream<Uint8Array>({
          pull(controller) {
            if (sent >= body.length) return controller.close();
            controller.enqueue(body.slice(sent, sent + chunkSize));
            sent += chunkSize;
          },
        }),
      )) as typeof fetch;
    const store = createMemoryImageStore();
    const sentWhenWritten: number[] = [];
    const sink = watchedSink(store, () => sentWhenWritten.push(sent));
    const backend = createCodexHttpBackend({
      baseUrl: "http://upstream.invalid",
      client: TEST_CLIENT,
      fetch: fetchInChunks,
    });
    const result = await backend.generateInto(
      { prompt: "a fox" },
      sink,
      accountOptions(recordingCredentials()),
    );
    const [image] = result.images;
    // Kept as the base64 it came as, digested on the way: the same as the digest of that text stored whole.
    const text = new TextEncoder().encode(bytesToBase64(png));
    const whole = await store.putStream(singleChunk(text), { format: "png", base64: true });
    expect(image?.stored.digest).toBe(whole.digest);
    expect(await store.get(image?.stored.key ?? "")).toEqual(png);
    // The first decoded bytes were written when only the first chunk of the reply (and the one the
    // stream reads ahead) had arrived; the image is hundreds of KiB.
    expect(body.length).toBeGreaterThan(20 * chunkSize);
    expect(sentWhenWritten.length).toBeGreaterThan(10);
    expect(sentWhenWritten[0]).toBeLessThanOrEqual(2 * chunkSize);
  });

  it("leaves nothing in the sink when a later image is cut or is not an image", async () => {
    const png = await testImage("png", 256, 256, 8);
    const good = `{"b64_json":"${bytesToBase64(png)}"}`;
    const bodies = [
      `{"data":[${good},{"b64_json":"${bytesToBase64(png).slice(0, 3000)}`,
      `{"data":[${good},{"b64_json":"${bytesToBase64(new Uint8Array(9000).fill(7))}"}]}`,
      `{"data":[${good}],"created":`,
    ];
    for (const body of bodies) {
      const store = createMemoryImageStore();
      const backend = createCodexHttpBackend({
        baseUrl: "http://upstream.invalid",
        client: TEST_CLIENT,
        fetch: replyingWith(body, 4096),
      });
      const error = await rejectionOf(
        backend.generateInto({ prompt: "a fox" }, store, accountOptions(recordingCredentials())),
      );
      expect(isCodexImgError(error, "upstream_failed")).toBe(true);
      const left: string[] = [];
      for await (const object of store.list()) left.push(object.key);
      expect(left).toEqual([]);
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

  it("keeps base64 sent in another form as canonical text, the same image as the standard form", async () => {
    const png = await testImage("png", 256, 256, 10);
    const standard = bytesToBase64(png);
    const forms = [
      standard,
      standard.replaceAll("+", "-").replaceAll("/", "_"),
      standard.replace(/=+$/, ""),
      standard.replaceAll("/", "\\/"),
    ];
    const digests = new Set<string>();
    for (const form of forms) {
      const store = createMemoryImageStore();
      const backend = createCodexHttpBackend({
        baseUrl: "http://upstream.invalid",
        client: TEST_CLIENT,
        fetch: replyingWith(`{"data":[{"b64_json":"${form}"}]}`, 4093),
      });
      const [image] = (
        await backend.generateInto({ prompt: "a fox" }, store, accountOptions(recordingCredentials()))
      ).images;
      digests.add(image?.stored.digest ?? "");
      expect(image?.stored.bytes).toBe(png.length);
      expect(await store.get(image?.stored.key ?? "")).toEqual(png);
      const reply = await store.stream(image?.stored.key ?? "", { base64: true });
      expect(await new Response(reply?.body).text()).toBe(standard);
    }
    // The stale-output check compares digests: one image is one digest, whatever form it came in.
    expect(digests.size).toBe(1);
  });

  it("fails the attempt with upstream_failed on a cut or non-image reply", async () => {
    const png = await testImage("png", 256, 256, 4);
    const base64 = bytesToBase64(png);
    const cut = `{"data":[{"b64_json":"${base64.slice(0, 5000)}`;
    const notImage = `{"data":[{"b64_json":"${bytesToBase64(new Uint8Array(9000).fill(7))}"}]}`;
    // Past the header, where only the text is checked: a character outside the alphabet, padding inside,
    // a length no bytes encode to.
    const bare = base64.replace(/=+$/, "");
    const notBase64 = [
      `${base64.slice(0, 3000)}*${base64.slice(3001)}`,
      `${base64.slice(0, 3000)}=${base64.slice(3001)}`,
      // One character more than whole quanta: it encodes no byte.
      `${bare}${"A".repeat((5 - (bare.length % 4)) % 4 || 4)}`,
    ].map((value) => `{"data":[{"b64_json":"${value}"}]}`);
    for (const body of [cut, notImage, ...notBase64]) {
      const error = await rejectionOf(generate(body));
      expect(isCodexImgError(error, "upstream_failed")).toBe(true);
    }
  });
});

describe("codex-http /responses stream read as bytes", () => {
  /** An SSE body in the given line ending, the image in `output_item.done` and again in `completed`. */
  function responsesBody(b64: string, eol: string): string {
    const item = `{"type":"image_generation_call","id":"ig_1","result":"${b64}","revised_prompt":"a fox"}`;
    return [
      ": keep-alive",
      "event: response.created",
      'data: {"type":"response.created","response":{"id":"resp_1"}}',
      "",
      "event: response.output_item.done",
      `data: {"type":"response.output_item.done",`,
      `data: "item":${item}}`,
      "",
      `data: {"type":"response.completed","response":{"id":"resp_1","output":[${item}]}}`,
      "",
      "data: [DONE]",
      "",
      "",
    ].join(eol);
  }

  const responsesBackend = (body: string, chunkSize: number) =>
    createCodexHttpBackend({
      baseUrl: "http://upstream.invalid",
      client: TEST_CLIENT,
      initialRoute: "responses",
      fetch: replyingWith(body, chunkSize),
    });

  it("stores the image once, whatever the chunking and line endings", async () => {
    const png = await testImage("png", 40, 30, 9);
    for (const eol of ["\n", "\r\n", "\r"]) {
      for (const chunkSize of [1, 2, 5, 64, 100_000]) {
        const store = createMemoryImageStore();
        const result = await responsesBackend(responsesBody(bytesToBase64(png), eol), chunkSize).generateInto(
          { prompt: "a fox" },
          store,
          accountOptions(recordingCredentials()),
        );
        expect(result.images.map((image) => image.revisedPrompt)).toEqual(["a fox"]);
        expect(result.upstreamIds).toMatchObject({ response_id: "resp_1", image_call_id: "ig_1" });
        const left: string[] = [];
        for await (const object of store.list()) left.push(object.key);
        // The repeat in response.completed was stored while it streamed, then deleted.
        expect(left).toEqual([result.images[0]?.stored.key]);
        expect(await store.get(left[0] ?? "")).toEqual(png);
      }
    }
  });

  it("fails with upstream_failed and keeps nothing when the result is not an image", async () => {
    const store = createMemoryImageStore();
    const body = responsesBody(bytesToBase64(new Uint8Array(5000).fill(9)), "\n");
    const error = await rejectionOf(
      responsesBackend(body, 1000).generateInto(
        { prompt: "a fox" },
        store,
        accountOptions(recordingCredentials()),
      ),
    );
    expect(isCodexImgError(error, "upstream_failed")).toBe(true);
    const left: string[] = [];
    for await (const object of store.list()) left.push(object.key);
    expect(left).toEqual([]);
  });
});

describe("Base64StreamDecoder", () => {
  it("decodes base64 cut at every position, padded or not", () => {
    for (const length of [0, 1, 2, 3, 4, 5, 31, 32, 33]) {
      const bytes = new Uint8Array(length).map((_, i) => (i * 97 + 13) % 256);
      const padded = bytesToBase64(bytes);
      for (const base64 of [padded, padded.replace(/=+$/, "")]) {
        const ascii = new TextEncoder().encode(base64);
        for (let cut = 0; cut <= ascii.length; cut++) {
          for (let second = cut; second <= ascii.length; second += 3) {
            const decoder = new Base64StreamDecoder();
            // Each view is valid until the next call: copied as it comes.
            const parts = [
              decoder.push(ascii.subarray(0, cut)).slice(),
              decoder.push(ascii.subarray(cut, second)).slice(),
              decoder.push(ascii.subarray(second)).slice(),
              decoder.end(),
            ];
            expect(Buffer.concat(parts)).toEqual(Buffer.from(bytes));
            expect(decoder.valid).toBe(true);
          }
        }
      }
    }
  });

  it("decodes long runs (the runtime's native decoder) exactly, and flags any bad character in them", () => {
    const bytes = new Uint8Array(30_000).map((_, i) => (i * 7919 + 11) % 256);
    const ascii = new TextEncoder().encode(bytesToBase64(bytes));
    for (const cuts of [[ascii.length], [1001, 20_003], [4, 5, 6, 39_997]]) {
      const decoder = new Base64StreamDecoder();
      const parts: Uint8Array[] = [];
      let from = 0;
      for (const cut of [...cuts, ascii.length]) {
        parts.push(decoder.push(ascii.subarray(from, cut)).slice());
        from = cut;
      }
      parts.push(decoder.end());
      expect(Buffer.concat(parts)).toEqual(Buffer.from(bytes));
      expect(decoder.valid).toBe(true);
    }
    // One character that is not base64, or padding, anywhere inside a long run makes the value invalid.
    for (const [at, char] of [
      [0, 0x2a],
      [777, 0x20],
      [20_000, 0x3d],
      [39_990, 0xe9],
      [12_345, 0x0a],
    ] as const) {
      const bad = ascii.slice();
      bad[at] = char;
      const decoder = new Base64StreamDecoder();
      decoder.push(bad.subarray(0, 16_384));
      decoder.push(bad.subarray(16_384));
      decoder.end();
      expect([at, decoder.valid]).toEqual([at, false]);
    }
  });

  it("reads the URL-safe alphabet and flags what is not base64", () => {
    const bytes = new Uint8Array(300).map((_, i) => (i * 131 + 7) % 256);
    const urlSafe = bytesToBase64(bytes).replaceAll("+", "-").replaceAll("/", "_");
    const decoder = new Base64StreamDecoder();
    const out = Buffer.concat([decoder.push(new TextEncoder().encode(urlSafe)).slice(), decoder.end()]);
    expect(out).toEqual(Buffer.from(bytes));
    expect(decoder.valid).toBe(true);
    for (const bad of ["AAAA AAA", "AA=AAAAA", "AAAA*AAA", "AAAAA"]) {
      const checked = new Base64StreamDecoder();
      checked.push(new TextEncoder().encode(bad));
      checked.end();
      expect(checked.valid).toBe(false);
    }
  });
});
