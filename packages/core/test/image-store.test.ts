import { execFile } from "node:child_process";
import { mkdtemp, readdir, readlink, rm, stat, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { createFileImageStore, createMemoryImageStore, TEMPORARY_FILE_GRACE_MS } from "@codex-img/core";
import { describeImageStoreConformance } from "@codex-img/core/conformance";
import { testImage } from "@codex-img/core/testing";
import { describe, expect, it } from "vitest";

const BUN = fileURLToPath(new URL("../../../node_modules/.bin/bun", import.meta.url));

/** Descriptors of this process open on a file in `dir` (Linux names them in /proc/self/fd). */
async function filesOpenIn(dir: string): Promise<number> {
  let count = 0;
  for (const fd of await readdir("/proc/self/fd")) {
    const target = await readlink(join("/proc/self/fd", fd)).catch(() => "");
    if (target.startsWith(dir)) count += 1;
  }
  return count;
}

/**
 * `filesOpenIn(dir)` once no more are open, or after 5 s: a written file stays open while its bytes are
 * flushed to disk behind the write.
 */
async function filesLeftOpenIn(dir: string): Promise<number> {
  const deadline = Date.now() + 5_000;
  while ((await filesOpenIn(dir)) > 0 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return filesOpenIn(dir);
}

describeImageStoreConformance("memory", async () => ({ store: createMemoryImageStore() }));

describeImageStoreConformance("files", async () => {
  const dir = await mkdtemp(join(tmpdir(), "codex-img-store-"));
  return {
    store: createFileImageStore({ dir: join(dir, "images") }),
    close: () => rm(dir, { recursive: true, force: true }),
  };
});

describe("file image store", () => {
  it("creates its folder private (0700), writes files 0600, and ignores and sweeps interrupted writes", async () => {
    const dir = join(await mkdtemp(join(tmpdir(), "codex-img-store-")), "nested", "images");
    const store = createFileImageStore({ dir });
    try {
      const { key } = await store.put(await testImage("png", 8, 8), { format: "png" });
      expect((await stat(join(dir, key))).mode & 0o777).toBe(0o600);
      expect((await stat(dir)).mode & 0o777).toBe(0o700);
      // A crash between write and rename leaves only a temporary file: never listed, swept once it has
      // gone unwritten for the grace period; a write still in progress (a fresh file) is left alone.
      await writeFile(join(dir, ".tmp-crashed"), "partial");
      const stale = new Date(Date.now() - TEMPORARY_FILE_GRACE_MS - 60_000);
      await utimes(join(dir, ".tmp-crashed"), stale, stale);
      await writeFile(join(dir, ".tmp-writing"), "in progress");
      const listed: string[] = [];
      for await (const object of store.list()) listed.push(object.key);
      expect(listed).toEqual([key]);
      expect(await store.sweepTemporaryFiles()).toBe(1);
      expect((await readdir(dir)).sort()).toEqual([".tmp-writing", key].sort());
    } finally {
      await rm(join(dir, "..", ".."), { recursive: true, force: true });
    }
  });

  it("removes the temporary file of a stream that fails, and writes a streamed file 0600", async () => {
    const dir = join(await mkdtemp(join(tmpdir(), "codex-img-store-")), "images");
    const store = createFileImageStore({ dir });
    try {
      async function* cut(): AsyncGenerator<Uint8Array> {
        yield new Uint8Array(4096);
        throw new Error("cut");
      }
      await expect(store.putStream(cut(), { format: "png", prefix: "ref" })).rejects.toThrow("cut");
      expect(await readdir(dir)).toEqual([]);
      const { key } = await store.putStream(new Blob([new Uint8Array(10)]).stream(), { format: "png" });
      expect((await stat(join(dir, key))).mode & 0o777).toBe(0o600);
      expect(await readdir(dir)).toEqual([key]);
    } finally {
      await rm(join(dir, ".."), { recursive: true, force: true });
    }
  });

  // The store reads and writes through raw file descriptors: one left open per image would run the server
  // out of descriptors under load. Counted in /proc/self/fd, so on Linux only.
  it.runIf(process.platform === "linux")(
    "closes every file it opens: read to the end, cancelled midway, failed writes",
    async () => {
      const dir = join(await mkdtemp(join(tmpdir(), "codex-img-store-")), "images");
      const store = createFileImageStore({ dir });
      try {
        const bytes = new Uint8Array(1024 * 1024).fill(7);
        const { key } = await store.put(bytes, { format: "png" });
        for (let i = 0; i < 20; i++) {
          const whole = (await store.stream(key, { transient: i % 2 === 0 }))?.body.getReader();
          let read = 0;
          for (let next = await whole?.read(); next && !next.done; next = await whole?.read()) {
            read += next.value.length;
          }
          expect(read).toBe(bytes.length);
          const cancelled = await store.stream(key);
          const reader = cancelled?.body.getReader();
          expect((await reader?.read())?.done).toBe(false);
          await reader?.cancel();
          async function* cut(): AsyncGenerator<Uint8Array> {
            yield bytes;
            throw new Error("cut");
          }
          await expect(store.putStream(cut(), { format: "png" })).rejects.toThrow("cut");
        }
        expect(await filesLeftOpenIn(dir)).toBe(0);
        expect(await readdir(dir)).toEqual([key]);
      } finally {
        await rm(join(dir, ".."), { recursive: true, force: true });
      }
    },
  );

  // A read that updated the access time would journal an inode write on the event loop (relatime updates it
  // on the first read after a write), where the store reads image bytes synchronously.
  it.runIf(process.platform === "linux")("reads an image without touching its access time", async () => {
    const dir = join(await mkdtemp(join(tmpdir(), "codex-img-store-")), "images");
    const store = createFileImageStore({ dir });
    try {
      const { key } = await store.put(new Uint8Array(4096).fill(1), { format: "png" });
      const before = (await stat(join(dir, key))).atimeMs;
      await new Promise((resolve) => setTimeout(resolve, 1100));
      const reader = (await store.stream(key))?.body.getReader();
      while (reader && !(await reader.read()).done) {}
      expect((await stat(join(dir, key))).atimeMs).toBe(before);
    } finally {
      await rm(join(dir, ".."), { recursive: true, force: true });
    }
  });

  // Under Bun the store digests with wyhash over fixed blocks (under Node, which runs this file, SHA-256):
  // a Bun child stores the same bytes cut in different ways.
  it.runIf(process.platform === "linux")(
    "closes every file it wrote once its bytes are flushed to disk behind the write",
    async () => {
      const dir = join(await mkdtemp(join(tmpdir(), "codex-img-store-")), "images");
      const store = createFileImageStore({ dir });
      try {
        const image = await testImage("png", 64, 64);
        const stored = await Promise.all([
          ...Array.from({ length: 8 }, () => store.put(image, { format: "png" })),
          ...Array.from({ length: 8 }, () =>
            store.putStream(new Blob([image.slice()]).stream(), { format: "png" }),
          ),
        ]);
        // Readable and whole at once, while the flush may still hold the file open.
        for (const { key } of stored) expect(await store.get(key)).toEqual(image);
        expect(await filesLeftOpenIn(dir)).toBe(0);
      } finally {
        await rm(join(dir, ".."), { recursive: true, force: true });
      }
    },
  );

  it("digests alike on Bun however the bytes were cut, and tells different bytes apart", async () => {
    const { stdout } = await promisify(execFile)(BUN, [
      "--conditions=source",
      fileURLToPath(new URL("./support/digest-child.ts", import.meta.url)),
    ]);
    const digests = JSON.parse(stdout) as Record<string, string>;
    expect(digests.whole).toMatch(/^wyhash:/);
    for (const same of [digests.small, digests.large, digests.blocks]) expect(same).toBe(digests.whole);
    expect(digests.different).not.toBe(digests.whole);
    expect(digests.shorter).not.toBe(digests.whole);
  });
});
