/**
 * Wraps bytes in a Zstandard frame made of raw (stored) blocks (RFC 8878 §3.1.1). The official CLI sends
 * its `/responses` bodies with `content-encoding: zstd`; web runtimes have no zstd compressor, and a
 * frame of stored blocks is valid zstd that every decoder reads, so the request declares the same
 * encoding without a native dependency. The body is not smaller, which is fine on this path.
 */
const MAGIC = [0x28, 0xb5, 0x2f, 0xfd];
/** Largest block content (Block_Maximum_Size, 128 KiB). */
const MAX_BLOCK = 128 * 1024;

export function zstdRawFrame(data: Uint8Array): Uint8Array<ArrayBuffer> {
  const blocks = Math.max(1, Math.ceil(data.length / MAX_BLOCK));
  // Header: magic, descriptor (FCS field 4 bytes, single segment off), window descriptor, 4-byte size.
  const headerLength = 4 + 1 + 1 + 4;
  const out = new Uint8Array(headerLength + blocks * 3 + data.length);
  out.set(MAGIC, 0);
  // Frame_Header_Descriptor: Frame_Content_Size_flag = 2 (4 bytes), no checksum, no dictionary.
  out[4] = 0b1000_0000;
  // Window_Descriptor: exponent so the window (>= 1 KiB << exponent) covers one block.
  out[5] = (17 - 10) << 3;
  new DataView(out.buffer).setUint32(6, data.length, true);
  let offset = headerLength;
  for (let i = 0; i < blocks; i++) {
    const start = i * MAX_BLOCK;
    const size = Math.min(MAX_BLOCK, data.length - start);
    const last = i === blocks - 1 ? 1 : 0;
    // Block_Header: Last_Block (1 bit), Block_Type 0 = Raw (2 bits), Block_Size (21 bits), little endian.
    const header = last | (0 << 1) | (size << 3);
    out[offset] = header & 0xff;
    out[offset + 1] = (header >>> 8) & 0xff;
    out[offset + 2] = (header >>> 16) & 0xff;
    out.set(data.subarray(start, start + size), offset + 3);
    offset += 3 + size;
  }
  return out;
}
