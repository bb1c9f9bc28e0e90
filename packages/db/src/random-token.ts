/**
 * `bytes` random bytes from `crypto.getRandomValues` as unpadded base64url (32 bytes -> 43 characters):
 * safe in headers, cookies and URLs without escaping.
 */
export function randomToken(bytes = 32): string {
  const raw = crypto.getRandomValues(new Uint8Array(bytes));
  let binary = "";
  for (const byte of raw) binary += String.fromCharCode(byte);
  return btoa(binary).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

const BASE32 = "abcdefghijklmnopqrstuvwxyz234567";

/** `<prefix>_` + 26 base32 characters (128 random bits), like job ids: unguessable, URL- and log-safe. */
export function randomId(prefix: string): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  let bits = 0;
  let value = 0;
  let out = "";
  for (const byte of bytes) {
    value = ((value << 8) | byte) & 0xffff;
    bits += 8;
    while (bits >= 5) {
      out += BASE32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += BASE32[(value << (5 - bits)) & 31];
  return `${prefix}_${out}`;
}
