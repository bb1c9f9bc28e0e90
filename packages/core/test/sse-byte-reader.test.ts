import { SseByteReader } from "@codex-img/core";
import { describe, expect, it } from "vitest";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Every event's data as text, with `bytes` delivered split at every given offset. */
async function readInPieces(bytes: Uint8Array, cuts: number[]): Promise<string[]> {
  const pieces: Uint8Array[] = [];
  let start = 0;
  for (const cut of [...cuts, bytes.length]) {
    pieces.push(bytes.slice(start, cut));
    start = cut;
  }
  const reader = new SseByteReader(
    (async function* () {
      yield* pieces;
    })(),
  );
  const events: string[] = [];
  while (await reader.nextEvent()) {
    const parts: Uint8Array[] = [];
    for (let piece = await reader.nextData(); piece; piece = await reader.nextData())
      parts.push(piece.slice());
    events.push(decoder.decode(Buffer.concat(parts)));
  }
  return events;
}

describe("SseByteReader", () => {
  it("reads data fields, skips comments and other fields, joins multi-line data with \\n", async () => {
    const text = [
      ": keep-alive comment",
      "event: response.created",
      'data: {"type":"response.created"}',
      "",
      "data: line one",
      "data:line two",
      "data",
      "",
      "event: ignored-without-data",
      "",
      "id: 7",
      "data: [DONE]",
      "",
      "",
    ].join("\n");
    expect(await readInPieces(encoder.encode(text), [])).toEqual([
      '{"type":"response.created"}',
      "line one\nline two\n",
      "[DONE]",
    ]);
  });

  it("gives the same events for CRLF, CR and LF line ends, cut at every byte", async () => {
    const lf = 'event: a\ndata: {"x":"é😀"}\n\n: c\ndata: 2\ndata: 3\n\n';
    const expected = ['{"x":"é😀"}', "2\n3"];
    for (const eol of ["\n", "\r\n", "\r"]) {
      const bytes = encoder.encode(lf.replaceAll("\n", eol));
      expect(await readInPieces(bytes, [])).toEqual(expected);
      // Every single cut position, including inside the multi-byte characters and between CR and LF.
      for (let cut = 1; cut < bytes.length; cut++) expect(await readInPieces(bytes, [cut])).toEqual(expected);
      // Byte by byte.
      expect(
        await readInPieces(
          bytes,
          Array.from({ length: bytes.length - 1 }, (_, i) => i + 1),
        ),
      ).toEqual(expected);
    }
  });

  it("delivers a last event that lacks its blank line when the stream ends", async () => {
    expect(await readInPieces(encoder.encode('data: {"type":"response.completed"}'), [])).toEqual([
      '{"type":"response.completed"}',
    ]);
  });

  it("strips exactly one space after the colon and keeps the rest", async () => {
    expect(await readInPieces(encoder.encode("data:   spaced\n\n"), [])).toEqual(["  spaced"]);
  });

  it("hands a long base64 line out in pieces as its chunks arrive, never whole", async () => {
    const payload = "A".repeat(200_000);
    const bytes = encoder.encode(`event: big\ndata: ${payload}\n\n`);
    const cuts = Array.from({ length: Math.floor(bytes.length / 617) }, (_, i) => (i + 1) * 617);
    const reader = new SseByteReader(
      (async function* () {
        let start = 0;
        for (const cut of [...cuts, bytes.length]) {
          yield bytes.subarray(start, cut);
          start = cut;
        }
      })(),
    );
    expect(await reader.nextEvent()).toBe(true);
    let total = 0;
    let largest = 0;
    for (let piece = await reader.nextData(); piece; piece = await reader.nextData()) {
      total += piece.length;
      largest = Math.max(largest, piece.length);
    }
    expect(total).toBe(200_000);
    expect(largest).toBeLessThanOrEqual(617);
    expect(await reader.nextEvent()).toBe(false);
  });
});
