import { base64UrlToBytes, bytesToBase64Url } from "./base64url.js";

/**
 * HMAC-SHA256 signatures for image URLs: `sig = base64url(HMAC(secret, key + ":" + expires))`, `expires`
 * in Unix seconds. Web Crypto only, so the API stays runtime-neutral; `verify` compares in constant time.
 */
export interface UrlSigner {
  sign(key: string, expiresSec: number): Promise<string>;
  /** True when `sig` is the signature of `key` and `expiresSec` (expiry itself is the caller's check). */
  verify(key: string, expiresSec: number, sig: string): Promise<boolean>;
}

/** Refuses short secrets: a guessable secret would let anyone mint URLs for any image key. */
export function createUrlSigner(secret: string): UrlSigner {
  if (secret.length < 16) throw new Error("urlSigningSecret must be at least 16 characters.");
  const encoder = new TextEncoder();
  // Imported once per signer; the promise is shared so concurrent first calls do not import twice.
  const cryptoKey = crypto.subtle.importKey(
    "raw",
    encoder.encode(secret),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign", "verify"],
  );
  const message = (key: string, expiresSec: number): Uint8Array<ArrayBuffer> =>
    encoder.encode(`${key}:${expiresSec}`);
  return {
    async sign(key, expiresSec) {
      const mac = await crypto.subtle.sign("HMAC", await cryptoKey, message(key, expiresSec));
      return bytesToBase64Url(new Uint8Array(mac));
    },
    async verify(key, expiresSec, sig) {
      const bytes = base64UrlToBytes(sig);
      // SHA-256 MACs are 32 bytes; anything else cannot match, and the length is not secret.
      if (bytes?.length !== 32) return false;
      return crypto.subtle.verify("HMAC", await cryptoKey, bytes, message(key, expiresSec));
    },
  };
}
