import type { ImageFormat } from "../types.js";

/** Base64 without `Buffer`, so core runs on Node, Bun and Deno alike. */
export function bytesToBase64(bytes: Uint8Array): string {
  let binary = "";
  const chunk = 0x8000;
  for (let i = 0; i < bytes.length; i += chunk) {
    binary += String.fromCharCode(...bytes.subarray(i, i + chunk));
  }
  return btoa(binary);
}

/**
 * Decodes standard or URL-safe base64, with or without padding and whitespace.
 * Throws `TypeError` on anything else, so callers can reject bad input at the door.
 */
export function base64ToBytes(base64: string): Uint8Array {
  const clean = base64.replace(/\s+/g, "").replaceAll("-", "+").replaceAll("_", "/");
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(clean) || clean.replace(/=+$/, "").length % 4 === 1) {
    throw new TypeError("not valid base64");
  }
  const binary = atob(clean.padEnd(Math.ceil(clean.length / 4) * 4, "="));
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

export const IMAGE_MIME_TYPES: Record<ImageFormat, string> = {
  png: "image/png",
  jpeg: "image/jpeg",
  webp: "image/webp",
};

/** `data:image/png;base64,…` as the Codex image routes require for references. */
export function toDataUrl(bytes: Uint8Array, format: ImageFormat): string {
  return `data:${IMAGE_MIME_TYPES[format]};base64,${bytesToBase64(bytes)}`;
}

/** Accepts a data URL or bare base64 (with a data URL's declared type ignored: bytes are sniffed later). */
export function fromDataUrlOrBase64(value: string): Uint8Array {
  const match = /^data:[^;,]*(?:;[^,]*)?,/.exec(value);
  return base64ToBytes(match ? value.slice(match[0].length) : value);
}
