import { bytesToBase64 } from "./base64.js";

/**
 * Bytes to write as base64: a stream whose chunks are whole base64 quanta (a multiple of 3 bytes, except
 * the last), and its length.
 */
export interface Base64Source {
  bytes: number;
  body: ReadableStream<Uint8Array>;
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
 * With `text`, each base64 chunk is handed on as the string the runtime's encoder made, not copied into
 * bytes: for writers that take strings (Bun's `Response`, an SSE writer), which saves a copy of the
 * whole base64 (2 MB for a 1.5 MB image) per reply.
 */
export async function jsonWithBase64<T>(
  build: (base64Of: (source: T) => string) => unknown,
  open: (source: T) => Promise<Base64Source>,
  options: { text: boolean },
): Promise<JsonWithBase64<Uint8Array | string>>;
export async function jsonWithBase64<T>(
  build: (base64Of: (source: T) => string) => unknown,
  open: (source: T) => Promise<Base64Source>,
  options: { text: boolean } = { text: false },
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
  const opened: Array<ReadableStream<Uint8Array>> = [];
  let length = 0;
  try {
    for (const source of wanted) {
      const base64 = await open(source);
      opened.push(base64.body);
      length += 4 * Math.ceil(base64.bytes / 3);
    }
  } catch (error) {
    await Promise.all(opened.map((body) => body.cancel()));
    throw error;
  }
  const encoder = new TextEncoder();
  // JSON.stringify writes the placeholder's NULs as `\u0000`: split the text on that serialised form.
  const serialisedTag = JSON.stringify(tag).slice(1, -1);
  const escapedNul = "\\u0000";
  const parts: Array<Uint8Array | ReadableStream<Uint8Array>> = [];
  for (const [index, piece] of text.split(serialisedTag).entries()) {
    if (index === 0) {
      parts.push(encoder.encode(piece));
      continue;
    }
    const end = piece.indexOf(escapedNul);
    const body = opened[Number(piece.slice(0, end))];
    if (body) parts.push(body);
    parts.push(encoder.encode(piece.slice(end + escapedNul.length)));
  }
  for (const part of parts) if (part instanceof Uint8Array) length += part.length;
  return { body: partsStream(parts, options.text), length };
}

/** The parts in order; a source's chunks (whole base64 quanta) are encoded as they come. */
function partsStream(
  parts: Array<Uint8Array | ReadableStream<Uint8Array>>,
  text: boolean,
): ReadableStream<Uint8Array | string> {
  const encoder = new TextEncoder();
  let reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
  return new ReadableStream<Uint8Array | string>({
    async pull(controller) {
      for (;;) {
        if (reader) {
          const { done, value } = await reader.read();
          if (!done) {
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
        reader = next.getReader();
      }
    },
    async cancel(reason) {
      await reader?.cancel(reason);
      await Promise.all(parts.map((part) => (part instanceof Uint8Array ? undefined : part.cancel(reason))));
    },
  });
}
