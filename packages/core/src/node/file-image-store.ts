import { Buffer } from "node:buffer";
import { createHash, randomUUID } from "node:crypto";
import {
  closeSync,
  constants,
  fdatasync,
  fstatSync,
  open as openCallback,
  readSync,
  writeSync,
} from "node:fs";
import { mkdir, readdir, readFile, rename, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { base64AsciiToBytes } from "../image/base64.js";
import {
  base64DecodedLength,
  base64EncodedLength,
  base64TextLength,
  isBase64Text,
} from "../image/base64-text.js";
import { BASE64_CHUNK_BYTES } from "../image/json-with-base64.js";
import {
  byteChunks,
  type ImageStore,
  imageKeyFormat,
  isImageKey,
  newImageKey,
} from "../storage/image-store.js";
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
 * A written file is flushed to disk behind the write, on the pool (`flushBehind`).
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
    async putStream(source, { format, prefix, sha256, base64 }) {
      await ensureDir();
      const key = newImageKey(format, prefix);
      const digest = bytesDigest();
      const hash = sha256 ? createHash("sha256") : undefined;
      // Base64 is written as it comes (the file's first byte tells it apart, `isBase64Text`).
      const text = base64 ? base64TextLength() : undefined;
      let bytes = 0;
      await writeInPlace(dir, key, async (fd) => {
        // Each chunk is written before the next is asked for: the source is never read ahead of the disk.
        for await (const chunk of byteChunks(source)) {
          digest.update(chunk);
          hash?.update(chunk);
          text?.update(chunk);
          writeAll(fd, chunk);
          bytes += chunk.length;
        }
      });
      return {
        key,
        bytes: text ? text.bytes : bytes,
        storedAt: Date.now(),
        digest: digest.digest(),
        ...(hash ? { sha256: hash.digest("hex") } : {}),
      };
    },
    async get(key) {
      const format = isImageKey(key) ? imageKeyFormat(key) : undefined;
      if (!format) return undefined;
      let data: Buffer;
      try {
        data = await readFile(join(dir, key));
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
        throw error;
      }
      return isBase64Text(format, data[0]) ? base64AsciiToBytes(data) : new Uint8Array(data);
    },
    async stream(key, options) {
      const format = isImageKey(key) ? imageKeyFormat(key) : undefined;
      if (!format) return undefined;
      let fd: number;
      try {
        fd = await openForReading(join(dir, key));
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
        throw error;
      }
      // Opened before the size is read: a file deleted by retention meanwhile still reads whole.
      let size: number;
      let text: boolean;
      // The first byte, then for a text the last two (their padding), read in place: the stream starts
      // at the beginning.
      const edges = Buffer.alloc(3);
      try {
        size = fstatSync(fd).size;
        readSync(fd, edges, 0, 1, 0);
        text = isBase64Text(format, edges[0]);
        if (text && size >= 4) readSync(fd, edges, 1, 2, size - 2);
      } catch (error) {
        closeQuietly(fd);
        throw error;
      }
      const transient = options?.transient === true;
      if (!text) return { bytes: size, body: fileChunks(fd, { transient }) };
      const bytes = base64DecodedLength(size, edges[1] as number, edges[2] as number);
      if (options?.base64) return { bytes, body: fileChunks(fd, { transient }), encoded: true };
      return { bytes, body: fileChunks(fd, { transient: true, decode: true }) };
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
  flushBehind(fd);
  await rename(temporary, join(dir, key));
}

/**
 * Has the kernel write the file's bytes to disk now, on the runtime's thread pool, and closes it when
 * that is done, without waiting for it. Left to the kernel, images piled up as dirty pages until its
 * periodic writeback (after 30 s by default) flushed hundreds of megabytes at once; on ext4 that made the
 * database's fsyncs and even its commits wait behind them, holding the event loop for up to 300 ms
 * (docs/performance.md). Flushed as they are written, there is never much to wait for. It does not make
 * an image survive a power loss before its job finishes: awaiting it would, at ~15-25 ms more at p99.
 */
function flushBehind(fd: number): void {
  fdatasync(fd, () => closeQuietly(fd));
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
 * its own. With `decode`, the file is base64 text read in chunks of as many characters (into one buffer,
 * so `transient` too) and each is handed out decoded, in a buffer of its own.
 */
function fileChunks(
  fd: number,
  options: { transient: boolean; decode?: boolean },
): ReadableStream<Uint8Array> {
  const { transient, decode } = options;
  const chunkBytes = decode ? base64EncodedLength(BASE64_CHUNK_BYTES) : BASE64_CHUNK_BYTES;
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
          const buffer = (transient && shared) || Buffer.allocUnsafe(chunkBytes);
          if (transient) shared = buffer;
          let filled = 0;
          // A short read is not the end: fill the chunk so every chunk but the last is a multiple of 3.
          while (filled < buffer.length) {
            const bytesRead = readSync(fd, buffer, filled, buffer.length - filled, null);
            if (bytesRead === 0) break;
            filled += bytesRead;
          }
          if (filled > 0) {
            const chunk = new Uint8Array(buffer.buffer, buffer.byteOffset, filled);
            controller.enqueue(decode ? base64AsciiToBytes(chunk) : chunk);
          }
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
