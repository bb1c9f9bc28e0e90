import { noteGarbage } from "../storage/garbage-ledger.js";
import { concatBytes } from "./concat-bytes.js";
import { crc32 } from "./crc32.js";
import { type ImageBytes, receivedImage } from "./received-image.js";
import { type ImageInfo, sniffImage } from "./sniff.js";

/** Largest side and pixel count a reference may claim; upstream accepts nothing near these anyway. */
export const VERIFY_IMAGE_LIMITS = { maxSide: 16_384, maxPixels: 100_000_000 } as const;

/**
 * Checks that bytes are a whole, intact image and returns its real format and size; throws an `Error`
 * saying what is wrong otherwise. PNG: every chunk's CRC, IHDR within limits, IDAT inflated to the end
 * (streamed: the pixels are counted, never held) and exactly as long as the header implies, IEND last.
 * JPEG: every marker segment inside the file, a frame header, scan data, and the end-of-image marker.
 * WebP: the RIFF size matching the file, every chunk inside it, a VP8/VP8L bitstream header. A header
 * alone (a 40-byte PNG), a truncated file or a bad checksum is refused here, before a job exists.
 * A PNG given in pieces (`ImageBytes`) is checked piece by piece, without a joined copy.
 */
export async function verifyImage(image: ImageBytes): Promise<ImageInfo> {
  const { pieces, head } = receivedImage(image);
  const info = sniffImage(head);
  if (!info) throw new Error("is not a PNG, JPEG or WebP image");
  if (
    info.width > VERIFY_IMAGE_LIMITS.maxSide ||
    info.height > VERIFY_IMAGE_LIMITS.maxSide ||
    info.width * info.height > VERIFY_IMAGE_LIMITS.maxPixels
  ) {
    throw new Error(
      `claims ${info.width}x${info.height} pixels, more than ${VERIFY_IMAGE_LIMITS.maxSide} per side`,
    );
  }
  if (info.format === "png") await verifyPng(new Pieces(pieces), info);
  else if (info.format === "jpeg") verifyJpeg(head);
  else verifyWebp(head);
  return info;
}

/** Bytes held in pieces, read by offset across them (a PNG's chunk headers may straddle two pieces). */
class Pieces {
  private readonly starts: number[] = [];
  readonly length: number;

  constructor(private readonly parts: readonly Uint8Array[]) {
    let at = 0;
    for (const part of parts) {
      this.starts.push(at);
      at += part.length;
    }
    this.length = at;
  }

  /** Views of the bytes in [start, end), in order, one per piece they cross. */
  *views(start: number, end: number): Generator<Uint8Array> {
    for (let i = this.pieceAt(start); i < this.parts.length && start < end; i++) {
      const part = this.parts[i] as Uint8Array;
      const from = start - (this.starts[i] ?? 0);
      const to = Math.min(part.length, from + (end - start));
      if (to > from) yield part.subarray(from, to);
      start += to - from;
    }
  }

  /** The bytes in [start, end): a view when one piece holds them, else a small copy. */
  slice(start: number, end: number): Uint8Array {
    const views = [...this.views(start, end)];
    return views.length === 1 ? (views[0] as Uint8Array) : concatBytes(views);
  }

  private pieceAt(offset: number): number {
    let low = 0;
    let high = this.parts.length - 1;
    while (low < high) {
      const mid = (low + high + 1) >> 1;
      if ((this.starts[mid] ?? 0) <= offset) low = mid;
      else high = mid - 1;
    }
    return low;
  }
}

function u32be(b: Uint8Array, o: number): number {
  return (((b[o] ?? 0) << 24) | ((b[o + 1] ?? 0) << 16) | ((b[o + 2] ?? 0) << 8) | (b[o + 3] ?? 0)) >>> 0;
}

const CHANNELS: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };

