const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COLON = 0x3a;
/** Keys longer than this are never one of the streamed keys: their text is not kept. */
const MAX_KEY_BYTES = 64;

/** A JSON string value being streamed: its characters with escapes applied, as bytes. */
export interface StreamedString {
  /** The key it is the value of. */
  key: string;
  /** Its index in the document: `StreamedJsonDocument.streamed` answers it for the placeholder left in its place. */
  index: number;
}

/** A document read by `StreamedJsonReader`: its value, with a placeholder string for each streamed value. */
export interface StreamedJsonDocument {
  value: unknown;
  /** The index of the streamed value `placeholder` stands for; undefined for any other value. */
  streamed(placeholder: unknown): number | undefined;
}

/**
 * Reads a JSON document from byte chunks as they arrive, handing the values of the chosen keys (the
 * megabytes of an image's base64) out piece by piece as their bytes arrive, instead of holding them: the
 * caller decodes and stores each piece before the next chunk is read. Everything else (a few hundred
 * bytes of fields) is kept and parsed at the end, with a placeholder in place of each streamed value.
 * Chunk boundaries may fall anywhere, inside an escape (`\/`, `\u002f`) too. The value's characters are
 * given with escapes applied; escaped whitespace (`\n`, `\r`, `\t`) is dropped, as a base64 decoder would.
 * String tokens are found with the runtime's native `indexOf`, one jump per chunk of a long value.
 */
export class StreamedJsonReader {
  /** A random tag per document: an upstream string cannot be mistaken for one of our placeholders. */
  private readonly tag = `\u0000${crypto.randomUUID()}:`;
  private readonly kept: Uint8Array[] = [];
  private readonly encoder = new TextEncoder();
  private chunk: Uint8Array = new Uint8Array(0);
  private position = 0;
  private received = 0;
  private streamedCount = 0;
  /** Where we are: between tokens, in a kept string, or in a streamed string. */
  private mode: "between" | "kept" | "streamed" = "between";
  /** Start (in `chunk`) of the bytes not yet copied to `kept`. */
  private copyFrom = 0;
  /** A kept string's backslash ended the previous chunk. */
  private keptEscape = false;
  /** The text of the kept string being read, while it is short enough to be a key. */
  private keyBytes: number[] | undefined = [];
  /** The last string closed, while nothing but whitespace followed it: a key if a `:` comes next. */
  private lastString: string | undefined;
  /** The key whose value comes next (after its `:`). */
  private valueKey: string | undefined;
  /** An escape in a streamed value, cut by a chunk boundary: its bytes so far, the backslash included. */
  private escape: number[] | undefined;
  private ended = false;

  constructor(
    private readonly chunks: AsyncIterator<Uint8Array>,
    private readonly streamKeys: ReadonlySet<string>,
    private readonly maxBytes: number,
    private readonly tooLarge: () => Error,
  ) {}

  /** The next streamed value, once its opening quote has arrived; undefined at the end of the document. */
  async nextString(): Promise<StreamedString | undefined> {
    for (;;) {
      if (this.mode === "streamed") {
        // The caller stopped reading the previous value early: skip the rest of it.
        while ((await this.nextPiece()) !== undefined) {}
        continue;
      }
      const opened = this.scanBetween();
      if (opened) return opened;
      if (!(await this.pull())) return undefined;
    }
  }

  /** True when the body ended inside a streamed value (its bytes are not the whole value). */
  get cutShort(): boolean {
    return this.ended && this.mode === "streamed";
  }

  /** The next piece of the current streamed value (escapes applied); undefined at its closing quote. */
  async nextPiece(): Promise<Uint8Array | undefined> {
    for (;;) {
      if (this.mode !== "streamed") return undefined;
      const piece = this.scanStreamed();
      if (piece === undefined) return undefined;
      if (piece.length > 0) return piece;
      if (!(await this.pull())) return undefined;
    }
  }

