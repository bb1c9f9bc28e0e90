const integer = new Intl.NumberFormat();
const percent = new Intl.NumberFormat(undefined, { style: "percent", maximumFractionDigits: 0 });

/** Counts with the viewer's digit grouping. */
export function formatCount(value: number): string {
  return integer.format(value);
}

/** A 0–1 ratio as a percentage; a dash for null. */
export function formatRatio(value: number | null | undefined): string {
  return value === null || value === undefined ? "—" : percent.format(value);
}

/** Bytes as KB/MB/GB (powers of 1024). */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ["KB", "MB", "GB", "TB"];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}

/** A limit for display: "∞" when unlimited. */
export function formatLimit(limit: number | null): string {
  return limit === null ? "∞" : integer.format(limit);
}
