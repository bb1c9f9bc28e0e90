import { concatBytes } from "../image/concat-bytes.js";
import { encodePng } from "../image/encode-png.js";
import type { ImageFormat } from "../types.js";

/**
 * Real, decodable image bytes of any size in each format the upstream can return, so fakes answer with
 * what a browser or an image library would accept, and size sniffing is tested against real headers.
 * `seed` varies the pixels so two test images are never byte-identical unless asked to be.
 */
export async function testImage(
  format: ImageFormat,
  width: number,
  height: number,
  seed = 0,
): Promise<Uint8Array> {
  if (format === "png") return testPng(width, height, seed);
  if (format === "jpeg") return solidGrayJpeg(width, height, 40 + (seed % 176));
  return solidWebpLossless(width, height, [seed % 256, (seed * 7) % 256, (seed * 13) % 256, 255]);
}

let seedCounter = 0;

/** A PNG with a diagonal gradient; each call without a seed yields different bytes. */
export async function testPng(width: number, height: number, seed = ++seedCounter): Promise<Uint8Array> {
  const rgba = new Uint8Array(width * height * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 4;
      rgba[i] = (x + seed) & 0xff;
      rgba[i + 1] = (y + seed * 3) & 0xff;
      rgba[i + 2] = (x + y + seed * 5) & 0xff;
      rgba[i + 3] = 255;
    }
  }
  return encodePng({ width, height, rgba });
}

/**
 * Baseline greyscale JPEG of one flat level: every 8x8 block is a DC coefficient and an end-of-block,
 * with quantisation 1 and two tiny Huffman tables. Small, valid, any size up to 65535.
 */
function solidGrayJpeg(width: number, height: number, level: number): Uint8Array {
  const segment = (marker: number, body: number[]): number[] => [
    0xff,
    marker,
    ((body.length + 2) >> 8) & 0xff,
    (body.length + 2) & 0xff,
    ...body,
  ];
  const dcDiff = 8 * (level - 128);
  const category = dcDiff === 0 ? 0 : Math.floor(Math.log2(Math.abs(dcDiff))) + 1;
  const dqt = segment(0xdb, [0x00, ...new Array(64).fill(1)]);
  const sof = segment(0xc0, [8, height >> 8, height & 0xff, width >> 8, width & 0xff, 1, 1, 0x11, 0]);
  // DC table 0: symbols 0 and `category`, both 2-bit codes (00, 01); AC table 0: only EOB (00).
  const dcSymbols = category === 0 ? [0] : [0, category];
  const dht = segment(0xc4, [
    0x00,
    0,
    dcSymbols.length,
    ...new Array(14).fill(0),
    ...dcSymbols,
    0x10,
    0,
    1,
    ...new Array(14).fill(0),
    0x00,
  ]);
  const sos = segment(0xda, [1, 1, 0x00, 0, 63, 0]);

  const bits: number[] = [];
  const put = (value: number, length: number): void => {
    for (let i = length - 1; i >= 0; i--) bits.push((value >> i) & 1);
  };
  const blocks = Math.ceil(width / 8) * Math.ceil(height / 8);
  for (let block = 0; block < blocks; block++) {
    if (block === 0 && category > 0) {
      put(0b01, 2);
      put(dcDiff > 0 ? dcDiff : dcDiff + (1 << category) - 1, category);
    } else {
      put(0b00, 2);
    }
    put(0b00, 2); // EOB
  }
  while (bits.length % 8 !== 0) bits.push(1);
  const scan: number[] = [];
  for (let i = 0; i < bits.length; i += 8) {
    let byte = 0;
    for (let j = 0; j < 8; j++) byte = (byte << 1) | (bits[i + j] ?? 1);
    scan.push(byte);
    if (byte === 0xff) scan.push(0x00); // byte stuffing
  }
  return new Uint8Array([0xff, 0xd8, ...dqt, ...sof, ...dht, ...sos, ...scan, 0xff, 0xd9]);
}

/**
 * Lossless WebP (VP8L) of one colour: five single-symbol prefix codes make every pixel cost zero bits,
 * so the bitstream is only its header. Any size up to 16384.
 */
function solidWebpLossless(
  width: number,
  height: number,
  [r, g, b, a]: [number, number, number, number],
): Uint8Array {
  const bits: number[] = [];
  const put = (value: number, length: number): void => {
    for (let i = 0; i < length; i++) bits.push((value >> i) & 1); // VP8L is LSB-first
  };
  put(width - 1, 14);
  put(height - 1, 14);
  put(a === 255 ? 0 : 1, 1); // alpha hint
  put(0, 3); // version
  put(0, 1); // no transforms
  put(0, 1); // no colour cache
  put(0, 1); // no meta prefix codes
  // Five simple prefix codes (green, red, blue, alpha, distance), each with one 8-bit symbol.
  for (const symbol of [g, r, b, a, 0]) {
    put(1, 1); // simple code
    put(0, 1); // one symbol
    put(1, 1); // symbol is 8 bits wide
    put(symbol, 8);
  }
  const data = [0x2f];
  for (let i = 0; i < bits.length; i += 8) {
    let byte = 0;
    for (let j = 0; j < 8; j++) byte |= (bits[i + j] ?? 0) << j;
    data.push(byte);
  }
  const payloadLength = data.length;
  if (data.length % 2 === 1) data.push(0); // RIFF pads chunks to even length; the size field does not count it
  const le32 = (n: number): number[] => [n & 0xff, (n >> 8) & 0xff, (n >> 16) & 0xff, (n >>> 24) & 0xff];
  const vp8l = [..."VP8L"].map((c) => c.charCodeAt(0));
  const body = [..."WEBP"].map((c) => c.charCodeAt(0));
  const chunkBytes = [...vp8l, ...le32(payloadLength), ...data];
  return concatBytes([
    new Uint8Array([..."RIFF"].map((c) => c.charCodeAt(0))),
    new Uint8Array(le32(body.length + chunkBytes.length)),
    new Uint8Array([...body, ...chunkBytes]),
  ]);
}
