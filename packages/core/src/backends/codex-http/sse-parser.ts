/**
 * A streaming Server-Sent Events parser (WHATWG framing) that works on raw bytes: chunk boundaries may
 * fall anywhere, including inside a UTF-8 character or between the CR and LF of a CRLF.
 */

export interface SseEvent {
  /** The `event:` field, `message` when absent. */
  event: string;
  /** `data:` lines joined with `\n`. */
  data: string;
  /** The `id:` field, when sent. */
  id?: string;
}

export class SseParser {
  private readonly decoder = new TextDecoder("utf-8");
  private buffer = "";
  /** Where to resume looking for a line end, so long base64 lines are scanned once. */
  private scanFrom = 0;
  /** The previous chunk ended with CR: a leading LF in the next one belongs to it. */
  private skipLeadingLf = false;
  private eventType = "";
  private dataLines: string[] = [];
  private lastId: string | undefined;

  /** Feeds bytes (or already decoded text); returns the events completed by them. */
  push(chunk: Uint8Array | string): SseEvent[] {
    let text = typeof chunk === "string" ? chunk : this.decoder.decode(chunk, { stream: true });
    if (text.length === 0) return [];
    if (this.skipLeadingLf) {
      this.skipLeadingLf = false;
      if (text.startsWith("\n")) text = text.slice(1);
    }
    this.buffer += text;
    return this.drainLines();
  }

  /**
   * Ends the stream. Unlike the browser, a last event without its blank line is still delivered:
   * some proxies close right after the final `data:` line, and a truncated JSON payload fails to
   * parse downstream anyway.
   */
  end(): SseEvent[] {
    const events: SseEvent[] = [];
    const tail = this.decoder.decode();
    if (tail) events.push(...this.push(tail));
    if (this.buffer.length > 0) {
      const line = this.buffer;
      this.buffer = "";
      this.scanFrom = 0;
      const event = this.processLine(line);
      if (event) events.push(event);
    }
    const pending = this.dispatch();
    if (pending) events.push(pending);
    return events;
  }

  private drainLines(): SseEvent[] {
    const events: SseEvent[] = [];
    let start = 0;
    let i = this.scanFrom;
    const buffer = this.buffer;
    while (i < buffer.length) {
      const ch = buffer.charCodeAt(i);
      if (ch !== 10 && ch !== 13) {
        i++;
        continue;
      }
      const line = buffer.slice(start, i);
      if (ch === 13) {
        if (i + 1 < buffer.length) {
          i += buffer.charCodeAt(i + 1) === 10 ? 2 : 1;
        } else {
          this.skipLeadingLf = true;
          i += 1;
        }
      } else {
        i += 1;
      }
      start = i;
      const event = this.processLine(line);
      if (event) events.push(event);
    }
    this.buffer = buffer.slice(start);
    this.scanFrom = this.buffer.length;
    return events;
  }

  private processLine(line: string): SseEvent | undefined {
    if (line === "") return this.dispatch();
    if (line.startsWith(":")) return undefined;
    const colon = line.indexOf(":");
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    switch (field) {
      case "event":
        this.eventType = value;
        break;
      case "data":
        this.dataLines.push(value);
        break;
      case "id":
        if (!value.includes("\0")) this.lastId = value;
        break;
      default:
        // `retry` and unknown fields carry nothing we use.
        break;
    }
    return undefined;
  }

  private dispatch(): SseEvent | undefined {
    const hadData = this.dataLines.length > 0;
    const event: SseEvent = {
      event: this.eventType || "message",
      data: this.dataLines.join("\n"),
      ...(this.lastId === undefined ? {} : { id: this.lastId }),
    };
    this.eventType = "";
    this.dataLines = [];
    return hadData ? event : undefined;
  }
}

/**
 * Reads a byte stream as SSE events. `onChunk` runs for every chunk received (the backend uses it to
 * reset its idle timer).
 */
export async function* readSseEvents(
  stream: ReadableStream<Uint8Array> | AsyncIterable<Uint8Array>,
  onChunk?: (chunk: Uint8Array) => void,
): AsyncGenerator<SseEvent, void, undefined> {
  const parser = new SseParser();
  for await (const chunk of iterateBytes(stream)) {
    onChunk?.(chunk);
    yield* parser.push(chunk);
  }
  yield* parser.end();
}

async function* iterateBytes(
  stream: ReadableStream<Uint8Array> | AsyncIterable<Uint8Array>,
): AsyncGenerator<Uint8Array, void, undefined> {
  if (!("getReader" in stream)) {
    yield* stream;
    return;
  }
  const reader = stream.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      if (value) yield value;
    }
  } finally {
    // Early exit (error or return) must release the connection, not leave it half-read.
    reader.cancel().catch(() => {});
    try {
      reader.releaseLock();
    } catch {
      // Older runtimes refuse while a read is pending; the cancel above already freed the stream.
    }
  }
}
