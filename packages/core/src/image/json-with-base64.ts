import { asciiText, bytesToBase64 } from "./base64.js";
import { base64EncodedLength } from "./base64-text.js";

/**
 * Bytes to write as base64: a stream whose chunks are whole base64 quanta (a multiple of 3 bytes, except
 * the last), and its length; or, when `encoded`, the stream of the base64 text itself (standard, padded).
 */
export interface Base64Source {
  /** The size of the bytes (also when `encoded`). */
  bytes: number;
  body: ReadableStream<Uint8Array>;
  /** The chunks are base64 text already, written as they are (an image kept as base64 by the store). */
  encoded?: boolean;
}

/**
 * A JSON document streamed with its base64 fields encoded chunk by chunk. Its chunks are bytes, or with
 * `{ text: true }` (`jsonWithBase64`) the base64 chunks are ASCII strings.
 */
export interface JsonWithBase64<Chunk extends Uint8Array | string = Uint8Array> {
  body: ReadableStream<Chunk>;
  /** Exact length in bytes, known before anything is read. */
  length: number;
}

/** 192 KiB: a multiple of 3 (whole base64 quanta) and few enough chunks that the per-chunk cost is small. */
export const BASE64_CHUNK_BYTES = 3 * 64 * 1024;

/** Bytes already in memory as a `Base64Source`, in `BASE64_CHUNK_BYTES` chunks, without copying them. */
export function base64SourceOf(bytes: Uint8Array): Base64Source {
  let offset = 0;
  return {
    bytes: bytes.length,
    body: new ReadableStream<Uint8Array>({
      pull(controller) {
        if (offset >= bytes.length) {
          controller.close();
          return;
        }
        controller.enqueue(bytes.subarray(offset, offset + BASE64_CHUNK_BYTES));
        offset += BASE64_CHUNK_BYTES;
      },
    }),
  };
}

/**
 * Serialises `build(base64Of)` as JSON, where every `base64Of(source)` (alone or inside a longer string,
 * as in a data URL) becomes that source's base64, encoded chunk by chunk while the body is read: no
 * multi-megabyte string is ever built. Every source is opened before this returns, so a missing one is an
 * error before any byte is sent (the ones already opened are released).
 */
export async function jsonWithBase64<T>(
  build: (base64Of: (source: T) => string) => unknown,
  open: (source: T) => Promise<Base64Source>,
): Promise<JsonWithBase64>;
/**
 * With `chunks: "text"`, each base64 chunk is handed on as a string (the runtime's encoder made it, or
 * an encoded source's text), not copied into bytes: for writers that take strings (an SSE writer).
 *
 * With `chunks: "direct"`, the body is Bun's direct stream, only for a `Response` on Bun: every chunk is
 * written into the connection (or copied into its buffer) as it is made, so an encoded source's text
 * goes out from the store's one reused buffer and no chunk is left behind as garbage. Its chunks are not
 * meant for a reader.
 */
export async function jsonWithBase64<T>(
  build: (base64Of: (source: T) => string) => unknown,
  open: (source: T) => Promise<Base64Source>,
  options: { chunks: JsonChunks },
): Promise<JsonWithBase64<Uint8Array | string>>;
export async function jsonWithBase64<T>(
  build: (base64Of: (source: T) => string) => unknown,
  open: (source: T) => Promise<Base64Source>,
  options: { chunks: JsonChunks } = { chunks: "bytes" },
): Promise<JsonWithBase64<Uint8Array | string>> {
  // A random tag per document: a prompt cannot contain a placeholder by chance or on purpose.
  const tag = `\u0000${crypto.randomUUID()}:`;
  const wanted: T[] = [];
  const text = JSON.stringify(
    build((source) => {
      wanted.push(source);
      return `${tag}${wanted.length - 1}\u0000`;
    }),
  );
  const opened: Base64Source[] = [];
  let length = 0;
  try {
    for (const source of wanted) {
      const base64 = await open(source);
      opened.push(base64);
      length += base64EncodedLength(base64.bytes);
    }
  } catch (error) {
    await Promise.all(opened.map(({ body }) => body.cancel()));
    throw error;
  }
  const encoder = new TextEncoder();
  // JSON.stringify writes the placeholder's NULs as `\u0000`: split the text on that serialised form.
  const serialisedTag = JSON.stringify(tag).slice(1, -1);
  const escapedNul = "\\u0000";
  const parts: Array<Uint8Array | Base64Source> = [];
  for (const [index, piece] of text.split(serialisedTag).entries()) {
    if (index === 0) {
      parts.push(encoder.encode(piece));
      continue;
    }
    const end = piece.indexOf(escapedNul);
    const source = opened[Number(piece.slice(0, end))];
    if (source) parts.push(source);
    parts.push(encoder.encode(piece.slice(end + escapedNul.length)));
  }
  for (const part of parts) if (part instanceof Uint8Array) length += part.length;
  const body =
    options.chunks === "direct" ? directPartsStream(parts) : partsStream(parts, options.chunks === "text");
  return { body, length };
}

