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

/** Signatures remembered per signer; past this many, the oldest is dropped. */
const SIGNATURE_CACHE_SIZE = 4096;

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
  // A finished job's URLs are signed again on every poll of it, and a signature never changes: remember
  // the latest ones instead of running the HMAC each time (it was a tenth of a job poll's CPU).
  const signed = new Map<string, string>();
  return {
    async sign(key, expiresSec) {
      const id = `${key}:${expiresSec}`;
      const known = signed.get(id);
      if (known !== undefined) return known;
      const mac = await crypto.subtle.sign("HMAC", await cryptoKey, message(key, expiresSec));
      const sig = bytesToBase64Url(new Uint8Array(mac));
      signed.set(id, sig);
      if (signed.size > SIGNATURE_CACHE_SIZE) {
        const oldest = signed.keys().next().value;
        if (oldest !== undefined) signed.delete(oldest);
      }
      return sig;
    },
    async verify(key, expiresSec, sig) {
      const bytes = base64UrlToBytes(sig);
      // SHA-256 MACs are 32 bytes; anything else cannot match, and the length is not secret.
      if (bytes?.length !== 32) return false;
      return crypto.subtle.verify("HMAC", await cryptoKey, bytes, message(key, expiresSec));
    },
  };
}
