const LF = 0x0a;
const CR = 0x0d;
const COLON = 0x3a;
const SPACE = 0x20;
const DATA = new TextEncoder().encode("data");
const NEWLINE = Uint8Array.of(LF);

/**
 * Server-Sent Events read from bytes, one event at a time, with each event's data handed out as byte
 * pieces while they arrive (a `data:` line of megabytes, as an image's base64 in `/responses`, is never
 * held whole nor decoded to a string here). Framing as `SseParser`: lines end with LF, CR or CRLF
 * (cut anywhere), `:` comments, `data:` lines joined with `\n`, an event ends at a blank line or at the
 * end of the body. Only `data` matters here: every Responses payload names its own `type`.
 */
export class SseByteReader {
  private chunk: Uint8Array = new Uint8Array(0);
  private position = 0;
  private ended = false;
  /** The previous piece ended with CR: a LF starting the next one belongs to it. */
  private skipLf = false;
  /** Inside the current event: a data line's value is being handed out. */
  private inData = false;
  /** The current event has had a data line (the next one is joined with `\n`). */
  private hadData = false;
  /** The bytes of a field name read so far on the current line (names are short). */
  private field: number[] | undefined = [];
  /** The current line is a field other than data (or a comment): skipped to its end. */
  private skipping = false;
  /** Just after `data:`: a single leading space is dropped. */
  private afterColon = false;

  constructor(private readonly chunks: AsyncIterator<Uint8Array>) {}

  /** Waits for the next event with data; false at the end of the body. */
  async nextEvent(): Promise<boolean> {
    for (;;) {
      if (this.hadData) {
        // The previous event was not read to its end: skip the rest of it.
        while ((await this.nextData()) !== undefined) {}
        continue;
      }
      const found = this.scanLines();
      if (found) return true;
      if (!(await this.pull())) return false;
    }
  }

  /** The next piece of the current event's data; undefined at the event's end. */
  async nextData(): Promise<Uint8Array | undefined> {
    for (;;) {
      if (!this.hadData) return undefined;
      const piece = this.scanData();
      if (piece === undefined) {
        this.hadData = false;
        return undefined;
      }
      if (piece.length > 0) return piece;
      if (!(await this.pull())) {
        // The body ended inside an event: it is still delivered (as `SseParser` does).
        this.hadData = false;
        return undefined;
      }
    }
  }

  private async pull(): Promise<boolean> {
    if (this.ended) return false;
    const next = await this.chunks.next();
    if (next.done) {
      this.ended = true;
      return false;
    }
    this.chunk = next.value;
    this.position = 0;
    if (this.skipLf && this.chunk[0] === LF) this.position = 1;
    this.skipLf = false;
    return true;
  }

  /** Ends the current line at `eol` (CR or LF); returns the index after its end. */
  private endLine(eol: number): number {
    const bytes = this.chunk;
    if (bytes[eol] === CR) {
      if (eol + 1 < bytes.length) return bytes[eol + 1] === LF ? eol + 2 : eol + 1;
      this.skipLf = true;
    }
    return eol + 1;
  }

  /**
   * Reads a line's start from `position`: skips comments and fields other than `data` to their line's
   * end, and stops at what matters: a `data:` line whose value follows (`"value"`), a `data` line
   * without a colon (`"empty"`: an empty value), a blank line (`"blank"`), or the end of the chunk
   * (undefined). Field names are short: a longer one is never `data`.
   */
  private lineStart(): "value" | "empty" | "blank" | undefined {
    const bytes = this.chunk;
    let i = this.position;
    while (i < bytes.length) {
      if (this.skipping) {
        const eol = nextLineEnd(bytes, i);
        if (eol === -1) break;
        this.skipping = false;
        i = this.endLine(eol);
        continue;
      }
      const byte = bytes[i] as number;
      if (byte === LF || byte === CR || byte === COLON) {
        const field = this.field;
        this.field = [];
        const isData = field !== undefined && sameBytes(field, DATA);
        if (byte === COLON) {
          this.position = i + 1;
          if (isData) return "value";
          this.skipping = true;
          i += 1;
          continue;
        }
        this.position = this.endLine(i);
        if (isData) return "empty";
        if (field?.length === 0) return "blank";
        i = this.position;
        continue;
      }
      if (this.field !== undefined) {
        if (this.field.length < 16) this.field.push(byte);
        else this.field = undefined;
      }
      i += 1;
    }
    this.position = bytes.length;
    return undefined;
  }

  /** Between events: true once a data line opens one, false when the chunk is used up. */
  private scanLines(): boolean {
    for (;;) {
      const line = this.lineStart();
      if (line === undefined) return false;
      if (line === "blank") continue;
      this.hadData = true;
      this.inData = line === "value";
      this.afterColon = this.inData;
      return true;
    }
  }

  /**
   * Inside an event with data: the next piece of a data value (a view), the `\n` joining two data lines,
   * an empty array when the chunk is used up, or undefined at the blank line that ends the event.
   */
  private scanData(): Uint8Array | undefined {
    for (;;) {
      if (!this.inData) {
        const line = this.lineStart();
        if (line === undefined) return EMPTY;
        if (line === "blank") return undefined;
        this.inData = line === "value";
        this.afterColon = this.inData;
        return NEWLINE;
      }
      const bytes = this.chunk;
      let i = this.position;
      if (this.afterColon && i < bytes.length) {
        this.afterColon = false;
        if (bytes[i] === SPACE) i += 1;
      }
      if (i >= bytes.length) {
        this.position = i;
        return EMPTY;
      }
      const eol = nextLineEnd(bytes, i);
      if (eol === -1) {
        this.position = bytes.length;
        return bytes.subarray(i);
      }
      if (eol > i) {
        this.position = eol;
        return bytes.subarray(i, eol);
      }
      this.inData = false;
      this.position = this.endLine(eol);
    }
  }
}

const EMPTY = new Uint8Array(0);

function nextLineEnd(bytes: Uint8Array, from: number): number {
  const lf = bytes.indexOf(LF, from);
  const cr = bytes.indexOf(CR, from);
  return lf === -1 ? cr : cr === -1 ? lf : Math.min(lf, cr);
}

function sameBytes(a: number[], b: Uint8Array): boolean {
  return a.length === b.length && a.every((byte, i) => byte === b[i]);
}
