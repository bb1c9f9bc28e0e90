import { Buffer } from "node:buffer";
import { createHash, randomUUID } from "node:crypto";
import { closeSync, constants, fstatSync, open as openCallback, readSync, writeSync } from "node:fs";
import { mkdir, readdir, readFile, rename, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { BASE64_CHUNK_BYTES } from "../image/json-with-base64.js";
import { byteChunks, type ImageStore, isImageKey, newImageKey } from "../storage/image-store.js";
import { bytesDigest } from "./bytes-digest.js";

/**
 * How long a temporary file must go unwritten before the sweep removes it. Writers touch their file with
 * every chunk, and the slowest body the server accepts still moves at its floor rate (16 KiB/s by default)
 * and an upstream reply is cut by its idle timeout long before this: an hour untouched is a dead write.
 */
export const TEMPORARY_FILE_GRACE_MS = 3_600_000;

/**
 * An `ImageStore` of files in one folder (created on first use). Writes go to a temporary name and are
 * renamed into place, so a crash never leaves a half-written image under a real key; leftover temporary
 * files are not listed and are removed by `sweepTemporaryFiles` once nothing has written to them for
 * `TEMPORARY_FILE_GRACE_MS`.
 *
 * Files are opened, renamed and removed on the runtime's thread pool (creating or renaming a name can wait
 * for the file system's journal), but their bytes are read and written synchronously on the calling thread:
 * a read or write of a chunk is a copy to or from the page cache, cheaper than the two thread hand-offs of
 * an asynchronous call (about 1 ms of CPU per 1.5 MB image under load, docs/performance.md). The price is
 * that a disk too slow to take a chunk holds the event loop for that chunk; keep the data folder local.
 */
export function createFileImageStore(options: { dir: string }): ImageStore & {
  readonly dir: string;
  sweepTemporaryFiles(): Promise<number>;
} {
  const { dir } = options;
  let ready: Promise<unknown> | undefined;
  const ensureDir = (): Promise<unknown> => {
    // Generated images are the callers' data: only the service's user may read them.
    ready ??= mkdir(dir, { recursive: true, mode: 0o700 });
    return ready;
  };
  return {
    dir,
    async put(bytes, { format, prefix }) {
      await ensureDir();
      const key = newImageKey(format, prefix);
      await writeInPlace(dir, key, (fd) => writeAll(fd, bytes));
      return { key, bytes: bytes.length, storedAt: Date.now() };
    },
    async putStream(source, { format, prefix, sha256 }) {
      await ensureDir();
      const key = newImageKey(format, prefix);
      const digest = bytesDigest();
      const hash = sha256 ? createHash("sha256") : undefined;
      let bytes = 0;
      await writeInPlace(dir, key, async (fd) => {
        // Each chunk is written before the next is asked for: the source is never read ahead of the disk.
        for await (const chunk of byteChunks(source)) {
          digest.update(chunk);
          hash?.update(chunk);
          writeAll(fd, chunk);
          bytes += chunk.length;
        }
      });
      return {
        key,
        bytes,
        storedAt: Date.now(),
        digest: digest.digest(),
        ...(hash ? { sha256: hash.digest("hex") } : {}),
      };
    },
    async get(key) {
      if (!isImageKey(key)) return undefined;
      try {
        return new Uint8Array(await readFile(join(dir, key)));
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
        throw error;
      }
    },
    async stream(key, options) {
      if (!isImageKey(key)) return undefined;
      let fd: number;
      try {
        fd = await openForReading(join(dir, key));
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
        throw error;
      }
      // Opened before the size is read: a file deleted by retention meanwhile still reads whole.
      let size: number;
      try {
        size = fstatSync(fd).size;
      } catch (error) {
        closeQuietly(fd);
        throw error;
      }
      return { bytes: size, body: fileChunks(fd, options?.transient === true) };
    },
    async delete(key) {
      if (!isImageKey(key)) return false;
      try {
        await rm(join(dir, key));
        return true;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === "ENOENT") return false;
        throw error;
      }
    },
    async *list() {
      let names: string[];
      try {
        names = await readdir(dir);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === "ENOENT") return;
        throw error;
      }
      for (const name of names) {
        if (!isImageKey(name)) continue;
        const info = await stat(join(dir, name)).catch(() => undefined);
        if (info) yield { key: name, bytes: info.size, storedAt: info.mtimeMs };
      }
    },
    async sweepTemporaryFiles() {
      const names = await readdir(dir).catch(() => [] as string[]);
      const cutoff = Date.now() - TEMPORARY_FILE_GRACE_MS;
      let removed = 0;
      for (const name of names) {
        if (!name.startsWith(".tmp-")) continue;
        const path = join(dir, name);
        // A write in progress (an upload, a reply streaming in) touches its file with every chunk; removing
        // it would fail that write at its rename, so only files left alone for the grace period go.
        const info = await stat(path).catch(() => undefined);
        if (!info || info.mtimeMs > cutoff) continue;
        await rm(path, { force: true });
        removed += 1;
      }
      return removed;
    },
  };
}

