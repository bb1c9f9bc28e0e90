import type { ImageFormat } from "../types.js";

/**
 * An image kept as base64 text: the upstream sends each generated image as base64 and a `b64_json` reply
 * sends it back as base64, so the store keeps the text as it came (validated and made canonical on the
 * way) instead of decoding it on arrival and encoding it again for every reply. Only a download decodes it.
 * That saved the decode's strings and the reply's encoded strings, megabytes of garbage per image.
 */

const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const PAD = 0x3d;

/**
 * The first character of each format's base64 (its signature's first six bits), which never begins the
 * format's own bytes: `iV` for PNG's 0x89 `P`, `/9` for JPEG's 0xFF 0xD8, `Uk` for WebP's `RI`. A store
 * tells from an object's first byte whether it holds the image or its base64.
 */
const BASE64_FIRST_BYTE: Record<ImageFormat, number> = { png: 0x69, jpeg: 0x2f, webp: 0x55 };

/** True when an object of `format` that starts with `firstByte` is the image's base64 text. */
export function isBase64Text(format: ImageFormat, firstByte: number | undefined): boolean {
  return firstByte === BASE64_FIRST_BYTE[format];
}

/**
 * Bytes encoded by `length` characters of padded base64 whose last two characters are `beforeLast` and
 * `last` (the padding is read from them).
 */
export function base64DecodedLength(length: number, beforeLast: number, last: number): number {
  return (length / 4) * 3 - (last === PAD ? 1 : 0) - (beforeLast === PAD ? 1 : 0);
}

/** Characters of padded base64 for `bytes` bytes. */
export function base64EncodedLength(bytes: number): number {
  return 4 * Math.ceil(bytes / 3);
}

/**
 * Counts the image bytes of canonical base64 text as it passes, chunk by chunk (the padding is read from
 * the last two characters, whichever chunks they came in).
 */
export function base64TextLength(): { update(chunk: Uint8Array): void; readonly bytes: number } {
  let length = 0;
  let last = 0;
  let beforeLast = 0;
  return {
    update(chunk) {
      length += chunk.length;
      if (chunk.length >= 2) beforeLast = chunk[chunk.length - 2] as number;
      else if (chunk.length === 1) beforeLast = last;
      if (chunk.length > 0) last = chunk[chunk.length - 1] as number;
    },
    get bytes() {
      return base64DecodedLength(length, beforeLast, last);
    },
  };
}

/** What each byte is in base64: one of the standard 64, padding, a URL-safe character, or not base64. */
const STANDARD = 0;
const PADDING = 1;
const URL_SAFE = 2;
const INVALID = 4;
const CLASS = new Uint8Array(256).fill(INVALID);
for (const char of ALPHABET) CLASS[char.charCodeAt(0)] = STANDARD;
CLASS[PAD] = PADDING;
CLASS[0x2d] = URL_SAFE;
CLASS[0x5f] = URL_SAFE;

/** True when the first `end` bytes are all of the standard alphabet: one pass, an OR of every byte's class. */
function allStandard(piece: Uint8Array, end: number): boolean {
  let classes = 0;
  for (let i = 0; i < end; i++) classes |= CLASS[piece[i] as number] as number;
  return classes === STANDARD;
}

/**
 * Makes base64 that arrives piece by piece canonical (standard alphabet, padded) and checks it on the way, without a JS string: `push` gives each piece's canonical text (the piece itself, uncopied,
 * when it already is, as an upstream sends it), `end` the padding, or undefined when the whole was not
 * base64 (a character outside either alphabet, whitespace included, `=` before the end, a length no bytes
 * encode to), as `Base64StreamDecoder` judges it.
 */
export function base64Canonicalizer(): {
  push(piece: Uint8Array): Uint8Array;
  end(): Uint8Array | undefined;
} {
  let characters = 0;
  let padding = 0;
  let valid = true;
  return {
    push(piece) {
      if (padding === 0) {
        // The padding that ends a value (`=` or `==` at the end of its last piece) is counted and cut off
        // here, so that the last piece too goes on uncopied when the rest of it is standard.
        let end = piece.length;
        while (end > 0 && piece[end - 1] === PAD) end -= 1;
        if (allStandard(piece, end)) {
          characters += end;
          padding += piece.length - end;
          return end === piece.length ? piece : piece.subarray(0, end);
        }
      }
      const out = new Uint8Array(piece.length);
      let written = 0;
      for (let i = 0; i < piece.length; i++) {
        const byte = piece[i] as number;
        const kind = CLASS[byte];
        if (kind === PADDING) {
          padding += 1;
          continue;
        }
        // A character after padding, or one that is not base64: the value is refused whole at its end.
        if (kind === INVALID || padding > 0) valid = false;
        out[written++] = byte === 0x2d ? 0x2b : byte === 0x5f ? 0x2f : byte;
        characters += 1;
      }
      return out.subarray(0, written);
    },
    end() {
      const partial = characters % 4;
      const needed = partial === 0 ? 0 : 4 - partial;
      // One character left over encodes no byte; padding given must be the padding the length needs.
      if (!valid || partial === 1 || (padding > 0 && padding !== needed)) return undefined;
      return new Uint8Array(needed).fill(PAD);
    },
  };
}
