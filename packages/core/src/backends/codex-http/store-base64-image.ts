import { Base64StreamDecoder } from "../../image/base64-stream-decoder.js";
import { base64Canonicalizer } from "../../image/base64-text.js";
import { concatBytes } from "../../image/concat-bytes.js";
import { type ImageInfo, sniffImage } from "../../image/sniff.js";
import type { ImageSink, StoredGeneratedImage } from "../../types.js";

/** How much decoded image is held at most while looking for its header (a JPEG's SOF may follow EXIF). */
const SNIFF_LIMIT_BYTES = 1024 * 1024;
/** Base64 characters decoded at a time while looking for the image's header (a multiple of 4). */
const HEAD_SLICE = 16 * 1024;
/** `data:` (a rare data-URL prefix on the bare base64 upstream is meant to send). */
const DATA_URL = [0x64, 0x61, 0x74, 0x61, 0x3a];
const COMMA = 0x2c;

/**
 * Stores one image whose base64 arrives piece by piece (`nextPiece` answers undefined at its end): the
 * format and size are read from the first decoded bytes, and the base64 itself is written into `sink` as
 * it comes (made canonical and checked on the way, `base64Canonicalizer`), so only a chunk or two is ever
 * held and the rest is never decoded: a `b64_json` reply sends the text as it is (`base64-text.ts`).
 * Returns undefined for an empty value; throws `notImage()` when the bytes are not a PNG, JPEG or WebP
 * image or the text is not base64, and `cutShort()` when the reply ended inside the value (the sink keeps
 * nothing in either case).
 */
export async function storeBase64Image(
  nextPiece: () => Promise<Uint8Array | undefined>,
  sink: ImageSink,
  errors: { notImage: () => Error; cutShort: () => Error | undefined },
): Promise<Omit<StoredGeneratedImage, "revisedPrompt" | "partial"> | undefined> {
  const decoder = new Base64StreamDecoder();
  const text = base64Canonicalizer();
  // The text of the head: views of the reader's chunks, copied only before another piece is read (the
  // reader may reuse or free a chunk once the next is asked for).
  const headText: Uint8Array[] = [];
  // The decoded head, in one buffer grown by doubling: a header found late (a JPEG's SOF after a large EXIF)
  // costs one copy of the head, not a re-join of every piece so far at each piece.
  let head = new Uint8Array(0);
  let headBytes = 0;
  let info: ImageInfo | undefined;
  let ended = false;
  const sniff = (decoded: Uint8Array, last: boolean): void => {
    if (decoded.length === 0) return;
    // The decoder reuses its buffer: what is kept for the sniff is copied.
    if (head.length < headBytes + decoded.length) {
      const grown = new Uint8Array(Math.max(2 * head.length, headBytes + decoded.length));
      grown.set(head.subarray(0, headBytes));
      head = grown;
    }
    head.set(decoded, headBytes);
    headBytes += decoded.length;
    if (headBytes <= SNIFF_LIMIT_BYTES || last) info = sniffImage(head.subarray(0, headBytes));
  };
  let raw = await withoutDataUrlPrefix(nextPiece);
  // The head: decoded a slice at a time until the image's header can be read (its first bytes, for PNG
  // and WebP), not the whole piece (a read can be half a megabyte).
  while (!info) {
    if (raw === undefined) {
      sniff(decoder.end(), true);
      ended = true;
      break;
    }
    headText.push(text.push(raw));
    for (let at = 0; at < raw.length && !info; at += HEAD_SLICE) {
      sniff(decoder.push(raw.subarray(at, at + HEAD_SLICE)), false);
    }
    if (info) break;
    // The earlier pieces were copied at their turn.
    headText[headText.length - 1] = (headText.at(-1) as Uint8Array).slice();
    raw = await nextPiece();
  }
  // The head is decoded (and copied): the decoder's buffer serves the next image.
  decoder.release();
  const cut = ended ? errors.cutShort() : undefined;
  if (cut) throw cut;
  if (!info || (ended && !decoder.valid)) {
    if (headBytes === 0) return undefined;
    throw errors.notImage();
  }
  head = new Uint8Array(0);
  async function* base64(): AsyncGenerator<Uint8Array> {
    yield* headText.splice(0);
    for (;;) {
      const piece = ended ? undefined : await nextPiece();
      if (piece === undefined) {
        const cut = ended ? undefined : errors.cutShort();
        if (cut) throw cut;
        const padding = text.end();
        // Not base64 somewhere after the header: refused whole (the sink drops what it wrote).
        if (!padding) throw errors.notImage();
        if (padding.length > 0) yield padding;
        return;
      }
      yield text.push(piece);
    }
  }
  const stored = await sink.putStream(base64(), { format: info.format, prefix: "img", base64: true });
  return { stored, format: info.format, width: info.width, height: info.height };
}

/**
 * The first piece of the value, without a `data:…;base64,` prefix when there is one (the contract is bare
 * base64; a prefix cut across pieces is read on until its comma).
 */
async function withoutDataUrlPrefix(
  nextPiece: () => Promise<Uint8Array | undefined>,
): Promise<Uint8Array | undefined> {
  let first = await nextPiece();
  if (first === undefined || first[0] !== DATA_URL[0]) return first;
  while (first.length < DATA_URL.length) {
    const more = await nextPiece();
    if (more === undefined) return first;
    first = concatBytes([first, more]);
  }
  if (!DATA_URL.every((byte, i) => first?.[i] === byte)) return first;
  for (;;) {
    const comma = first.indexOf(COMMA);
    if (comma !== -1) return first.subarray(comma + 1);
    const more = await nextPiece();
    if (more === undefined) return new Uint8Array(0);
    // Only the header is joined: it is a few dozen bytes before the comma.
    first = concatBytes([first, more]);
  }
}