const openFile = promisify(openCallback);

/**
 * Opens a stored image to read it without updating its access time: with `relatime`, the first read after
 * the write would otherwise journal an inode update, on the event loop (the bytes are read synchronously).
 * `O_NOATIME` needs the file's owner (the service's user, which wrote it); anyone else opens it plainly.
 */
async function openForReading(path: string): Promise<number> {
  if (!constants.O_NOATIME) return openFile(path, "r");
  try {
    return await openFile(path, constants.O_RDONLY | constants.O_NOATIME);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EPERM") throw error;
    return openFile(path, "r");
  }
}

/**
 * Writes `key` through a temporary name renamed into place once `write` has finished with the file, so no
 * reader ever sees a half-written image; on any failure the temporary file is removed and the error goes on.
 */
async function writeInPlace(dir: string, key: string, write: (fd: number) => unknown): Promise<void> {
  const temporary = join(dir, `.tmp-${randomUUID()}`);
  const fd = await openFile(temporary, "wx", 0o600);
  try {
    await write(fd);
  } catch (error) {
    closeQuietly(fd);
    await rm(temporary, { force: true });
    throw error;
  }
  closeSync(fd);
  await rename(temporary, join(dir, key));
}

/** A short write is not an error: the rest is written until the whole chunk is on file. */
function writeAll(fd: number, chunk: Uint8Array): void {
  for (let written = 0; written < chunk.length; ) {
    written += writeSync(fd, chunk, written, chunk.length - written);
  }
}

function closeQuietly(fd: number): void {
  try {
    closeSync(fd);
  } catch {
    // Already closed or never usable: nothing is left to release.
  }
}

/**
 * A file as a pull stream of `BASE64_CHUNK_BYTES` chunks; the file closes at the end, on an error or on
 * cancel. A `transient` stream reads every chunk into one buffer (a reply's image is encoded chunk by
 * chunk, and a new buffer per chunk was megabytes of garbage per image under load); otherwise each chunk is
 * its own.
 */
function fileChunks(fd: number, transient: boolean): ReadableStream<Uint8Array> {
  let open = true;
  const close = (): void => {
    if (!open) return;
    open = false;
    closeQuietly(fd);
  };
  let shared: Buffer | undefined;
  return new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        if (!open) return;
        try {
          // Only the bytes read are handed out, so the buffer need not be zeroed first.
          const buffer = (transient && shared) || Buffer.allocUnsafe(BASE64_CHUNK_BYTES);
          if (transient) shared = buffer;
          let filled = 0;
          // A short read is not the end: fill the chunk so every chunk but the last is a multiple of 3.
          while (filled < buffer.length) {
            const bytesRead = readSync(fd, buffer, filled, buffer.length - filled, null);
            if (bytesRead === 0) break;
            filled += bytesRead;
          }
          if (filled > 0) controller.enqueue(new Uint8Array(buffer.buffer, buffer.byteOffset, filled));
          if (filled < buffer.length) {
            close();
            controller.close();
          }
        } catch (error) {
          close();
          controller.error(error);
        }
      },
      cancel: close,
    },
    // A transient stream must not read ahead: the next chunk would land in the buffer still being read.
    { highWaterMark: transient ? 0 : 1 },
  );
}
