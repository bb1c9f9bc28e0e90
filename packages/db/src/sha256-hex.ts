import { createHash } from "node:crypto";

/**
 * SHA-256 of a UTF-8 string as lowercase hex: how keys, session and CSRF tokens are stored at rest.
 * Hashed natively and at once (every authenticated request hashes its key), not through WebCrypto's
 * promise round trip.
 */
export async function sha256Hex(text: string): Promise<string> {
  return createHash("sha256").update(text, "utf8").digest("hex");
}
