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
   * Between data values: reads field names and skips other lines until a `data:` line opens (true),
   * or the chunk is used up (false). A blank line between events is nothing to deliver here.
   */
  private scanLines(): boolean {
    const bytes = this.chunk;
    let i = this.position;
    while (i < bytes.length) {
      const byte = bytes[i] as number;
      if (this.skipping) {
        const eol = nextLineEnd(bytes, i);
        if (eol === -1) {
          i = bytes.length;
          break;
        }
        this.skipping = false;
        this.field = [];
        i = this.endLine(eol);
        continue;
      }
      if (byte === LF || byte === CR) {
        // A blank line (no data before it) or a field without a colon: nothing to deliver.
        const isData = this.field !== undefined && sameBytes(this.field, DATA);
        this.field = [];
        i = this.endLine(i);
        if (isData) {
          // `data` alone is an empty data line: an event whose data is "".
          this.position = i;
          this.hadData = true;
          this.inData = false;
          return true;
        }
        continue;
      }
      if (byte === COLON) {
        const isData = this.field !== undefined && this.field.length > 0 && sameBytes(this.field, DATA);
        i += 1;
        this.field = [];
        if (isData) {
          this.position = i;
          this.hadData = true;
          this.inData = true;
          this.afterColon = true;
          return true;
        }
        this.skipping = true;
        continue;
      }
      if (this.field !== undefined) {
        if (this.field.length < 16) this.field.push(byte);
        else this.field = undefined;
      }
      i += 1;
    }
    this.position = i;
    return false;
  }

  /**
   * Inside an event with data: the next piece of a data value (a view), the `\n` joining two data lines,
   * an empty array when the chunk is used up, or undefined at the blank line that ends the event.
   */
  private scanData(): Uint8Array | undefined {
    const bytes = this.chunk;
    let i = this.position;
    while (i < bytes.length) {
      if (this.inData) {
        if (this.afterColon) {
          this.afterColon = false;
          if (bytes[i] === SPACE) {
            i += 1;
            continue;
          }
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
        i = this.endLine(eol);
        continue;
      }
      // At the start of a line after a data line: blank (the end), another data line, or another field.
      const byte = bytes[i] as number;
      if (this.skipping) {
        const eol = nextLineEnd(bytes, i);
        if (eol === -1) {
          i = bytes.length;
          break;
        }
        this.skipping = false;
        this.field = [];
        i = this.endLine(eol);
        continue;
      }
      if ((byte === LF || byte === CR) && this.field !== undefined && this.field.length === 0) {
        this.position = this.endLine(i);
        return undefined;
      }
      if (byte === LF || byte === CR) {
        const isData = this.field !== undefined && sameBytes(this.field, DATA);
        this.field = [];
        i = this.endLine(i);
        if (isData) {
          this.position = i;
          return NEWLINE;
        }
        continue;
      }
      if (byte === COLON) {
        const isData = this.field !== undefined && sameBytes(this.field, DATA);
        this.field = [];
        i += 1;
        if (isData) {
          this.position = i;
          this.inData = true;
          this.afterColon = true;
          return NEWLINE;
        }
        this.skipping = true;
        continue;
      }
      if (this.field !== undefined) {
        if (this.field.length < 16) this.field.push(byte);
        else this.field = undefined;
      }
      i += 1;
    }
    this.position = i;
    return EMPTY;
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
