import type { StoredImageRequest } from "./job.js";

/**
 * SHA-256 (hex) of the request in canonical JSON (sorted keys), so the same body hashes the same whatever
 * the property order it arrived in. Used to tell an idempotent repeat from a conflicting reuse of a key.
 */
export async function hashJobRequest(
  request: StoredImageRequest & { kind?: string; echo?: Record<string, unknown> },
): Promise<string> {
  // Reference keys are fresh random names per upload: compare references by content hash instead.
  const referenceImages = request.referenceImages.map(({ key, ...ref }) =>
    ref.sha256 ? ref : { key, ...ref },
  );
  const bytes = new TextEncoder().encode(canonicalJson({ ...request, referenceImages }));
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
  }
  return JSON.stringify(value) ?? "null";
}
