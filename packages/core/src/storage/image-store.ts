import { CodexImgError } from "../errors.js";
import type { Base64Source } from "../image/json-with-base64.js";
import type { ImageFormat } from "../types.js";

/** What a store knows about one stored image. */
export interface StoredObject {
  /** Unguessable name, e.g. `img_5kq2…x7.png`: safe in a URL and as a file name. */
  key: string;
  /**
   * The image's size in bytes; in `list`, the size as stored (an image kept as base64 counts its
   * characters, a third more).
   */
  bytes: number;
  /** Epoch milliseconds of the write. */
  storedAt: number;
}

/** A stored object with digests of its bytes, computed while they were written (no second read). */
export interface StoredObjectWithHash extends StoredObject {
  /**
   * An identity of the bytes within this process: equal bytes give equal digests, whatever chunks they
   * came in, and different bytes different ones. For comparing outputs in memory (the runner's stale-output
   * check), never persisted: a store may compute it with a fast non-cryptographic hash.
   */
  digest: string;
  /** Lowercase hex SHA-256, when `putStream` was asked for it (`sha256: true`). */
  sha256?: string;
}

export type PutStreamOptions = {
  format: ImageFormat;
  prefix?: KeyPrefix;
} & (
  | {
      /** Also compute the SHA-256 (references need it: it is persisted in the request's hash). */
      sha256?: boolean;
      base64?: false;
    }
  | {
      /**
       * The source is the image's base64: standard alphabet, padded, nothing else (`base64Canonicalizer`).
       * The store may keep it as it is (`base64-text.ts`): `stream` hands it to readers that take base64,
       * and `get` and other readers get the image's bytes. The digest is then over the text.
       */
      base64: true;
      sha256?: false;
    }
);

/**
 * Where image bytes live: generated images and the reference images of queued jobs. Keys are created by
 * the store and are unguessable, so a key is also a capability (image URLs can be public by key).
 */
export interface ImageStore {
  put(bytes: Uint8Array, options: { format: ImageFormat; prefix?: KeyPrefix }): Promise<StoredObject>;
  /**
   * Stores bytes as they arrive (an upload, an upstream reply) without holding them whole: the object
   * appears under its key only once the source has ended; if the source throws, nothing is stored and
   * the error is rethrown. The source's chunks may be reused by it once the next one is asked for.
   * The bytes are digested on the way (the runner's stale-output check needs no second pass over them),
   * and hashed with SHA-256 as well when `sha256` is asked.
   */
  putStream(source: ByteSource, options: PutStreamOptions): Promise<StoredObjectWithHash>;
  /** The bytes, or undefined when the key is unknown or malformed. */
  get(key: string): Promise<Uint8Array | undefined>;
  /**
   * The bytes as a stream (replies are written from it without holding the whole image), with their
   * size; undefined when the key is unknown or malformed. The stream's chunks are `BASE64_CHUNK_BYTES`
   * long except the last, so each encodes to base64 alone. With `base64`, an image kept as base64 comes
   * as its text instead (`encoded`). With `transient`, a chunk is valid only until the next one is read
   * (the store may read into one buffer throughout): for readers that encode or copy each chunk before
   * asking for the next, like `jsonWithBase64`; never for a reply body, which holds them.
   */
  stream(key: string, options?: StreamOptions): Promise<Base64Source | undefined>;
  /** True when something was deleted. */
  delete(key: string): Promise<boolean>;
  /** Every stored object, for retention and orphan sweeps. */
  list(): AsyncIterable<StoredObject>;
}

export interface StreamOptions {
  /** The reader is done with each chunk before it reads the next: the store may reuse its buffer. */
  transient?: boolean;
  /** The reader takes base64 text (`jsonWithBase64`): an image kept as base64 is streamed as it is, not decoded. */
  base64?: boolean;
}

/** Chunks of bytes as a web stream or any async iterable (a generator, a Node stream). */
export type ByteSource = ReadableStream<Uint8Array> | AsyncIterable<Uint8Array>;

/** The chunks of a `ByteSource`; a stream's reader is released (and the stream canceled) when the loop stops early. */
export async function* byteChunks(source: ByteSource): AsyncGenerator<Uint8Array> {
  if (!("getReader" in source)) {
    yield* source;
    return;
  }
  const reader = source.getReader();
  let done = false;
  try {
    for (;;) {
      const read = await reader.read();
      if (read.done) {
        done = true;
        return;
      }
      yield read.value;
    }
  } finally {
    if (!done) await reader.cancel().catch(() => undefined);
    reader.releaseLock();
  }
}

/** Bytes already in memory as a `ByteSource` of one chunk (for `putStream` when they were not streamed). */
export async function* singleChunk(bytes: Uint8Array): AsyncGenerator<Uint8Array> {
  yield bytes;
}

/** `img` for generated images, `ref` for reference images kept for a queued job. */
export type KeyPrefix = "img" | "ref";

const EXTENSIONS: Record<ImageFormat, string> = { png: "png", jpeg: "jpg", webp: "webp" };
const KEY_PATTERN = /^(img|ref)_[a-z2-7]{26}\.(png|jpg|webp)$/;

/** 128 random bits in lowercase base32: unguessable and safe everywhere a name goes. */
export function newImageKey(format: ImageFormat, prefix: KeyPrefix = "img"): string {
  const alphabet = "abcdefghijklmnopqrstuvwxyz234567";
  const random = crypto.getRandomValues(new Uint8Array(26));
  let id = "";
  for (const byte of random) id += alphabet[byte & 31];
  return `${prefix}_${id}.${EXTENSIONS[format]}`;
}

/** Keys come back from URLs: anything that is not exactly our shape (traversal, slashes) is refused. */
export function isImageKey(key: string): boolean {
  return KEY_PATTERN.test(key);
}

export function assertImageKey(key: string): void {
  if (!isImageKey(key)) throw new CodexImgError("not_found", "No such image.", { details: { param: "key" } });
}

/** The format a key was stored as, from its extension. */
export function imageKeyFormat(key: string): ImageFormat | undefined {
  const ext = key.slice(key.lastIndexOf(".") + 1);
  return ext === "png" ? "png" : ext === "jpg" ? "jpeg" : ext === "webp" ? "webp" : undefined;
}
