const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/** A JSON document read from bytes, its long string values kept as bytes instead of JS strings. */
export interface JsonBytes {
  /** The parsed value; each long string is replaced by a placeholder string that `longString` resolves. */
  value: unknown;
  /**
   * The raw bytes between the quotes of a long string (escapes not applied), when `placeholder` is one
   * of this document's placeholders; undefined for any other value.
   */
  longString(placeholder: unknown): Uint8Array | undefined;
}

/**
 * Parses a JSON reply that carries megabytes of base64 without turning it into a JS string: the string
 * tokens are found with the runtime's native `indexOf` (one jump per string, whatever its length),
 * strings of `minLongBytes` bytes or more are cut out and replaced by short placeholders, and only the
 * small remainder is decoded as UTF-8 and given to `JSON.parse`. Returns undefined for invalid JSON.
 */
export function parseJsonBytes(bytes: Uint8Array, minLongBytes = 4096): JsonBytes | undefined {
  // A random tag per document: an upstream string cannot be mistaken for one of our placeholders.
  const tag = `\u0000${crypto.randomUUID()}:`;
  const slices: Uint8Array[] = [];
  const decoder = new TextDecoder();
  let text = "";
  let copiedTo = 0;
  let position = 0;
  for (;;) {
    const open = bytes.indexOf(QUOTE, position);
    if (open === -1) break;
    const close = closingQuote(bytes, open + 1);
    if (close === -1) return undefined;
    if (close - open - 1 >= minLongBytes) {
      text += decoder.decode(bytes.subarray(copiedTo, open), { stream: true });
      text += JSON.stringify(`${tag}${slices.length}`);
      slices.push(bytes.subarray(open + 1, close));
      copiedTo = close + 1;
    }
    position = close + 1;
  }
  text += decoder.decode(bytes.subarray(copiedTo));
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  return {
    value,
    longString(placeholder) {
      if (typeof placeholder !== "string" || !placeholder.startsWith(tag)) return undefined;
      return slices[Number(placeholder.slice(tag.length))];
    },
  };
}

/** Index of the quote that ends a JSON string starting at `from`, skipping escaped quotes; -1 if none. */
function closingQuote(bytes: Uint8Array, from: number): number {
  let quote = bytes.indexOf(QUOTE, from);
  while (quote !== -1) {
    let backslashes = 0;
    while (bytes[quote - 1 - backslashes] === BACKSLASH) backslashes++;
    if (backslashes % 2 === 0) return quote;
    quote = bytes.indexOf(QUOTE, quote + 1);
  }
  return -1;
}
