import { bytesToBase64, createCodexHttpBackend, createMemoryImageStore } from "@codex-img/core";
import { testImage } from "@codex-img/core/testing";
import { describe, expect, it } from "vitest";
import { accountOptions, recordingCredentials, TEST_CLIENT } from "./support/codex-http-fixtures.js";

/**
 * A fetch that reads each streamed request body to its end, a timer tick per chunk, logging which call
 * read each chunk; `failFirstAfter` chunks, the first call stops reading and fails as a reset connection
 * does. Every other call is answered with the same small ImagesResponse once its body is read.
 */
function readingFetch(reply: Uint8Array, failFirstAfter?: number) {
  const log: string[] = [];
  let calls = 0;
  const send = (async (_input: RequestInfo | URL, init?: RequestInit) => {
    const name = calls++ === 0 ? "first" : "second";
    const body = init?.body;
    if (!(body instanceof ReadableStream)) throw new Error("expected a streamed body");
    const reader = (body as ReadableStream<Uint8Array>).getReader();
    let read = 0;
    for (;;) {
      if (name === "first" && read === failFirstAfter) {
        await reader.cancel();
        throw new TypeError("socket hang up");
      }
      const { done } = await reader.read();
      if (done) break;
      log.push(name);
      read += 1;
      await new Promise((tick) => setTimeout(tick, 1));
    }
    return new Response(reply as Uint8Array<ArrayBuffer>, {
      status: 200,
      headers: { "content-type": "application/json" },
    });
  }) as typeof fetch;
  return { fetch: send, log };
}

async function twoEdits(options: { requestBodiesAtOnce?: number; failFirstAfter?: number }) {
  // Noisy pixels: the reference stays large once compressed, so its body is many chunks.
  const reference = await testImage("png", 512, 512, 7);
  const result = await testImage("png", 64, 64, 3);
  const reply = new TextEncoder().encode(`{"data":[{"b64_json":"${bytesToBase64(result)}"}]}`);
  const upstream = readingFetch(reply, options.failFirstAfter);
  const backend = createCodexHttpBackend({
    baseUrl: "http://upstream.invalid",
    client: TEST_CLIENT,
    fetch: upstream.fetch,
    ...(options.requestBodiesAtOnce === undefined
      ? {}
      : { requestBodiesAtOnce: options.requestBodiesAtOnce }),
  });
  const credentials = recordingCredentials();
  const edit = () =>
    backend.generateInto(
      { prompt: "make it dusk", referenceImages: [{ bytes: reference }, { bytes: reference }] },
      createMemoryImageStore(),
      accountOptions(credentials),
    );
  const first = edit();
  const second = edit();
  return { upstream, first, second };
}

/** How many times the log switches from one call to the other. */
const switches = (log: string[]): number => log.filter((name, i) => i > 0 && name !== log[i - 1]).length;

describe("codex-http edit bodies are sent in turn", () => {
  it("sends one body whole before the next starts, with up to 2 at once by default", async () => {
    const one = await twoEdits({ requestBodiesAtOnce: 1 });
    const [a, b] = await Promise.all([one.first, one.second]);
    expect(a.images).toHaveLength(1);
    expect(b.images).toHaveLength(1);
    expect(one.upstream.log.filter((name) => name === "first").length).toBeGreaterThan(4);
    expect(switches(one.upstream.log)).toBe(1);

    const byDefault = await twoEdits({});
    await Promise.all([byDefault.first, byDefault.second]);
    expect(switches(byDefault.upstream.log)).toBeGreaterThan(2);
  });

  it("sends every body as it comes when asked to (requestBodiesAtOnce 0)", async () => {
    const { upstream, first, second } = await twoEdits({ requestBodiesAtOnce: 0 });
    await Promise.all([first, second]);
    expect(switches(upstream.log)).toBeGreaterThan(2);
  });

  it("frees the lane of a call whose upstream fails while its body is sent", async () => {
    const { upstream, first, second } = await twoEdits({ requestBodiesAtOnce: 1, failFirstAfter: 2 });
    await expect(first).rejects.toThrow();
    // Had the failed body kept its lane, the second would wait out the lane's 30 s limit (past the test's).
    const b = await second;
    expect(b.images).toHaveLength(1);
    expect(upstream.log.slice(0, 2)).toEqual(["first", "first"]);
    expect(upstream.log.slice(2).length).toBeGreaterThan(4);
    expect(upstream.log.slice(2).every((name) => name === "second")).toBe(true);
  });
});
