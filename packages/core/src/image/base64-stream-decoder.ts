import { base64ToBytes } from "./base64.js";

interface NativeBuffer {
  from(data: ArrayBufferLike, byteOffset?: number, length?: number): { toString(encoding: "latin1"): string };
  from(data: string, encoding: "base64"): Uint8Array;
}
const nativeBuffer = (globalThis as { Buffer?: NativeBuffer }).Buffer;

/**
 * Decodes base64 that arrives in pieces cut anywhere (inside a 4-character quantum too), as ASCII bytes:
 * each `push` returns the bytes of the whole quanta seen so far and keeps the 0-3 characters left over
 * for the next piece, so an image is decoded while its reply streams in, never held as one string.
 * Decoding is the runtime's native one (`Buffer`) where there is one; like `base64AsciiToBytes`, it is
 * lenient, and the result is checked by sniffing the image, not here.
 */
export class Base64StreamDecoder {
  /** Characters of an unfinished quantum, carried to the next piece. */
  private readonly carry = new Uint8Array(4);
  private carried = 0;

  push(ascii: Uint8Array): Uint8Array {
    let from = 0;
    let head: Uint8Array | undefined;
    if (this.carried > 0) {
      from = Math.min(4 - this.carried, ascii.length);
      this.carry.set(ascii.subarray(0, from), this.carried);
      this.carried += from;
      if (this.carried < 4) return EMPTY;
      head = decodeAscii(this.carry);
      this.carried = 0;
    }
    const whole = from + Math.floor((ascii.length - from) / 4) * 4;
    const body = whole > from ? decodeAscii(ascii.subarray(from, whole)) : EMPTY;
    this.carry.set(ascii.subarray(whole), 0);
    this.carried = ascii.length - whole;
    if (!head) return body;
    if (body.length === 0) return head;
    const out = new Uint8Array(head.length + body.length);
    out.set(head, 0);
    out.set(body, head.length);
    return out;
  }

  /** The bytes of a last quantum without its padding (`iVBO…xyz`); empty when the input ended whole. */
  end(): Uint8Array {
    const rest = this.carried > 0 ? decodeAscii(this.carry.subarray(0, this.carried)) : EMPTY;
    this.carried = 0;
    return rest;
  }
}

const EMPTY = new Uint8Array(0);

function decodeAscii(ascii: Uint8Array): Uint8Array {
  if (nativeBuffer) {
    // latin1 maps each byte to one character: the cheapest byte-to-string step, and base64 is ASCII.
    const text = nativeBuffer.from(ascii.buffer, ascii.byteOffset, ascii.byteLength).toString("latin1");
    const decoded = nativeBuffer.from(text, "base64");
    return new Uint8Array(decoded.buffer, decoded.byteOffset, decoded.byteLength);
  }
  try {
    return base64ToBytes(new TextDecoder("latin1").decode(ascii));
  } catch {
    // Not base64: no bytes, so the sniff of the image fails and names the fault.
    return EMPTY;
  }
}
