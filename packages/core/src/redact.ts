/**
 * Last line of defence against leaking credentials into logs, errors and stored CLI output.
 * Code should never put a token into a message in the first place; this catches what slips through.
 */

// JWTs (three base64url segments starting with `eyJ`), bearer headers, OpenAI keys, our own keys,
// and JSON fields that carry tokens.
const PATTERNS: Array<[RegExp, string]> = [
  [/eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*/g, "[redacted-jwt]"],
  [/(bearer\s+)[A-Za-z0-9._~+/=-]{8,}/gi, "$1[redacted]"],
  [/\bsk-[A-Za-z0-9_-]{16,}/g, "[redacted-key]"],
  [/\bcimg_[A-Za-z0-9_-]{8,}/g, "cimg_[redacted]"],
  [
    // Also matches the escaped form (\"refresh_token\":\"…\") found in JSON embedded in JSON.
    /(\\?"(?:access_token|refresh_token|id_token|OPENAI_API_KEY|api_key|password)\\?"\s*:\s*\\?")[^"\\]*/g,
    "$1[redacted]",
  ],
  [/((?:access_token|refresh_token|id_token)=)[^&\s"]+/g, "$1[redacted]"],
];

export function redactSecrets(text: string): string {
  let out = text;
  for (const [pattern, replacement] of PATTERNS) out = out.replace(pattern, replacement);
  return out;
}

/** A short, non-reversible label for a secret, safe to log: `sha256:1a2b3c4d`. */
export async function secretFingerprint(secret: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(secret));
  const hex = Array.from(new Uint8Array(digest).slice(0, 4), (b) => b.toString(16).padStart(2, "0")).join("");
  return `sha256:${hex}`;
}
