import { createHash } from "node:crypto";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { BASE64_CHUNK_BYTES } from "../image/json-with-base64.js";
import type { ImageStore } from "../storage/image-store.js";
import { isImageKey } from "../storage/image-store.js";
import { testImage } from "./test-images.js";

/** The rules every `ImageStore` must keep; each implementation runs this suite. */
export function describeImageStoreConformance(
  name: string,
  makeStore: () => Promise<{ store: ImageStore; close?: () => Promise<void> }>,
): void {
  describe(`ImageStore conformance: ${name}`, () => {
    let store: ImageStore;
    let close: (() => Promise<void>) | undefined;

    beforeEach(async () => {
      ({ store, close } = await makeStore());
    });
    afterEach(async () => {
      await close?.();
    });

    it("stores bytes under a new unguessable key and returns them unchanged", async () => {
      const png = await testImage("png", 16, 16, 1);
      const a = await store.put(png, { format: "png" });
      const b = await store.put(png, { format: "png" });
      expect(a.key).not.toBe(b.key);
      expect(isImageKey(a.key)).toBe(true);
      expect(a.key).toMatch(/^img_.*\.png$/);
      expect(a.bytes).toBe(png.length);
      expect(Buffer.from((await store.get(a.key)) ?? []).equals(Buffer.from(png))).toBe(true);
    });

    it("names references and other formats by prefix and extension", async () => {
      const jpeg = await store.put(await testImage("jpeg", 16, 16), { format: "jpeg", prefix: "ref" });
      expect(jpeg.key).toMatch(/^ref_[a-z2-7]{26}\.jpg$/);
      const webp = await store.put(await testImage("webp", 16, 16), { format: "webp" });
      expect(webp.key).toMatch(/\.webp$/);
    });

    it("streams the bytes in chunks that each encode to base64 alone", async () => {
      // Larger than two chunks and not a multiple of 3, so the last chunk is short.
      const bytes = new Uint8Array(2 * BASE64_CHUNK_BYTES + 1001).map((_, i) => (i * 7919) % 251);
      const { key } = await store.put(bytes, { format: "png" });
      const opened = await store.stream(key);
      expect(opened?.bytes).toBe(bytes.length);
      const chunks: Uint8Array[] = [];
      const reader = opened?.body.getReader();
      for (let read = await reader?.read(); read && !read.done; read = await reader?.read()) {
        chunks.push(read.value);
      }
      expect(chunks.slice(0, -1).every((chunk) => chunk.length % 3 === 0)).toBe(true);
      expect(Buffer.concat(chunks).equals(Buffer.from(bytes))).toBe(true);
      // A reader that stops early releases what it holds and can open the image again.
      const partial = await store.stream(key);
      await partial?.body.cancel();
      const again = await store.stream(key);
      expect(again?.bytes).toBe(bytes.length);
      await again?.body.cancel();
    });

    it("streams transiently to a reader that copies each chunk before the next", async () => {
      const bytes = new Uint8Array(3 * BASE64_CHUNK_BYTES + 7).map((_, i) => (i * 104_729) % 253);
      const { key } = await store.put(bytes, { format: "png" });
      const opened = await store.stream(key, { transient: true });
      expect(opened?.bytes).toBe(bytes.length);
      const copies: Uint8Array[] = [];
      const reader = opened?.body.getReader();
      for (let read = await reader?.read(); read && !read.done; read = await reader?.read()) {
        expect(read.value.length % 3 === 0 || copies.length === 3).toBe(true);
        // A reader that takes its time with a chunk (encoding it) still gets it whole: no read-ahead.
        await new Promise((resume) => setTimeout(resume, 10));
        copies.push(read.value.slice());
      }
      expect(Buffer.concat(copies).equals(Buffer.from(bytes))).toBe(true);
    });

    it("keeps an image put as base64 and gives its bytes, or its text to a reader that takes base64", async () => {
      const png = await testImage("png", 300, 200, 4);
      // Lengths that need no padding, one `=` and two, with the last chunk short or a single byte.
      for (const size of [png.length, png.length - 1, png.length - 2, 3 * BASE64_CHUNK_BYTES + 1]) {
        const bytes = new Uint8Array(size);
        bytes.set(png.subarray(0, size));
        if (size > png.length) bytes.fill(0x41, png.length);
        const text = new TextEncoder().encode(Buffer.from(bytes).toString("base64"));
        async function* pieces(): AsyncGenerator<Uint8Array> {
          for (let at = 0; at < text.length; at += 9_999) yield text.subarray(at, at + 9_999);
        }
        const stored = await store.putStream(pieces(), { format: "png", base64: true });
        expect(stored.bytes).toBe(size);
        expect(Buffer.from((await store.get(stored.key)) ?? []).equals(Buffer.from(bytes))).toBe(true);
        // A download: the bytes, in chunks that each encode alone, the size known up front.
        const download = await store.stream(stored.key);
        expect([download?.bytes, download?.encoded ?? false]).toEqual([size, false]);
        const chunks = await readChunks(download?.body);
        expect(chunks.slice(0, -1).every((chunk) => chunk.length === BASE64_CHUNK_BYTES)).toBe(true);
        expect(Buffer.concat(chunks).equals(Buffer.from(bytes))).toBe(true);
        // A `b64_json` reply: the text as it was put, each chunk copied before the next is read.
        const reply = await store.stream(stored.key, { transient: true, base64: true });
        expect([reply?.bytes, reply?.encoded]).toEqual([size, true]);
        const kept = await readChunks(reply?.body, (chunk) => chunk.slice());
        expect(Buffer.concat(kept).equals(Buffer.from(text))).toBe(true);
        // Listed at its size as stored: the characters.
        const listed: number[] = [];
        for await (const object of store.list()) if (object.key === stored.key) listed.push(object.bytes);
        expect(listed).toEqual([text.length]);
      }
      // An image put as bytes stays bytes for every reader.
      const plain = await store.put(png, { format: "png" });
      const asBytes = await store.stream(plain.key, { base64: true });
      expect([asBytes?.bytes, asBytes?.encoded ?? false]).toEqual([png.length, false]);
      await asBytes?.body.cancel();
    });

    it("answers unknown, malformed and traversal keys with nothing", async () => {
      expect(await store.get("img_aaaaaaaaaaaaaaaaaaaaaaaaaa.png")).toBeUndefined();
      expect(await store.stream("img_aaaaaaaaaaaaaaaaaaaaaaaaaa.png")).toBeUndefined();
      for (const key of ["../etc/passwd", "img_../../x.png", "", "img_AAAAAAAAAAAAAAAAAAAAAAAAAA.png"]) {
        expect(await store.get(key)).toBeUndefined();
        expect(await store.stream(key)).toBeUndefined();
        expect(await store.delete(key)).toBe(false);
      }
    });

    it("deletes once and lists what it holds", async () => {
      const a = await store.put(await testImage("png", 8, 8, 2), { format: "png" });
      const b = await store.put(await testImage("png", 8, 8, 3), { format: "png" });
      const listed: string[] = [];
      for await (const object of store.list()) listed.push(object.key);
      expect(listed.sort()).toEqual([a.key, b.key].sort());
      expect(await store.delete(a.key)).toBe(true);
      expect(await store.delete(a.key)).toBe(false);
      expect(await store.get(a.key)).toBeUndefined();
      const after: string[] = [];
      for await (const object of store.list()) after.push(object.key);
      expect(after).toEqual([b.key]);
    });

    it("stores a stream as it arrives, from a web stream or an async iterable, under a new key", async () => {
      const bytes = new Uint8Array(3 * BASE64_CHUNK_BYTES + 17).map((_, i) => (i * 31) % 253);
      // The source reuses one buffer for every chunk, as a parser's window may: the store must copy or write it.
      async function* reused(): AsyncGenerator<Uint8Array> {
        const window = new Uint8Array(50_000);
        for (let at = 0; at < bytes.length; at += window.length) {
          const piece = bytes.subarray(at, at + window.length);
          window.set(piece);
          yield window.subarray(0, piece.length);
        }
      }
      const fromIterable = await store.putStream(reused(), { format: "png", prefix: "ref", sha256: true });
      expect(fromIterable.key).toMatch(/^ref_[a-z2-7]{26}\.png$/);
      expect(fromIterable.bytes).toBe(bytes.length);
      // Hashed while written, when asked: a reference's SHA-256 reads no byte twice.
      expect(fromIterable.sha256).toBe(createHash("sha256").update(bytes).digest("hex"));
      expect(Buffer.from((await store.get(fromIterable.key)) ?? []).equals(Buffer.from(bytes))).toBe(true);
      const fromStream = await store.putStream(new Blob([bytes]).stream(), { format: "webp" });
      expect(fromStream.key).toMatch(/^img_.*\.webp$/);
      expect(fromStream.key).not.toBe(fromIterable.key);
      expect(fromStream.sha256).toBeUndefined();
      expect(Buffer.from((await store.get(fromStream.key)) ?? []).equals(Buffer.from(bytes))).toBe(true);
    });

    it("digests equal bytes alike however they were cut, and different bytes differently", async () => {
      const bytes = new Uint8Array(300_000).map((_, i) => (i * 7) % 251);
      async function* cut(sizes: number[]): AsyncGenerator<Uint8Array> {
        let at = 0;
        for (let i = 0; at < bytes.length; i++) {
          const size = sizes[i % sizes.length] as number;
          yield bytes.slice(at, at + size);
          at += size;
        }
      }
      const whole = await store.putStream(cut([bytes.length]), { format: "png" });
      const small = await store.putStream(cut([1, 1000, 65_535, 3]), { format: "png" });
      const large = await store.putStream(cut([65_536, 131_073]), { format: "png" });
      expect(small.digest).toBe(whole.digest);
      expect(large.digest).toBe(whole.digest);
      const changed = bytes.slice();
      changed.set([(changed.at(-1) ?? 0) ^ 1], changed.length - 1);
      const different = await store.putStream(new Blob([changed]).stream(), { format: "png" });
      const shorter = await store.putStream(new Blob([bytes.subarray(1)]).stream(), { format: "png" });
      expect(different.digest).not.toBe(whole.digest);
      expect(shorter.digest).not.toBe(whole.digest);
    });

    it("stores nothing when the stream fails midway, and rethrows its error", async () => {
      const failure = new Error("the upload was cut");
      async function* cut(): AsyncGenerator<Uint8Array> {
        yield new Uint8Array(1000).fill(7);
        throw failure;
      }
      await expect(store.putStream(cut(), { format: "png", prefix: "ref" })).rejects.toBe(failure);
      const erroring = new ReadableStream<Uint8Array>({
        pull(controller) {
          controller.enqueue(new Uint8Array(10));
          controller.error(failure);
        },
      });
      await expect(store.putStream(erroring, { format: "png" })).rejects.toBe(failure);
      const listed: string[] = [];
      for await (const object of store.list()) listed.push(object.key);
      expect(listed).toEqual([]);
    });

    it("keeps a stored copy: mutating the caller's buffer changes nothing", async () => {
      const png = await testImage("png", 8, 8, 4);
      const original = png.slice();
      const { key } = await store.put(png, { format: "png" });
      png.fill(0);
      expect(Buffer.from((await store.get(key)) ?? []).equals(Buffer.from(original))).toBe(true);
    });
  });
}

/** Every chunk of `body`, each through `keep` before the next is read (a transient stream reuses its buffer). */
async function readChunks(
  body: ReadableStream<Uint8Array> | undefined,
  keep: (chunk: Uint8Array) => Uint8Array = (chunk) => chunk,
): Promise<Uint8Array[]> {
  const chunks: Uint8Array[] = [];
  const reader = body?.getReader();
  for (let read = await reader?.read(); read && !read.done; read = await reader?.read())
    chunks.push(keep(read.value));
  return chunks;
}
