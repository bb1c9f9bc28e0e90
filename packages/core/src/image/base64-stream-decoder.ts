const PAD = 0x3d;
const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/** Each character's 6 bits (URL-safe `-` and `_` too); -1 for anything else. */
const SIXTETS = new Int16Array(256).fill(-1);
for (const [i, char] of [...ALPHABET].entries()) SIXTETS[char.charCodeAt(0)] = i;
SIXTETS[0x2d] = 62;
SIXTETS[0x5f] = 63;

/**
 * Two characters' 12 bits, by their two bytes: a quantum is two lookups. 256 KiB, built on first use.
 * -1 when either character is not base64 (so a quantum's bits are negative).
 */
let pairs: Int32Array | undefined;
function pairTable(): Int32Array {
  if (pairs) return pairs;
  pairs = new Int32Array(65536).fill(-1);
  for (let a = 0; a < 256; a++) {
    const high = SIXTETS[a] as number;
    if (high < 0) continue;
    for (let b = 0; b < 256; b++) {
      const low = SIXTETS[b] as number;
      if (low >= 0) pairs[(a << 8) | b] = (high << 6) | low;
    }
  }
  return pairs;
}

/**
 * The runtime's native base64 decoder, where it has `Buffer` (Node, Bun, Deno's Node layer): it decodes
 * a run of whole quanta about five times faster than the lookup loop below, straight into our buffer.
 * It skips what is not base64 instead of failing, so a run is valid exactly when it gave 3 bytes for
 * every 4 characters (a character skipped or a `=` inside the run makes it give fewer).
 */
interface NativeBase64 {
  from(data: ArrayBufferLike, byteOffset: number, length: number): NativeBase64View;
  allocUnsafe(size: number): Uint8Array<ArrayBuffer>;
}
interface NativeBase64View {
  toString(encoding: "latin1"): string;
  write(text: string, offset: number, encoding: "base64"): number;
}
const native = (globalThis as { Buffer?: NativeBase64 }).Buffer;
/** Shorter runs go through the loop: a string and a view per run would cost more than they save. */
const NATIVE_MIN_CHARS = 256;

/**
 * Decode buffers kept between images (`release`): a new one per image was about a megabyte of garbage per
 * image under load. Pieces are the reply's chunks (at most a few hundred KiB each on the runtimes we run
 * on), so one pooled size serves nearly every piece; a larger one gets its own buffer.
 */
const POOLED_BYTES = 1024 * 1024;
const POOL_MAX = 16;
const pool: Uint8Array<ArrayBuffer>[] = [];

/** A buffer of `size` bytes, not zero-filled where the runtime can skip it: every byte is written before it is read. */
function allocate(size: number): Uint8Array<ArrayBuffer> {
  const fresh = native?.allocUnsafe(size);
  // A plain view, not a `Buffer`, so that callers' `slice()` copies (a Buffer's `slice` is a view).
  return fresh ? new Uint8Array(fresh.buffer, fresh.byteOffset, size) : new Uint8Array(size);
}

/**
 * Decodes base64 that arrives in pieces cut anywhere (inside a 4-character quantum too), as ASCII bytes,
 * into one reused buffer: each `push` returns a view of the bytes of the whole quanta seen so far (valid
 * until the next call: copy what must be kept) and carries the 0-3 characters left over. An image is
 * decoded while its reply streams in, without a string or a new buffer per piece (the garbage that kept
 * the server's memory high under load). Standard and URL-safe alphabets, padded or not; anything else
 * makes `valid` false (the image is then refused).
 */
export class Base64StreamDecoder {
  /** Characters of an unfinished quantum, carried to the next piece. */
  private readonly carry = new Uint8Array(4);
  private carried = 0;
  private out: Uint8Array<ArrayBuffer> = new Uint8Array(0);
  private ended = false;
  /** False once a character that is not base64 (or padding before the end) was seen. */
  valid = true;

