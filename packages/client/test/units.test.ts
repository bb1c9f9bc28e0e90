import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { EXIT_CODE_BY_ERROR } from "../src/cli/exit-codes.js";
import { slugify } from "../src/cli/output.js";
import { createProgress, describeEvent } from "../src/cli/progress.js";
import { readSse } from "../src/sse.js";

function stream(chunks: string[]): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  return new ReadableStream({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(encoder.encode(chunk));
      controller.close();
    },
  });
}

describe("readSse", () => {
  it("reads events split anywhere, with comments, ids and CRLF", async () => {
    const messages = [];
    for await (const message of readSse(
      stream([
        ": keep-alive\n\nid: 1\nevent: queued\nda",
        'ta: {"a":1}\r',
        "\n\r\nid: 2\nevent: succeeded\ndata: x\ndata: y\n\n",
      ]),
    )) {
      messages.push(message);
    }
    expect(messages).toEqual([
      { event: "queued", data: '{"a":1}', id: "1" },
      { event: "succeeded", data: "x\ny", id: "2" },
    ]);
  });
});

describe("slugify", () => {
  it("makes short, safe names from prompts", () => {
    expect(slugify("A Red Fox!")).toBe("a-red-fox");
    expect(slugify("Crème brûlée, top view")).toBe("creme-brulee-top-view");
    expect(slugify("日本")).toBe("image");
    const long = slugify("a very long prompt about a lighthouse on a cliff at dawn with seagulls and waves");
    expect(long.length).toBeLessThanOrEqual(50);
    expect(long.endsWith("-")).toBe(false);
  });
});

describe("progress", () => {
  it("draws a bar with state and elapsed time on a terminal, plain lines otherwise", () => {
    let now = 0;
    let tty = "";
    const bar = createProgress({ write: (text: string) => (tty += text) }, "tty", () => now);
    bar.update("queued", "waiting for a free account");
    now = 12_000;
    bar.update(
      ...describeEvent({
        type: "progress",
        job_id: "j",
        seq: 3,
        at: null,
        attempt: 1,
        stage: "generating",
        message: null,
      }),
    );
    bar.stop();
    expect(tty).toContain("\r\x1b[2K[");
    expect(tty).toMatch(/queued · waiting for a free account · 0s/);
    expect(tty).toMatch(/█+░+\] running · generating · 12s/);

    let plain = "";
    const lines = createProgress({ write: (text: string) => (plain += text) }, "plain", () => now);
    lines.update("running", "sent");
    lines.update("running", "sent");
    lines.note("a warning");
    expect(plain).toBe("codex-img: running (sent) after 0s\ncodex-img: a warning\n");

    let quiet = "";
    const none = createProgress({ write: (text: string) => (quiet += text) }, "quiet");
    none.update("running");
    none.note("still shown");
    expect(quiet).toBe("codex-img: still shown\n");
  });
});

describe("exit codes", () => {
  it("maps auth, quota, upstream and unreachable to their classes", () => {
    expect(EXIT_CODE_BY_ERROR.unauthorized).toBe(3);
    expect(EXIT_CODE_BY_ERROR.forbidden).toBe(3);
    expect(EXIT_CODE_BY_ERROR.quota_exhausted).toBe(4);
    expect(EXIT_CODE_BY_ERROR.upstream_refused).toBe(5);
    expect(EXIT_CODE_BY_ERROR.unreachable).toBe(6);
  });
});

describe("the library part stays portable", () => {
  it("src/ outside cli/ imports no node: modules and only types from @codex-img packages", async () => {
    const dir = join(import.meta.dirname, "../src");
    const files = (await readdir(dir)).filter((name) => name.endsWith(".ts"));
    expect(files.length).toBeGreaterThan(3);
    for (const file of files) {
      const text = await readFile(join(dir, file), "utf8");
      expect(text, file).not.toMatch(/from "node:/);
      for (const match of text.matchAll(/^import (.*?) from "@codex-img\/[^"]+";$/gms)) {
        expect(match[1], file).toMatch(/^type /);
      }
    }
  });
});