async function verifyPng(b: Pieces, info: ImageInfo): Promise<void> {
  const idat: Uint8Array[] = [];
  let offset = 8;
  let header: { depth: number; colour: number; interlace: number } | undefined;
  let ended = false;
  while (offset < b.length) {
    if (offset + 12 > b.length) throw new Error("is truncated (a PNG chunk is cut)");
    const head = b.slice(offset, offset + 8);
    const length = u32be(head, 0);
    const type = String.fromCharCode(...head.subarray(4, 8));
    const end = offset + 8 + length;
    if (length > 0x7fffffff || end + 4 > b.length) throw new Error(`is truncated (its ${type} chunk is cut)`);
    let crc = 0;
    for (const view of b.views(offset + 4, end)) crc = crc32(view, crc);
    if (crc !== u32be(b.slice(end, end + 4), 0)) throw new Error(`is damaged (bad CRC in ${type})`);
    if (!header && type !== "IHDR") throw new Error("is not a valid PNG (IHDR is not first)");
    if (type === "IHDR") {
      const fields = b.slice(offset + 16, offset + 21);
      header = { depth: fields[0] ?? 0, colour: fields[1] ?? 0, interlace: fields[4] ?? 0 };
    } else if (type === "IDAT") {
      for (const view of b.views(offset + 8, end)) idat.push(view);
    } else if (type === "IEND") {
      ended = true;
      break;
    }
    offset = end + 4;
  }
  if (!header || !ended) throw new Error("is truncated (no IEND chunk)");
  if (idat.length === 0) throw new Error("has no image data (no IDAT chunk)");
  const channels = CHANNELS[header.colour];
  if (channels === undefined || ![1, 2, 4, 8, 16].includes(header.depth)) {
    throw new Error("has an invalid PNG colour type or bit depth");
  }
  const expected = inflatedLength(info.width, info.height, channels * header.depth, header.interlace === 1);
  const got = await inflatedSize(idat);
  if (got !== expected) {
    throw new Error(`is truncated or damaged (image data holds ${got} bytes, ${expected} expected)`);
  }
}

/** Bytes the zlib stream of a PNG must inflate to: one filter byte plus the packed pixels per row. */
function inflatedLength(width: number, height: number, bitsPerPixel: number, interlaced: boolean): number {
  const rows = (w: number, h: number): number =>
    w === 0 || h === 0 ? 0 : h * (1 + Math.ceil((w * bitsPerPixel) / 8));
  if (!interlaced) return rows(width, height);
  // Adam7: seven passes with these origins and steps.
  const passes = [
    [0, 0, 8, 8],
    [4, 0, 8, 8],
    [0, 4, 4, 8],
    [2, 0, 4, 4],
    [0, 2, 2, 4],
    [1, 0, 2, 2],
    [0, 1, 1, 2],
  ] as const;
  let total = 0;
  for (const [x0, y0, dx, dy] of passes) {
    total += rows(Math.ceil((width - x0) / dx), Math.ceil((height - y0) / dy));
  }
  return total;
}

const INFLATE_BATCH_BYTES = 16 * 1024;

/** Inflates the concatenated IDAT data to its end, counting bytes and dropping them as they come. */
async function inflatedSize(parts: Uint8Array[]): Promise<number> {
  // The IDAT views handed to the inflater one at a time, as they are: no copy of the image data (a Blob
  // of them copies it whole on Bun). Only runs of small views (a body that arrived in tiny chunks) are
  // joined, up to INFLATE_BATCH_BYTES, since the inflater's cost per piece would dominate.
  const input = new ReadableStream<Uint8Array<ArrayBuffer>>({
    start(controller) {
      let small: Uint8Array[] = [];
      let smallBytes = 0;
      const flush = (): void => {
        if (small.length > 0) controller.enqueue(concatBytes(small) as Uint8Array<ArrayBuffer>);
        small = [];
        smallBytes = 0;
      };
      for (const part of parts) {
        if (part.length >= INFLATE_BATCH_BYTES) {
          flush();
          controller.enqueue(part as Uint8Array<ArrayBuffer>);
          continue;
        }
        small.push(part);
        smallBytes += part.length;
        if (smallBytes >= INFLATE_BATCH_BYTES) flush();
      }
      flush();
      controller.close();
    },
  });
  let total = 0;
  try {
    const reader = input.pipeThrough(new DecompressionStream("deflate")).getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.length;
      // Counted, then dropped: garbage that the engine barely counts (see `noteGarbage`).
      noteGarbage(value.length);
    }
  } catch {
    throw new Error("is truncated or damaged (its image data does not inflate)");
  }
  return total;
}