/** How `jsonWithBase64` hands its body out: all bytes, base64 as strings, or Bun's direct stream. */
export type JsonChunks = "bytes" | "text" | "direct";

/**
 * The parts in order as Bun's direct stream (`type: "direct"`): `pull` runs once and writes every part,
 * waiting whenever the connection's buffer is full. `write` copies what it cannot send at once, so the
 * source's chunk is free again as soon as it returns (the store's transient buffer serves every chunk).
 */
function directPartsStream(parts: Array<Uint8Array | Base64Source>): ReadableStream<Uint8Array | string> {
  let reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
  const cancelAll = async (reason?: unknown): Promise<void> => {
    await reader?.cancel(reason).catch(() => undefined);
    await cancelParts(parts, reason).catch(() => undefined);
  };
  const source = {
    type: "direct",
    async pull(controller: DirectController) {
      try {
        for (let part = parts.shift(); part !== undefined; part = parts.shift()) {
          if (part instanceof Uint8Array) {
            if (part.length > 0) await controller.write(part);
            continue;
          }
          reader = part.body.getReader();
          for (let read = await reader.read(); !read.done; read = await reader.read()) {
            await controller.write(part.encoded ? read.value : bytesToBase64(read.value));
          }
          reader = undefined;
        }
        controller.close();
      } catch (error) {
        await cancelAll(error);
        controller.close(error instanceof Error ? error : new Error(String(error)));
      }
    },
    cancel: cancelAll,
  };
  return new ReadableStream(source as unknown as UnderlyingDefaultSource<Uint8Array | string>);
}

/** Bun's controller of a direct stream, as far as this uses it. */
interface DirectController {
  write(data: Uint8Array | string): number | Promise<number>;
  close(error?: Error): void;
}

/**
 * The parts in order; a source's chunks (whole base64 quanta) are encoded as they come, and an encoded
 * source's text goes on as it is.
 */
function partsStream(
  parts: Array<Uint8Array | Base64Source>,
  text: boolean,
): ReadableStream<Uint8Array | string> {
  const encoder = new TextEncoder();
  let reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
  let encoded = false;
  return new ReadableStream<Uint8Array | string>({
    async pull(controller) {
      for (;;) {
        if (reader) {
          const { done, value } = await reader.read();
          if (!done) {
            if (encoded) {
              // Written on as it is: a copy (the chunk may be the store's reused buffer), as a string for
              // writers that take strings, like the encoder's output below.
              controller.enqueue(text ? asciiText(value) : value.slice());
              return;
            }
            const base64 = bytesToBase64(value);
            controller.enqueue(text ? base64 : encoder.encode(base64));
            return;
          }
          reader = undefined;
        }
        const next = parts.shift();
        if (next === undefined) {
          controller.close();
          return;
        }
        if (next instanceof Uint8Array) {
          if (next.length === 0) continue;
          controller.enqueue(next);
          return;
        }
        reader = next.body.getReader();
        encoded = next.encoded === true;
      }
    },
    async cancel(reason) {
      await reader?.cancel(reason);
      await cancelParts(parts, reason);
    },
  });
}

/** Cancels the sources not yet read (the files they read from are closed). */
async function cancelParts(parts: Array<Uint8Array | Base64Source>, reason?: unknown): Promise<void> {
  await Promise.all(parts.map((part) => (part instanceof Uint8Array ? undefined : part.body.cancel(reason))));
}
