import { type ImageBytes, verifyImage } from "@codex-img/core";
import { testImage } from "@codex-img/core/testing";
import { describe, expect, it } from "vitest";

async function refusal(bytes: ImageBytes): Promise<string> {
  return verifyImage(bytes).then(
    () => "accepted",
    (error: Error) => error.message,
  );
}

/** A PNG whose IHDR claims other dimensions, with the IHDR CRC left as it was (so it is wrong). */
function withClaimedSize(png: Uint8Array, width: number, height: number): Uint8Array {
  const copy = png.slice();
  const view = new DataView(copy.buffer);
  view.setUint32(16, width);
  view.setUint32(20, height);
  return copy;
}

describe("verifyImage: a reference must be a whole, intact image", () => {
  it("accepts complete PNG, JPEG and WebP images and reports their real size", async () => {
    for (const format of ["png", "jpeg", "webp"] as const) {
      const bytes = await testImage(format, 64, 48, 3);
      expect(await verifyImage(bytes)).toEqual({ format, width: 64, height: 48 });
    }
  });

  it("refuses a PNG that is only its header (40 bytes)", async () => {
    const png = await testImage("png", 256, 256, 4);
    expect(await refusal(png.subarray(0, 40))).toMatch(/truncated/);
  });

  it("refuses a truncated PNG, cut anywhere in its image data", async () => {
    const png = await testImage("png", 256, 256, 5);
    for (const cut of [Math.floor(png.length / 2), png.length - 13]) {
      expect(await refusal(png.subarray(0, cut))).toMatch(/truncated|damaged/);
    }
  });

  it("refuses a PNG with a bad CRC, and one claiming 100000x100000 pixels", async () => {
    const png = await testImage("png", 64, 64, 6);
    expect(await refusal(withClaimedSize(png, 65, 64))).toMatch(/bad CRC in IHDR/);
    expect(await refusal(withClaimedSize(png, 100_000, 100_000))).toMatch(/100000x100000/);
  });

  it("refuses a PNG whose image data inflates to less than its header implies", async () => {
    // Right CRCs, wrong size: re-checksum the IHDR after doubling the height.
    const png = withClaimedSize(await testImage("png", 64, 64, 7), 64, 128);
    const { crc } = await import("./support/png-crc.js");
    new DataView(png.buffer).setUint32(29, crc(png.subarray(12, 29)));
    expect(await refusal(png)).toMatch(/image data holds/);
  });

  it("refuses a JPEG cut before its end-of-image marker, and a WebP shorter than its RIFF size", async () => {
    const jpeg = await testImage("jpeg", 64, 64, 8);
    expect(await refusal(jpeg.subarray(0, jpeg.length - 2))).toMatch(/truncated/);
    expect(await refusal(jpeg.subarray(0, Math.floor(jpeg.length / 2)))).toMatch(/truncated/);
    const webp = await testImage("webp", 64, 64, 9);
    expect(await refusal(webp.subarray(0, webp.length - 2))).toMatch(/truncated/);
  });

  it("checks an image given in the pieces it arrived in exactly as the whole", async () => {
    const png = await testImage("png", 256, 256, 10);
    const damaged = png.slice();
    const middle = Math.floor(png.length / 2);
    damaged[middle] = (png[middle] ?? 0) ^ 0xff;
    // Piece sizes that cut chunk headers, CRCs and the signature itself at every offset.
    for (const size of [1, 3, 7, 13, 4096]) {
      expect(await verifyImage(piecesOf(png, size))).toEqual({ format: "png", width: 256, height: 256 });
      expect(await refusal(piecesOf(damaged, size))).toBe(await refusal(damaged));
      expect(await refusal(piecesOf(png.subarray(0, png.length - 13), size))).toMatch(/truncated|damaged/);
    }
    for (const format of ["jpeg", "webp"] as const) {
      const bytes = await testImage(format, 64, 48, 11);
      expect(await verifyImage(piecesOf(bytes, 5))).toEqual({ format, width: 64, height: 48 });
      expect(await refusal(piecesOf(bytes.subarray(0, bytes.length - 2), 5))).toMatch(/truncated/);
    }
  });
});

/** `bytes` cut into views of `size` bytes, as a body's chunks arrive. */
function piecesOf(bytes: Uint8Array, size: number): Uint8Array[] {
  const pieces: Uint8Array[] = [];
  for (let at = 0; at < bytes.length; at += size) pieces.push(bytes.subarray(at, at + size));
  return pieces;
}
