import { concatBytes } from "./concat-bytes.js";
import { sniffImage } from "./sniff.js";

/**
 * An image as it was received: one buffer, or the pieces it arrived in (a multipart part's chunks).
 * `verifyImage` and `StagedReferences` take either, so a PNG upload is checked, hashed and stored from its
 * pieces, never joined into a copy of itself.
 */
export type ImageBytes = Uint8Array | readonly Uint8Array[];

/** Total length of an image's bytes. */
export function imageByteLength(image: ImageBytes): number {
  if (image instanceof Uint8Array) return image.length;
  let total = 0;
  for (const piece of image) total += piece.length;
  return total;
}

/** Bytes a PNG needs for `sniffImage`: its signature and IHDR. */
const PNG_HEAD_BYTES = 24;

/**
 * The image in the form its checks read: a PNG stays in its pieces (its signature and IHDR are its first
 * 24 bytes, and `verifyImage` walks its chunks piece by piece); anything else is joined into one buffer,
 * since a JPEG's frame header may follow any amount of metadata and its checks read the whole file (JPEG
 * and WebP references are the rare case: the CLI and upstream speak PNG). `head` is what `sniffImage`
 * reads: the PNG's first bytes, or the whole joined image.
 */
export function receivedImage(image: ImageBytes): { pieces: readonly Uint8Array[]; head: Uint8Array } {
  if (image instanceof Uint8Array) return { pieces: [image], head: image };
  if (image.length === 1 && image[0]) return { pieces: image, head: image[0] };
  const head = firstBytes(image, PNG_HEAD_BYTES);
  if (sniffImage(head)?.format === "png") return { pieces: image, head };
  const whole = concatBytes([...image]);
  return { pieces: [whole], head: whole };
}

/** The first `count` bytes across pieces (a view when the first piece holds them). */
function firstBytes(pieces: readonly Uint8Array[], count: number): Uint8Array {
  const first = pieces[0];
  if (first && first.length >= count) return first.subarray(0, count);
  const out: Uint8Array[] = [];
  let have = 0;
  for (const piece of pieces) {
    if (have >= count) break;
    out.push(piece.subarray(0, count - have));
    have += Math.min(piece.length, count - have);
  }
  return concatBytes(out);
}
