import {
  base64ToBytes,
  bytesToBase64,
  encodePng,
  fromDataUrlOrBase64,
  sniffImage,
  toDataUrl,
} from "@codex-img/core";
import { testImage } from "@codex-img/core/testing";
import { describe, expect, it } from "vitest";

describe("sniffImage", () => {
  it.each([
    ["png", 1254, 1254],
    ["jpeg", 1536, 1024],
    ["webp", 1024, 1536],
    ["png", 1, 1],
  ] as const)("reads %s %dx%d from the bytes", async (format, width, height) => {
    expect(sniffImage(await testImage(format, width, height))).toEqual({ format, width, height });
  });

  it("reads lossy VP8 and extended VP8X WebP headers", () => {
    const vp8 = new Uint8Array(30);
    vp8.set(new TextEncoder().encode("RIFF\0\0\0\0WEBPVP8 "), 0);
    vp8.set([0x9d, 0x01, 0x2a, 0x00, 0x04, 0x00, 0x03], 23); // 1024 x 768
    expect(sniffImage(vp8)).toEqual({ format: "webp", width: 1024, height: 768 });
    const vp8x = new Uint8Array(30);
    vp8x.set(new TextEncoder().encode("RIFF\0\0\0\0WEBPVP8X"), 0);
    vp8x.set([0xff, 0x07, 0x00, 0xff, 0x03, 0x00], 24); // 2048 x 1024
    expect(sniffImage(vp8x)).toEqual({ format: "webp", width: 2048, height: 1024 });
  });

  it("finds the JPEG frame header after APP and DQT segments", async () => {
    const jpeg = await testImage("jpeg", 300, 200);
    const app0 = [0xff, 0xe0, 0x00, 0x10, ...new TextEncoder().encode("JFIF\0"), 1, 1, 0, 0, 1, 0, 1, 0, 0];
    const withApp = new Uint8Array([0xff, 0xd8, ...app0, ...jpeg.subarray(2)]);
    expect(sniffImage(withApp)).toEqual({ format: "jpeg", width: 300, height: 200 });
  });

  it("refuses text, truncated headers and other formats", async () => {
    expect(sniffImage(new TextEncoder().encode("<html>Attention Required</html>"))).toBeUndefined();
    expect(sniffImage((await testImage("png", 10, 10)).subarray(0, 20))).toBeUndefined();
    expect(sniffImage(new TextEncoder().encode("GIF89a\x01\x00\x01\x00"))).toBeUndefined();
    expect(sniffImage(new Uint8Array())).toBeUndefined();
  });
});

describe("encodePng", () => {
  it("round-trips through sniffing and rejects a wrong pixel count", async () => {
    const rgba = new Uint8Array(3 * 2 * 4).fill(200);
    expect(sniffImage(await encodePng({ width: 3, height: 2, rgba }))).toEqual({
      format: "png",
      width: 3,
      height: 2,
    });
    await expect(encodePng({ width: 4, height: 2, rgba })).rejects.toThrow(RangeError);
  });
});

describe("base64 helpers", () => {
  it("round-trip large buffers and accept data URLs, URL-safe alphabet and whitespace", async () => {
    const bytes = await testImage("png", 120, 90);
    expect(base64ToBytes(bytesToBase64(bytes))).toEqual(bytes);
    expect(fromDataUrlOrBase64(toDataUrl(bytes, "png"))).toEqual(bytes);
    expect(toDataUrl(bytes, "webp").startsWith("data:image/webp;base64,")).toBe(true);
    expect(base64ToBytes("-_8\n=")).toEqual(new Uint8Array([0xfb, 0xff]));
  });

  it("throws on text that is not base64", () => {
    expect(() => base64ToBytes("not base64!")).toThrow(TypeError);
    expect(() => base64ToBytes("abcde")).toThrow(TypeError);
  });
});
