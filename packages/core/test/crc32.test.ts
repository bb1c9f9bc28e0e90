import { crc32, tableCrc32 } from "@codex-img/core";
import { describe, expect, it } from "vitest";

const CHECK = new TextEncoder().encode("123456789");

describe("crc32: the PNG and zlib CRC, native where the runtime has it", () => {
  it("gives the standard check value, natively and by table", () => {
    expect(crc32(CHECK)).toBe(0xcbf43926);
    expect(tableCrc32(CHECK)).toBe(0xcbf43926);
    expect(crc32(new Uint8Array(0))).toBe(0);
  });

  it("continues across pieces to the CRC of the whole", () => {
    const bytes = new Uint8Array(70_000).map((_, i) => (i * 7919) & 0xff);
    const whole = tableCrc32(bytes);
    for (const split of [1, 4096, 65_537]) {
      const head = bytes.subarray(0, split);
      const tail = bytes.subarray(split);
      expect(crc32(tail, crc32(head))).toBe(whole);
      expect(tableCrc32(tail, tableCrc32(head))).toBe(whole);
    }
  });
});
