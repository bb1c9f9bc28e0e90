import { readSseEvents, type SseEvent, SseParser } from "@codex-img/core";
import { describe, expect, it } from "vitest";

const encoder = new TextEncoder();

/** Feeds `bytes` split at every given offset, collecting events. */
function parseInPieces(bytes: Uint8Array, cuts: number[]): SseEvent[] {
  const parser = new SseParser();
  const events: SseEvent[] = [];
  let start = 0;
  for (const cut of [...cuts, bytes.length]) {
    events.push(...parser.push(bytes.subarray(start, cut)));
    start = cut;
  }
  events.push(...parser.end());
  return events;
}

describe("SseParser", () => {
  it("reads event and data fields, skips comments, joins multi-line data with \\n", () => {
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
    expect(parseInPieces(encoder.encode(text), [])).toEqual([
      { event: "response.created", data: '{"type":"response.created"}' },
      { event: "message", data: "line one\nline two\n" },
      { event: "message", data: "[DONE]", id: "7" },
    ]);
  });

  it("gives the same events for CRLF, CR and LF line ends, cut at every byte", () => {
    const lf = 'event: a\ndata: {"x":"é😀"}\n\n: c\ndata: 2\ndata: 3\n\n';
    const expected = [
      { event: "a", data: '{"x":"é😀"}' },
      { event: "message", data: "2\n3" },
    ];
    for (const eol of ["\n", "\r\n", "\r"]) {
      const bytes = encoder.encode(lf.replaceAll("\n", eol));
      expect(parseInPieces(bytes, [])).toEqual(expected);
      // Every single cut position, including inside the multi-byte characters and between CR and LF.
      for (let cut = 1; cut < bytes.length; cut++) expect(parseInPieces(bytes, [cut])).toEqual(expected);
      // Byte by byte.
      expect(
        parseInPieces(
          bytes,
          Array.from({ length: bytes.length - 1 }, (_, i) => i + 1),
        ),
      ).toEqual(expected);
    }
  });

  it("delivers a last event that lacks its blank line when the stream ends", () => {
    expect(parseInPieces(encoder.encode('data: {"type":"response.completed"}'), [])).toEqual([
      { event: "message", data: '{"type":"response.completed"}' },
    ]);
  });

  it("strips exactly one space after the colon and keeps the rest", () => {
    expect(parseInPieces(encoder.encode("data:   spaced\n\n"), [])).toEqual([
      { event: "message", data: "  spaced" },
    ]);
  });

  it("handles a long base64 line arriving in many chunks", () => {
    const payload = "A".repeat(200_000);
    const bytes = encoder.encode(`event: big\ndata: ${payload}\n\n`);
    const cuts = Array.from({ length: 300 }, (_, i) => (i + 1) * 617);
    const events = parseInPieces(bytes, cuts);
    expect(events).toHaveLength(1);
    expect(events[0]?.data.length).toBe(200_000);
  });
});

describe("readSseEvents", () => {
  it("reads a ReadableStream and reports every chunk", async () => {
    const chunks = ["event: one\nda", "ta: 1\n\r\n", "data: 2\r", "\n\r\n"].map((c) => encoder.encode(c));
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        for (const chunk of chunks) controller.enqueue(chunk);
        controller.close();
      },
    });
    let seen = 0;
    const events: SseEvent[] = [];
    for await (const event of readSseEvents(stream, () => seen++)) events.push(event);
    expect(events).toEqual([
      { event: "one", data: "1" },
      { event: "message", data: "2" },
    ]);
    expect(seen).toBe(4);
  });
});
