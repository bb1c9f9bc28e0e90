/**
 * Whether two JSON values (plain objects, arrays, strings, numbers, booleans, null) would serialise to
 * the same text, ignoring key order, without serialising either: a job write compares the row it read
 * with the one it writes, and serialising both sides cost more than the write's own statements. Keys
 * whose value is `undefined` count as absent, as `JSON.stringify` leaves them out.
 */
export function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a === null || b === null || typeof a !== "object" || typeof b !== "object") return false;
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!sameJson(a[i], b[i])) return false;
    return true;
  }
  const left = a as Record<string, unknown>;
  const right = b as Record<string, unknown>;
  let keys = 0;
  // `for…in` over plain data (no prototype keys), as `copyJson` in core.
  for (const key in left) {
    if (left[key] === undefined) continue;
    if (!sameJson(left[key], right[key])) return false;
    keys++;
  }
  for (const key in right) if (right[key] !== undefined) keys--;
  return keys === 0;
}
