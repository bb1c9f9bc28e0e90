// RFC 3339 as the writers of auth.json produce it: `Z` or a numeric offset, with or without
// fractional seconds (any number of digits; JavaScript keeps milliseconds), `T` or a space.
const RFC3339 =
  /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(?:([Zz])|([+-])(\d{2}):?(\d{2}))?$/;

/**
 * Parses `last_refresh` leniently into epoch milliseconds; undefined when absent or unreadable.
 * A value without any offset is read as UTC, which is what every known writer means.
 */
export function parseLastRefresh(value: unknown): number | undefined {
  if (typeof value !== "string") return undefined;
  const match = RFC3339.exec(value.trim());
  if (!match) return undefined;
  const [, y, mo, d, h, mi, s, fraction, , sign, offH, offM] = match;
  const ms = Number((fraction ?? "").padEnd(3, "0").slice(0, 3));
  const utc = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s), ms);
  const offsetMinutes = sign ? (sign === "-" ? -1 : 1) * (Number(offH) * 60 + Number(offM)) : 0;
  const result = utc - offsetMinutes * 60_000;
  return Number.isFinite(result) ? result : undefined;
}
