import type { ImageFormat } from "../types.js";

/**
 * The runtime's native base64, when it has one: `Buffer` on Node and Bun (and Deno's Node layer) is an
 * order of magnitude faster than `btoa` over a binary string, and images are megabytes.
 */
interface NativeBuffer {
  from(
    data: ArrayBufferLike,
    byteOffset?: number,
    length?: number,
  ): { toString(encoding: "base64" | "ascii"): string };
  from(data: string, encoding: "base64"): Uint8Array;
}
const nativeBuffer = (globalThis as { Buffer?: NativeBuffer }).Buffer;

/** Base64 of bytes: native `Buffer` where the runtime has it, else Web-standard `btoa`. */
export function bytesToBase64(bytes: Uint8Array): string {
  if (nativeBuffer)
    return nativeBuffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64");
  let binary = "";
  const chunk = 0x8000;
  for (let i = 0; i < bytes.length; i += chunk) {
    binary += String.fromCharCode(...bytes.subarray(i, i + chunk));
  }
  return btoa(binary);
}

/**
 * Decodes standard or URL-safe base64, with or without padding and whitespace.
 * Throws `TypeError` on anything else, so callers can reject bad input at the door.
 */
export function base64ToBytes(base64: string): Uint8Array {
  const clean = base64.replace(/\s+/g, "").replaceAll("-", "+").replaceAll("_", "/");
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(clean) || clean.replace(/=+$/, "").length % 4 === 1) {
    throw new TypeError("not valid base64");
  }
  if (nativeBuffer) {
    const decoded = nativeBuffer.from(clean, "base64");
    return new Uint8Array(decoded.buffer, decoded.byteOffset, decoded.byteLength);
  }
  const binary = atob(clean.padEnd(Math.ceil(clean.length / 4) * 4, "="));
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/**
 * Decodes base64 that is still bytes (the raw inside of a JSON string from an upstream reply). With
 * `Buffer` the bytes become a one-byte string (`ascii`: the cheapest conversion in Bun, and base64 is
 * ASCII) and are decoded natively, without a UTF-8 decoder, a validating regex or a UTF-16 copy; the
 * result is checked by sniffing the image, not here. A JSON escape
 * inside (`\/`, `\n`) takes the slow path through `JSON.parse`.
 */
export function base64AsciiToBytes(ascii: Uint8Array): Uint8Array {
  if (ascii.includes(0x5c))
    return base64ToBytes(JSON.parse(`"${new TextDecoder().decode(ascii)}"`) as string);
  if (nativeBuffer) {
    const decoded = nativeBuffer.from(asciiText(ascii), "base64");
    return new Uint8Array(decoded.buffer, decoded.byteOffset, decoded.byteLength);
  }
  return base64ToBytes(new TextDecoder("latin1").decode(ascii));
}

/**
 * ASCII bytes (base64 text) as a string: one byte per character, copied natively (`Buffer`'s `ascii`, the
 * cheapest conversion in Bun) where the runtime has it.
 */
export function asciiText(ascii: Uint8Array): string {
  if (nativeBuffer)
    return nativeBuffer.from(ascii.buffer, ascii.byteOffset, ascii.byteLength).toString("ascii");
  return new TextDecoder("latin1").decode(ascii);
}

export const IMAGE_MIME_TYPES: Record<ImageFormat, string> = {
  png: "image/png",
  jpeg: "image/jpeg",
  webp: "image/webp",
};

/** `data:image/png;base64,…` as the Codex image routes require for references. */
export function toDataUrl(bytes: Uint8Array, format: ImageFormat): string {
  return `data:${IMAGE_MIME_TYPES[format]};base64,${bytesToBase64(bytes)}`;
}

/** Accepts a data URL or bare base64 (with a data URL's declared type ignored: bytes are sniffed later). */
export function fromDataUrlOrBase64(value: string): Uint8Array {
  const match = /^data:[^;,]*(?:;[^,]*)?,/.exec(value);
  return base64ToBytes(match ? value.slice(match[0].length) : value);
}

/**
 * `fromDataUrlOrBase64` for a value that is still bytes (the inside of a JSON string of a request body):
 * the same values are accepted and the same throw `TypeError`, but the base64 is decoded natively by
 * `base64AsciiToBytes` without becoming a JS string. Native decoders skip what is not base64 instead of
 * refusing it, so the decoded length is what proves every character was valid. Whitespace inside (which
 * the string form strips) takes the string path.
 */
export function fromDataUrlOrBase64Bytes(ascii: Uint8Array): Uint8Array {
  let start = 0;
  if (startsWith(ascii, DATA_PREFIX)) {
    const comma = ascii.indexOf(0x2c);
    if (comma !== -1) start = comma + 1;
  }
  let body = ascii.subarray(start);
  if (!nativeBuffer || body.includes(0x5c) || WHITESPACE.some((byte) => body.includes(byte))) {
    return fromDataUrlOrBase64(new TextDecoder().decode(ascii));
  }
  let end = body.length;
  while (end > 0 && body[end - 1] === 0x3d && body.length - end < 2) end--;
  body = body.subarray(0, end);
  if (end % 4 === 1) throw new TypeError("not valid base64");
  // Decoded a slice at a time into the result: a native decode goes through a one-byte string, and one
  // slice's string is far smaller than the whole reference's.
  const decoded = new Uint8Array(Math.floor((end * 3) / 4));
  for (let at = 0; at < end; at += DECODE_SLICE) {
    const part = base64AsciiToBytes(body.subarray(at, at + DECODE_SLICE));
    const offset = (at / 4) * 3;
    if (part.length !== Math.min(decoded.length - offset, (DECODE_SLICE / 4) * 3)) {
      throw new TypeError("not valid base64");
    }
    decoded.set(part, offset);
  }
  return decoded;
}

/** Base64 characters decoded at once by `fromDataUrlOrBase64Bytes` (a multiple of 4). */
const DECODE_SLICE = 4 * 256 * 1024;

const DATA_PREFIX = new TextEncoder().encode("data:");
/** What `\s` matches in ASCII. */
const WHITESPACE = [0x20, 0x09, 0x0a, 0x0b, 0x0c, 0x0d];

function startsWith(bytes: Uint8Array, prefix: Uint8Array): boolean {
  return prefix.every((byte, i) => bytes[i] === byte);
}