function verifyJpeg(b: Uint8Array): void {
  let offset = 2;
  let frame = false;
  while (offset + 4 <= b.length) {
    if (b[offset] !== 0xff) throw new Error("is not a valid JPEG (a marker is missing)");
    const marker = b[offset + 1] ?? 0;
    if (marker === 0xff) {
      offset += 1;
      continue;
    }
    if (marker === 0xd9) throw new Error("is not a valid JPEG (it ends before its image data)");
    const length = ((b[offset + 2] ?? 0) << 8) | (b[offset + 3] ?? 0);
    if (length < 2 || offset + 2 + length > b.length) throw new Error("is truncated (a JPEG segment is cut)");
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc)
      frame = true;
    offset += 2 + length;
    if (marker === 0xda) {
      if (!frame) throw new Error("is not a valid JPEG (scan data before a frame header)");
      verifyJpegScans(b, offset);
      return;
    }
  }
  throw new Error("is truncated (no JPEG image data)");
}

/** After a scan header: entropy-coded data (FF00 stuffing, RSTn), more segments, then EOI. */
function verifyJpegScans(b: Uint8Array, start: number): void {
  let offset = start;
  let data = 0;
  while (offset + 1 < b.length) {
    if (b[offset] !== 0xff) {
      offset += 1;
      data += 1;
      continue;
    }
    const next = b[offset + 1] ?? 0;
    if (next === 0x00 || next === 0xff || (next >= 0xd0 && next <= 0xd7)) {
      offset += next === 0xff ? 1 : 2;
      data += 1;
      continue;
    }
    if (next === 0xd9) {
      if (data === 0) throw new Error("is truncated (its JPEG scan is empty)");
      return;
    }
    // Another segment (progressive JPEGs: DHT, more SOS): skip it by its length.
    const length = ((b[offset + 2] ?? 0) << 8) | (b[offset + 3] ?? 0);
    if (length < 2 || offset + 2 + length > b.length) throw new Error("is truncated (a JPEG segment is cut)");
    offset += 2 + length;
  }
  throw new Error("is truncated (no JPEG end-of-image marker)");
}

function verifyWebp(b: Uint8Array): void {
  const u32le = (at: number): number =>
    ((b[at] ?? 0) | ((b[at + 1] ?? 0) << 8) | ((b[at + 2] ?? 0) << 16) | ((b[at + 3] ?? 0) << 24)) >>> 0;
  const riffEnd = 8 + u32le(4);
  if (riffEnd > b.length) throw new Error("is truncated (the WebP file is shorter than its RIFF size)");
  let offset = 12;
  let bitstream = false;
  while (offset + 8 <= riffEnd) {
    const type = String.fromCharCode(...b.subarray(offset, offset + 4));
    const size = u32le(offset + 4);
    const dataStart = offset + 8;
    if (dataStart + size > riffEnd) throw new Error(`is truncated (its ${type.trim()} chunk is cut)`);
    if (type === "VP8 ") {
      if (size < 10 || b[dataStart + 3] !== 0x9d || b[dataStart + 4] !== 0x01 || b[dataStart + 5] !== 0x2a) {
        throw new Error("is damaged (bad VP8 frame header)");
      }
      bitstream = true;
    } else if (type === "VP8L") {
      if (size < 5 || b[dataStart] !== 0x2f) throw new Error("is damaged (bad VP8L header)");
      bitstream = true;
    } else if (type === "ANMF") {
      bitstream = true;
    }
    offset = dataStart + size + (size % 2);
  }
  if (!bitstream) throw new Error("has no image data (no VP8/VP8L chunk)");
}