  /** The rest of the document, parsed, once `nextString` returned undefined; undefined if it is not JSON. */
  document(): StreamedJsonDocument | undefined {
    const text = this.keptText();
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      return undefined;
    }
    const tag = this.tag;
    return {
      value,
      streamed(placeholder) {
        if (typeof placeholder !== "string" || !placeholder.startsWith(tag)) return undefined;
        return Number(placeholder.slice(tag.length));
      },
    };
  }

  /** The placeholder string that stands for streamed value `index` in the document. */
  placeholder(index: number): string {
    return `${this.tag}${index}`;
  }

  /** The document's text without its streamed values (each one's placeholder in its place). */
  keptText(): string {
    const decoder = new TextDecoder();
    let text = "";
    for (const part of this.kept) text += decoder.decode(part, { stream: true });
    return text + decoder.decode();
  }

  /** Reads the next chunk; false at the end of the body. */
  private async pull(): Promise<boolean> {
    if (this.mode !== "streamed") this.keep(this.chunk.subarray(this.copyFrom));
    this.copyFrom = this.chunk.length;
    if (this.ended) return false;
    const next = await this.chunks.next();
    if (next.done) {
      this.ended = true;
      return false;
    }
    this.received += next.value.length;
    if (this.received > this.maxBytes) throw this.tooLarge();
    this.chunk = next.value;
    this.position = 0;
    this.copyFrom = 0;
    return true;
  }

  /** Copies bytes of the document that are kept (the source may reuse its chunks). */
  private keep(bytes: Uint8Array): void {
    if (bytes.length > 0) this.kept.push(bytes.slice());
  }

  /** Scans the current chunk outside streamed values; returns a streamed value when one opens. */
  private scanBetween(): StreamedString | undefined {
    const bytes = this.chunk;
    let i = this.position;
    while (i < bytes.length) {
      if (this.mode === "kept") {
        const end = this.keptStringEnd(bytes, i);
        if (end === -1) {
          i = bytes.length;
          break;
        }
        i = end + 1;
        this.mode = "between";
        this.lastString = this.keyBytes === undefined ? undefined : String.fromCharCode(...this.keyBytes);
        continue;
      }
      const byte = bytes[i] as number;
      if (byte === QUOTE) {
        const key = this.valueKey;
        this.valueKey = undefined;
        this.lastString = undefined;
        if (key !== undefined && this.streamKeys.has(key)) {
          this.keep(bytes.subarray(this.copyFrom, i));
          this.keep(this.encoder.encode(JSON.stringify(this.placeholder(this.streamedCount))));
          this.position = i + 1;
          this.mode = "streamed";
          return { key, index: this.streamedCount++ };
        }
        this.mode = "kept";
        this.keyBytes = [];
        i += 1;
        continue;
      }
      // Whitespace between tokens changes nothing; `:` makes the last string a key; anything else ends both.
      if (byte !== 0x20 && byte !== 0x0a && byte !== 0x0d && byte !== 0x09) {
        this.valueKey = byte === COLON ? this.lastString : undefined;
        this.lastString = undefined;
      }
      i += 1;
    }
    this.position = i;
    return undefined;
  }

  /**
   * In a kept string from `from`: the index of its closing quote, or -1 when the chunk ends first. Records
   * the string's text while it may still be a key (keys are ASCII; one with an escape is never ours).
   */
  private keptStringEnd(bytes: Uint8Array, from: number): number {
    let i = from;
    for (;;) {
      if (this.keptEscape) {
        // The byte after a backslash never closes the string (nor do the digits of `\u`).
        if (i >= bytes.length) return -1;
        this.keptEscape = false;
        this.keyBytes = undefined;
        i += 1;
        continue;
      }
      const quote = bytes.indexOf(QUOTE, i);
      const backslash = bytes.indexOf(BACKSLASH, i);
      const stop = quote === -1 ? backslash : backslash === -1 ? quote : Math.min(quote, backslash);
      const end = stop === -1 ? bytes.length : stop;
      if (this.keyBytes !== undefined) {
        if (this.keyBytes.length + (end - i) > MAX_KEY_BYTES) this.keyBytes = undefined;
        else for (let k = i; k < end; k++) this.keyBytes.push(bytes[k] as number);
      }
      if (stop === -1) return -1;
      if (stop === quote) return quote;
      this.keptEscape = true;
      i = backslash + 1;
    }
  }

  /**
   * The next piece of the streamed value in the current chunk: a view up to its next quote or backslash,
   * an escape's character, or an empty array when the chunk is used up; undefined at the closing quote.
   */
  private scanStreamed(): Uint8Array | undefined {
    const bytes = this.chunk;
    let i = this.position;
    while (i < bytes.length) {
      if (this.escape) {
        this.escape.push(bytes[i] as number);
        i += 1;
        const resolved = resolveEscape(this.escape);
        if (resolved === "more") continue;
        this.escape = undefined;
        if (resolved.length > 0) {
          this.position = i;
          return resolved;
        }
        continue;
      }
      const quote = bytes.indexOf(QUOTE, i);
      const backslash = bytes.indexOf(BACKSLASH, i);
      const stop = quote === -1 ? backslash : backslash === -1 ? quote : Math.min(quote, backslash);
      if (stop === -1) {
        this.position = bytes.length;
        return bytes.subarray(i);
      }
      if (stop > i) {
        this.position = stop;
        return bytes.subarray(i, stop);
      }
      if (stop === quote) {
        this.position = quote + 1;
        this.copyFrom = quote + 1;
        this.mode = "between";
        return undefined;
      }
      this.escape = [BACKSLASH];
      i += 1;
    }
    this.position = i;
    return EMPTY;
  }
}

const EMPTY = new Uint8Array(0);
const SIMPLE_ESCAPES: Record<number, number | undefined> = {
  34: 0x22, // \"
  92: 0x5c, // \\
  47: 0x2f, // \/
};
/** `\b \f \n \r \t`: whitespace or control characters, never part of base64: dropped. */
const DROPPED_ESCAPES = new Set([0x62, 0x66, 0x6e, 0x72, 0x74]);

/** An escape's bytes (backslash first) to the character it stands for, or "more" while it is incomplete. */
function resolveEscape(sequence: number[]): Uint8Array | "more" {
  const kind = sequence[1];
  if (kind === undefined) return "more";
  const simple = SIMPLE_ESCAPES[kind];
  if (simple !== undefined) return Uint8Array.of(simple);
  if (DROPPED_ESCAPES.has(kind)) return EMPTY;
  if (kind !== 0x75) return EMPTY; // not JSON; the image's sniff will fail if it mattered
  if (sequence.length < 6) return "more";
  const code = Number.parseInt(String.fromCharCode(...sequence.slice(2, 6)), 16);
  // ASCII only: anything else is not base64 (and `\u000a`-style whitespace is dropped like `\n`).
  if (!(code > 0x20 && code < 0x7f)) return EMPTY;
  return Uint8Array.of(code);
}
