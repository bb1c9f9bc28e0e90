import * as nodeCrypto from "node:crypto";

/**
 * SHA-256 of a UTF-8 string as lowercase hex: how keys, session and CSRF tokens are stored at rest.
 * Hashed natively and at once (every authenticated request hashes its key): the one-shot `hash` costs a
 * third of a `createHash` object in Bun, and nothing of WebCrypto's promise round trip. `createHash`
 * stays for runtimes whose `node:crypto` lacks `hash`.
 */
export async function sha256Hex(text: string): Promise<string> {
  return typeof nodeCrypto.hash === "function"
    ? nodeCrypto.hash("sha256", text, "hex")
    : nodeCrypto.createHash("sha256").update(text, "utf8").digest("hex");
}
