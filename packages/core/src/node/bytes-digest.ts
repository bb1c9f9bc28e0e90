import { createHash } from "node:crypto";

/** Bun's wyhash of one block, seeded (`Bun.hash.wyhash`). */
type Wyhash = (data: Uint8Array, seed?: bigint) => bigint;

/** Blocks of a fixed size, so the digest does not depend on how the bytes were cut into chunks. */
const BLOCK_BYTES = 64 * 1024;

export interface BytesDigest {
  update(chunk: Uint8Array): void;
  /** The digest of everything given so far (call once). */
  digest(): string;
}

/**
 * An identity of bytes given in any chunks (`StoredObjectWithHash.digest`): on Bun, wyhash over fixed
 * 64 KiB blocks, each seeded with the one before (0.07 ms for a 1.5 MB image, against 0.9 ms for SHA-256;
 * its 64 bits, with the length, tell images apart in a process's recent outputs); elsewhere SHA-256.
 */
export function bytesDigest(): BytesDigest {
  const wyhash = (globalThis as { Bun?: { hash?: { wyhash?: Wyhash } } }).Bun?.hash?.wyhash;
  if (!wyhash) {
    const hash = createHash("sha256");
    return { update: (chunk) => void hash.update(chunk), digest: () => `sha256:${hash.digest("hex")}` };
  }
  const block = new Uint8Array(BLOCK_BYTES);
  let filled = 0;
  let seed = 0n;
  let total = 0;
  return {
    update(chunk) {
      total += chunk.length;
      let at = 0;
      if (filled > 0) {
        at = Math.min(BLOCK_BYTES - filled, chunk.length);
        block.set(chunk.subarray(0, at), filled);
        filled += at;
        if (filled < BLOCK_BYTES) return;
        seed = wyhash(block, seed);
        filled = 0;
      }
      // Whole blocks are hashed where they lie; only a tail is copied, to be completed by the next chunk.
      for (; chunk.length - at >= BLOCK_BYTES; at += BLOCK_BYTES) {
        seed = wyhash(chunk.subarray(at, at + BLOCK_BYTES), seed);
      }
      if (at < chunk.length) {
        block.set(chunk.subarray(at));
        filled = chunk.length - at;
      }
    },
    digest() {
      if (filled > 0) seed = wyhash(block.subarray(0, filled), seed);
      return `wyhash:${total.toString(16)}:${seed.toString(16)}`;
    },
  };
}