  push(ascii: Uint8Array): Uint8Array {
    const table = pairTable();
    const capacity = Math.floor((this.carried + ascii.length) / 4) * 3;
    if (this.out.length < capacity) {
      // The views handed out before this call are dead: the outgrown buffer may go back to the pool.
      this.release();
      this.out =
        capacity <= POOLED_BYTES
          ? (pool.pop() ?? allocate(POOLED_BYTES))
          : allocate(Math.max(capacity, 2 * this.out.length));
    }
    const out = this.out;
    let written = 0;
    let from = 0;
    if (this.carried > 0) {
      from = Math.min(4 - this.carried, ascii.length);
      this.carry.set(ascii.subarray(0, from), this.carried);
      this.carried += from;
      if (this.carried < 4) return out.subarray(0, 0);
      written = this.quantum(this.carry, 0, out, 0);
      this.carried = 0;
    }
    const whole = from + Math.floor((ascii.length - from) / 4) * 4;
    // The last quantum may hold padding: it is decoded apart, the others two lookups each.
    const fast = whole > from && (ascii[whole - 1] === PAD || ascii[whole - 2] === PAD) ? whole - 4 : whole;
    // Characters after a padded quantum: the value went on past its end.
    if (this.ended && fast > from) this.valid = false;
    if (native && fast - from >= NATIVE_MIN_CHARS) {
      const text = native.from(ascii.buffer, ascii.byteOffset + from, fast - from).toString("latin1");
      const target = native.from(out.buffer, out.byteOffset, out.byteLength);
      const decoded = target.write(text, written, "base64");
      if (decoded !== ((fast - from) / 4) * 3) this.valid = false;
      written += decoded;
    } else written = this.loop(ascii, from, fast, out, written, table);
    if (fast < whole) written += this.quantum(ascii, fast, out, written);
    this.carry.set(ascii.subarray(whole), 0);
    this.carried = ascii.length - whole;
    return out.subarray(0, written);
  }

  /** Whole unpadded quanta from `from` to `to`, two lookups each; returns where writing ended. */
  private loop(
    ascii: Uint8Array,
    from: number,
    to: number,
    out: Uint8Array,
    at: number,
    table: Int32Array,
  ): number {
    let written = at;
    let bad = 0;
    for (let i = from; i < to; i += 4) {
      const bits =
        ((table[((ascii[i] as number) << 8) | (ascii[i + 1] as number)] as number) << 12) |
        (table[((ascii[i + 2] as number) << 8) | (ascii[i + 3] as number)] as number);
      bad |= bits;
      out[written] = bits >> 16;
      out[written + 1] = bits >> 8;
      out[written + 2] = bits;
      written += 3;
    }
    if (bad < 0) this.valid = false;
    return written;
  }

  /**
   * Gives the decode buffer back for the next image. Call it once the views `push` returned are no longer
   * used (the image is written); the decoder may go on, with a buffer of its own.
   */
  release(): void {
    if (this.out.length === POOLED_BYTES && pool.length < POOL_MAX) pool.push(this.out);
    this.out = new Uint8Array(0);
  }

  /** The bytes of a last quantum without its padding (`…xyz`); empty when the input ended whole. */
  end(): Uint8Array {
    const out = new Uint8Array(3);
    const written = this.carried > 0 ? this.quantum(this.carry.subarray(0, this.carried), 0, out, 0) : 0;
    if (this.carried === 1) this.valid = false;
    this.carried = 0;
    return out.subarray(0, written);
  }

  /** One quantum of 2-4 characters, padding allowed only at the very end; returns the bytes written. */
  private quantum(chars: Uint8Array, at: number, out: Uint8Array, to: number): number {
    if (this.ended) this.valid = false;
    let length = Math.min(4, chars.length - at);
    while (length > 0 && chars[at + length - 1] === PAD) length -= 1;
    if (length < 4) this.ended = true;
    let bits = 0;
    for (let k = 0; k < 4; k++) {
      const sixtet = k < length ? (SIXTETS[chars[at + k] as number] as number) : 0;
      if (sixtet < 0) this.valid = false;
      bits = (bits << 6) | (sixtet & 63);
    }
    const bytes = length <= 1 ? 0 : length - 1;
    for (let k = 0; k < bytes; k++) out[to + k] = (bits >> (16 - 8 * k)) & 0xff;
    return bytes;
  }
}
