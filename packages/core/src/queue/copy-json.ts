/**
 * A deep copy of a JSON value (a job, its events and errors are: plain objects, arrays, strings, numbers,
 * booleans, null). In Bun this is about 20 times cheaper than `structuredClone` of a job and cheaper than
 * `JSON.parse` of its text (about 1 µs for a typical job); every transition, store write and cached read
 * copies one, so `structuredClone` was ~4 % of the server's CPU per image.
 */
export function copyJson<T>(value: T): T {
  if (value === null || typeof value !== "object") return value;
  if (Array.isArray(value)) {
    const out = new Array(value.length);
    for (let i = 0; i < value.length; i++) out[i] = copyJson(value[i]);
    return out as T;
  }
  const source = value as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  // `for…in` over plain data (no prototype keys): several times faster here than `Object.entries`.
  for (const key in source) out[key] = copyJson(source[key]);
  return out as T;
}

/**
 * A deep copy of a JSON value, frozen all the way down: a value several readers share without copying it
 * again (a finished job served from memory), and that none of them can change by mistake (writing to it
 * throws in strict-mode code, which every module is).
 */
export function frozenCopyJson<T>(value: T): T {
  if (value === null || typeof value !== "object") return value;
  if (Array.isArray(value)) {
    const out = new Array(value.length);
    for (let i = 0; i < value.length; i++) out[i] = frozenCopyJson(value[i]);
    return Object.freeze(out) as T;
  }
  const source = value as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const key in source) out[key] = frozenCopyJson(source[key]);
  return Object.freeze(out) as T;
}
