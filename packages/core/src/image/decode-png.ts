import { concatBytes } from "./concat-bytes.js";
import type { RgbaImage } from "./encode-png.js";

/** Largest image `decodePng` unpacks (pixels), so a hostile header cannot ask for gigabytes. */
export const DECODE_PNG_MAX_PIXELS = 16_777_216;

/**
 * Decodes an 8-bit, non-interlaced PNG (greyscale, RGB, palette, grey+alpha or RGBA: what image models
 * and screenshots produce) to RGBA with `DecompressionStream`, so it runs on Node, Bun and Deno without a
 * dependency. Returns undefined for anything else (16-bit, interlaced, damaged, too large): callers use
 * it to measure, never to validate.
 */
export async function decodePng(bytes: Uint8Array): Promise<RgbaImage | undefined> {
  const chunks = readChunks(bytes);
  const header = chunks?.find((c) => c.type === "IHDR")?.data;
  if (!chunks || !header || header.length < 13) return undefined;
  const view = new DataView(header.buffer, header.byteOffset, header.byteLength);
  const width = view.getUint32(0);
  const height = view.getUint32(4);
  const [depth, colourType, , , interlace] = header.subarray(8, 13);
  const channels = CHANNELS[colourType ?? -1];
  if (depth !== 8 || interlace !== 0 || channels === undefined) return undefined;
  if (width === 0 || height === 0 || width * height > DECODE_PNG_MAX_PIXELS) return undefined;
  const palette = chunks.find((c) => c.type === "PLTE")?.data;
  const alpha = chunks.find((c) => c.type === "tRNS")?.data;
  if (colourType === 3 && !palette) return undefined;
  let raw: Uint8Array;
  try {
    raw = await inflate(concatBytes(chunks.filter((c) => c.type === "IDAT").map((c) => c.data)));
  } catch {
    return undefined;
  }
  const stride = width * channels;
  if (raw.length < (stride + 1) * height) return undefined;
  const pixels = unfilter(raw, width, height, channels);
  const rgba = new Uint8Array(width * height * 4);
  for (let i = 0; i < width * height; i++) {
    const p = i * channels;
    const o = i * 4;
    if (colourType === 3) {
      const index = pixels[p] ?? 0;
      rgba[o] = palette?.[index * 3] ?? 0;
      rgba[o + 1] = palette?.[index * 3 + 1] ?? 0;
      rgba[o + 2] = palette?.[index * 3 + 2] ?? 0;
      rgba[o + 3] = alpha?.[index] ?? 255;
    } else if (channels <= 2) {
      const grey = pixels[p] ?? 0;
      rgba[o] = grey;
      rgba[o + 1] = grey;
      rgba[o + 2] = grey;
      rgba[o + 3] = channels === 2 ? (pixels[p + 1] ?? 255) : 255;
    } else {
      rgba[o] = pixels[p] ?? 0;
      rgba[o + 1] = pixels[p + 1] ?? 0;
      rgba[o + 2] = pixels[p + 2] ?? 0;
      rgba[o + 3] = channels === 4 ? (pixels[p + 3] ?? 255) : 255;
    }
  }
  return { width, height, rgba };
}

/** Bytes per pixel by colour type (8-bit samples). */
const CHANNELS: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };

function readChunks(bytes: Uint8Array): Array<{ type: string; data: Uint8Array }> | undefined {
  if (bytes.length < 8 || bytes[0] !== 0x89 || bytes[1] !== 0x50) return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const chunks: Array<{ type: string; data: Uint8Array }> = [];
  for (let offset = 8; offset + 12 <= bytes.length; ) {
    const length = view.getUint32(offset);
    const type = String.fromCharCode(...bytes.subarray(offset + 4, offset + 8));
    if (offset + 12 + length > bytes.length) return undefined;
    chunks.push({ type, data: bytes.subarray(offset + 8, offset + 8 + length) });
    if (type === "IEND") break;
    offset += 12 + length;
  }
  return chunks;
}

async function inflate(data: Uint8Array): Promise<Uint8Array> {
  const stream = new Blob([data as Uint8Array<ArrayBuffer>])
    .stream()
    .pipeThrough(new DecompressionStream("deflate"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/** Reverses the per-row filters (PNG spec §9) into `width * height * channels` bytes. */
function unfilter(raw: Uint8Array, width: number, height: number, bpp: number): Uint8Array {
  const stride = width * bpp;
  const out = new Uint8Array(stride * height);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)] ?? 0;
    const row = y * stride;
    const src = y * (stride + 1) + 1;
    for (let x = 0; x < stride; x++) {
      const value = raw[src + x] ?? 0;
      const left = x >= bpp ? (out[row + x - bpp] ?? 0) : 0;
      const up = y > 0 ? (out[row - stride + x] ?? 0) : 0;
      const upLeft = y > 0 && x >= bpp ? (out[row - stride + x - bpp] ?? 0) : 0;
      let predicted = 0;
      if (filter === 1) predicted = left;
      else if (filter === 2) predicted = up;
      else if (filter === 3) predicted = (left + up) >> 1;
      else if (filter === 4) predicted = paeth(left, up, upLeft);
      out[row + x] = (value + predicted) & 0xff;
    }
  }
  return out;
}

function paeth(a: number, b: number, c: number): number {
  const p = a + b - c;
  const pa = Math.abs(p - a);
  const pb = Math.abs(p - b);
  const pc = Math.abs(p - c);
  return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}
