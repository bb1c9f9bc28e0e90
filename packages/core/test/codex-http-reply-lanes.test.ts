import {
  bytesToBase64,
  createCodexHttpBackend,
  createMemoryImageStore,
  type ImageSink,
} from "@codex-img/core";
import { testImage } from "@codex-img/core/testing";
import { describe, expect, it } from "vitest";
import {
  accountOptions,
  recordingCredentials,
  TEST_CLIENT,
  watchedSink,
} from "./support/codex-http-fixtures.js";

const CHUNK = 16 * 1024;

/**
 * A fetch whose every reply is the same ImagesResponse, sent in chunks a timer tick apart once `go()` is
 * called (so two replies arrive together, as a burst's do); `stallAfter` chunks, a reply stops until `resume()`.
 */
function burstFetch(body: Uint8Array, stallFirstAfter?: number) {
  let go!: () => void;
  const started = new Promise<void>((resolve) => {
    go = resolve;
  });
  let resume!: () => void;
  const resumed = new Promise<void>((resolve) => {
    resume = resolve;
  });
  let calls = 0;
  const replying = (async () => {
    const call = calls++;
    let sent = 0;
    return new Response(
      new ReadableStream<Uint8Array>({
        async pull(controller) {
          await started;
          if (call === 0 && stallFirstAfter !== undefined && sent === stallFirstAfter * CHUNK) await resumed;
          await new Promise((tick) => setTimeout(tick, 1));
          if (sent >= body.length) return controller.close();
          controller.enqueue(body.slice(sent, sent + CHUNK));
          sent += CHUNK;
        },
      }),
      { status: 200, headers: { "content-type": "application/json" } },
    );
  }) as typeof fetch;
  return { fetch: replying, go, resume };
}

/** Sinks that log which call wrote each chunk, in order. */
function loggingSink(log: string[]): (name: string) => ImageSink {
  const store = createMemoryImageStore();
  return (name) => watchedSink(store, () => log.push(name));
}

async function twoAtOnce(options: { replyReadsAtOnce?: number; stallFirstAfter?: number }) {
  const png = await testImage("png", 256, 256, 11);
  const body = new TextEncoder().encode(`{"data":[{"b64_json":"${bytesToBase64(png)}"}]}`);
  const upstream = burstFetch(body, options.stallFirstAfter);
  const backend = createCodexHttpBackend({
    baseUrl: "http://upstream.invalid",
    client: TEST_CLIENT,
    fetch: upstream.fetch,
    ...(options.replyReadsAtOnce === undefined ? {} : { replyReadsAtOnce: options.replyReadsAtOnce }),
  });
  const log: string[] = [];
  const sinkFor = loggingSink(log);
  const credentials = recordingCredentials();
  const first = backend.generateInto({ prompt: "a fox" }, sinkFor("first"), accountOptions(credentials));
  const second = backend.generateInto({ prompt: "a fox" }, sinkFor("second"), accountOptions(credentials));
  return {
    upstream,
    log,
    second,
    results: Promise.all([first, second]),
    bodyChunks: Math.ceil(body.length / CHUNK),
  };
}

/** How many times the log switches from one call to the other. */
const switches = (log: string[]): number => log.filter((name, i) => i > 0 && name !== log[i - 1]).length;

describe("codex-http replies of a burst are read in turn", () => {
  it("stores one reply whole before the next starts, by default", async () => {
    const { upstream, log, results, bodyChunks } = await twoAtOnce({});
    upstream.go();
    const [a, b] = await results;
    expect(a.images).toHaveLength(1);
    expect(b.images).toHaveLength(1);
    expect(bodyChunks).toBeGreaterThan(10);
    expect(log.filter((name) => name === "first").length).toBeGreaterThan(10);
    expect(switches(log)).toBe(1);
  });

  it("reads them together when asked to (replyReadsAtOnce 0)", async () => {
    const { upstream, log, results } = await twoAtOnce({ replyReadsAtOnce: 0 });
    upstream.go();
    await results;
    expect(switches(log)).toBeGreaterThan(4);
  });

  it("does not let a stalled reply hold the others back for long", async () => {
    const { upstream, log, second, results } = await twoAtOnce({ stallFirstAfter: 3 });
    upstream.go();
    // The first reply stops after 3 chunks and stays stopped until the second is stored.
    const stored = await second;
    expect(stored.images).toHaveLength(1);
    expect(log.slice(0, 3)).toEqual(["first", "first", "first"]);
    expect(log.at(-1)).toBe("second");
    upstream.resume();
    const [a] = await results;
    expect(a.images).toHaveLength(1);
    expect(switches(log)).toBe(2);
  }, 15_000);
});
