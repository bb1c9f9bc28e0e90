import { CodexImgError } from "@codex-img/core";
import type { Context } from "hono";

/** `Idempotency-Key`: 1 to 255 visible ASCII characters. */
export function readIdempotencyKey(c: Context): string | undefined {
  const value = c.req.header("idempotency-key");
  if (value === undefined) return undefined;
  const trimmed = value.trim();
  if (!/^[\x21-\x7e]{1,255}$/.test(trimmed)) {
    throw new CodexImgError("invalid_request", "Idempotency-Key must be 1 to 255 visible ASCII characters.", {
      details: { param: "Idempotency-Key" },
    });
  }
  return trimmed;
}
