import { isUtf8 } from "node:buffer";
import { CodexImgError, parseJsonBytes } from "@codex-img/core";
import type { Context } from "hono";
import type { z } from "zod";
import type { AppEnv } from "../app-env.js";
import { assertJsonContentType, readBodyBytes, readJsonBytes, validateBody } from "./native-error.js";
import { holdBeyondBody } from "./request-door.js";

/** A JSON body whose reference images are still bytes (see `readJsonWithReferences`). */
export interface JsonWithReferences {
  /** The parsed body; a long string at a reference path is a short placeholder string. */
  value: unknown;
  /** The raw inside of the JSON string a placeholder stands for; undefined for any other string. */
  referenceBytes(value: string): Uint8Array | undefined;
  /** Counts bytes decoded from the body against the request budget (`holdBeyondBody`). */
  hold(bytes: number): void;
  /** Drops the body's bytes once the references are decoded, so they can be collected. */
  dispose(): void;
}

/**
 * Reads a JSON body that may carry megabytes of base64 (reference images) without turning it into JS
 * strings: the body's bytes are parsed with `parseJsonBytes`, which cuts long strings out as byte
 * slices; those at `referencePaths` (dotted, `*` for any index or key, e.g. `images.*.image_url`) stay
 * bytes for `referenceBytes`, to be decoded natively, and any other long string (a long prompt) becomes
 * a string again. Every malformed body is refused as `readJsonValue` refuses it, with the same errors.
 */
export async function readJsonWithReferences(
  c: Context<AppEnv>,
  maxBytes: number,
  referencePaths: readonly string[],
  /**
   * `lenient`: the rules of a route that read its body as text (`c.req.text()`): any JSON value parses,
   * and invalid UTF-8 becomes U+FFFD instead of being refused. Default `strict`, `readJsonValue`'s rules.
   */
  rules: "strict" | "lenient" = "strict",
): Promise<JsonWithReferences> {
  const strict = rules === "strict";
  const bytes = strict ? await readJsonBytes(c, maxBytes) : await readBodyBytes(c, maxBytes);
  // Checked natively over the whole body, as the string decoder of `readJsonValue` would (without a string).
  if (strict && !isUtf8(bytes)) throw invalidBody("The request body is not valid UTF-8.");
  const parsed = parseJsonBytes(bytes);
  if (!parsed) throw notJson();
  const patterns = referencePaths.map((path) => path.split("."));
  const kept = new Map<string, Uint8Array>();
  // Walked with a stack, not recursion: a body may nest as deep as `JSON.parse` allows. Each slot knows
  // its parent, so a path is only spelled out for a long string.
  const root = { value: parsed.value };
  const stack: Slot[] = [{ holder: root, key: "value" }];
  for (let slot = stack.pop(); slot; slot = stack.pop()) {
    const value = (slot.holder as Record<string, unknown>)[slot.key];
    if (typeof value === "string") {
      const raw = parsed.longString(value);
      if (!raw) continue;
      const path = pathOf(slot);
      if (patterns.some((pattern) => matches(pattern, path))) kept.set(value, raw);
      // Defined, not assigned: a `__proto__` key from JSON is an own property and must stay one.
      else
        Object.defineProperty(slot.holder, slot.key, {
          value: jsonStringContent(raw),
          enumerable: true,
          writable: true,
          configurable: true,
        });
    } else if (value !== null && typeof value === "object") {
      for (const key of Object.keys(value)) {
        // A long key was cut out too: it gets its name back (no key is ever a reference).
        const raw = Array.isArray(value) ? undefined : parsed.longString(key);
        const name = raw ? jsonStringContent(raw) : key;
        if (raw) {
          const entry = Object.getOwnPropertyDescriptor(value, key);
          delete (value as Record<string, unknown>)[key];
          if (entry) Object.defineProperty(value, name, entry);
        }
        stack.push({ holder: value, key: name, parent: slot });
      }
    }
  }
  const value = root.value;
  return {
    value,
    referenceBytes: (placeholder) => kept.get(placeholder),
    hold: (bytes) => holdBeyondBody(c, bytes),
    dispose: () => kept.clear(),
  };
}

/** `readJsonBody` (content type, then the schema) for a body with references at `referencePaths`. */
export async function readJsonBodyWithReferences<S extends z.ZodType>(
  c: Context<AppEnv>,
  schema: S,
  options: { maxBytes: number; referencePaths: readonly string[] },
): Promise<{ body: z.infer<S>; json: JsonWithReferences }> {
  assertJsonContentType(c);
  const json = await readJsonWithReferences(c, options.maxBytes, options.referencePaths);
  return { body: validateBody(schema, json.value), json };
}

/**
 * The string a JSON string's raw inside stands for; a malformed one (a raw control character, a bad
 * escape) is the body's error, as `JSON.parse` of the whole body would have made it.
 */
export function jsonStringContent(raw: Uint8Array): string {
  try {
    return JSON.parse(`"${new TextDecoder().decode(raw)}"`) as string;
  } catch {
    throw notJson();
  }
}

interface Slot {
  holder: object;
  key: string;
  /** The slot of the array or object that holds this one; none for the document itself. */
  parent?: Slot;
}

/** Keys from the document down to `slot` (array indexes as strings). */
function pathOf(slot: Slot): string[] {
  const path: string[] = [];
  for (let at: Slot | undefined = slot; at?.parent; at = at.parent) path.unshift(at.key);
  return path;
}

function matches(pattern: readonly string[], path: readonly string[]): boolean {
  return pattern.length === path.length && pattern.every((part, i) => part === "*" || part === path[i]);
}

function notJson(): CodexImgError {
  return invalidBody("The request body is not valid JSON.");
}

function invalidBody(message: string): CodexImgError {
  return new CodexImgError("invalid_request", message, { details: { param: "body" } });
}
