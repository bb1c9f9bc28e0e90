import { CodexImgError } from "@codex-img/core";

/**
 * Opaque keyset cursors: the position of the last row of a page as base64url JSON, so callers cannot
 * depend on (or guess at) what is inside and the format can change.
 */
export function encodeCursor(position: readonly (number | string)[]): string {
  const bytes = new TextEncoder().encode(JSON.stringify(position));
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

/** The position in a cursor; throws `invalid_request` (param `cursor`) when it is not one of ours. */
export function decodeCursor(cursor: string, shape: readonly ("number" | "string")[]): (number | string)[] {
  try {
    const binary = atob(cursor.replaceAll("-", "+").replaceAll("_", "/"));
    const parsed: unknown = JSON.parse(
      new TextDecoder().decode(Uint8Array.from(binary, (c) => c.charCodeAt(0))),
    );
    if (
      Array.isArray(parsed) &&
      parsed.length === shape.length &&
      parsed.every((v, i) => (shape[i] === "number" ? Number.isSafeInteger(v) : typeof v === "string"))
    ) {
      return parsed as (number | string)[];
    }
  } catch {
    // Falls through to the refusal below.
  }
  throw new CodexImgError("invalid_request", "The cursor is not valid.", { details: { param: "cursor" } });
}
