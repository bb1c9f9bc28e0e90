/**
 * Wraps a byte stream in a Zstandard frame made of raw (stored) blocks (RFC 8878 §3.1.1). The official
 * CLI sends its `/responses` bodies with `content-encoding: zstd`; web runtimes have no zstd compressor,
 * and a frame of stored blocks is valid zstd that every decoder reads, so the request declares the same
 * encoding without a native dependency. The body is not smaller, which is fine on this path. The frame
 * is written as the source is read (its length, known up front, goes in the header), one block of at
 * most 128 KiB at a time: a turn with references of megabytes is never held whole.
 */
const MAGIC = [0x28, 0xb5, 0x2f, 0xfd];
/** Largest block content (Block_Maximum_Size, 128 KiB). */
const MAX_BLOCK = 128 * 1024;
const HEADER_LENGTH = 4 + 1 + 1 + 4;

/** The framed stream and its exact length, for a source of exactly `length` bytes. */
export function zstdRawFrame(
  source: ReadableStream<Uint8Array>,
  length: number,
): { stream: ReadableStream<Uint8Array>; length: number } {
  const blocks = Math.max(1, Math.ceil(length / MAX_BLOCK));
  let reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
  let pending: Uint8Array = new Uint8Array(0);
  let sent = 0;
  let index = 0;
  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      // Header: magic, descriptor (FCS field 4 bytes, single segment off), window descriptor, 4-byte size.
      const header = new Uint8Array(HEADER_LENGTH);
      header.set(MAGIC, 0);
      // Frame_Header_Descriptor: Frame_Content_Size_flag = 2 (4 bytes), no checksum, no dictionary.
      header[4] = 0b1000_0000;
      // Window_Descriptor: exponent so the window (>= 1 KiB << exponent) covers one block.
      header[5] = (17 - 10) << 3;
      new DataView(header.buffer).setUint32(6, length, true);
      controller.enqueue(header);
      reader = source.getReader();
    },
    async pull(controller) {
      if (index >= blocks) {
        controller.close();
        return;
      }
      const size = Math.min(MAX_BLOCK, length - sent);
      // One block: its 3-byte header, then its bytes gathered from the source's chunks.
      const block = new Uint8Array(3 + size);
      const last = index === blocks - 1 ? 1 : 0;
      // Block_Header: Last_Block (1 bit), Block_Type 0 = Raw (2 bits), Block_Size (21 bits), little endian.
      const blockHeader = last | (0 << 1) | (size << 3);
      block[0] = blockHeader & 0xff;
      block[1] = (blockHeader >>> 8) & 0xff;
      block[2] = (blockHeader >>> 16) & 0xff;
      let filled = 0;
      while (filled < size) {
        if (pending.length === 0) {
          const read = await reader?.read();
          if (!read || read.done) throw new Error("The body ended before its declared length.");
          pending = read.value;
        }
        const take = Math.min(size - filled, pending.length);
        block.set(pending.subarray(0, take), 3 + filled);
        pending = pending.subarray(take);
        filled += take;
      }
      sent += size;
      index += 1;
      controller.enqueue(block);
    },
    async cancel(reason) {
      await (reader ?? source).cancel(reason);
    },
  });
  return { stream, length: HEADER_LENGTH + blocks * 3 + length };
}
