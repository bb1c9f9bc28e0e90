import { bytesToBase64, CodexImgError, type ImageStore } from "@codex-img/core";

/** Writes a stored image's base64 into a JSON value being built; returns the placeholder to put there. */
export type Base64Of = (key: string) => string;

/** A JSON document streamed with its images' base64 read from the store chunk by chunk. */
export interface JsonWithImages {
  body: ReadableStream<Uint8Array>;
  /** Exact length in bytes, known before anything is read. */
  length: number;
}

/**
 * Serialises `build(base64Of)` as JSON, where every `base64Of(key)` (alone or inside a longer string, as
 * in a data URL) becomes that stored image's base64, encoded chunk by chunk while the body is sent. No
 * reply ever holds a whole image or its multi-megabyte base64 string. Every image is opened before this
 * returns, so a missing one is an error before any byte is sent.
 */
export async function jsonWithImages(
  images: ImageStore,
  build: (base64Of: Base64Of) => unknown,
): Promise<JsonWithImages> {
  // A random tag per reply: a prompt cannot contain a placeholder by chance or on purpose.
  const tag = `\u0000${crypto.randomUUID()}:`;
  const keys: string[] = [];
  const text = JSON.stringify(
    build((key) => {
      keys.push(key);
      return `${tag}${keys.length - 1}\u0000`;
    }),
  );
  const opened: Array<ReadableStream<Uint8Array>> = [];
  let length = 0;
  try {
    for (const key of keys) {
      const image = await images.stream(key);
      if (!image) throw new CodexImgError("internal", `Stored image ${key} is missing.`);
      opened.push(image.body);
      length += 4 * Math.ceil(image.bytes / 3);
    }
  } catch (error) {
    await Promise.all(opened.map((body) => body.cancel()));
    throw error;
  }
  const encoder = new TextEncoder();
  // JSON.stringify writes the placeholder's NULs as `\u0000`: split the text on that serialised form.
  const serialisedTag = JSON.stringify(tag).slice(1, -1);
  const parts: Array<Uint8Array | ReadableStream<Uint8Array>> = [];
  for (const [index, piece] of text.split(serialisedTag).entries()) {
    if (index === 0) {
      parts.push(encoder.encode(piece));
      continue;
    }
    const end = piece.indexOf("\\u0000");
    const body = opened[Number(piece.slice(0, end))];
    if (body) parts.push(body);
    parts.push(encoder.encode(piece.slice(end + "\\u0000".length)));
  }
  for (const part of parts) if (part instanceof Uint8Array) length += part.length;
  return { body: partsStream(parts), length };
}

/** The parts in order; an image stream's chunks (whole base64 quanta, see `ImageStore.stream`) are encoded as they come. */
function partsStream(parts: Array<Uint8Array | ReadableStream<Uint8Array>>): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  let reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      for (;;) {
        if (reader) {
          const { done, value } = await reader.read();
          if (!done) {
            controller.enqueue(encoder.encode(bytesToBase64(value)));
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
