/**
 * How long OpenAI asks a client to wait, in milliseconds, read the way the official SDK reads it:
 * `retry-after-ms` first, then `retry-after` (seconds or an HTTP date). The `x-ratelimit-reset-*`
 * durations are a fallback because image rate limits often arrive without `retry-after`.
 */
export function openAiRetryAfterMs(headers: Headers, now: number): number | undefined {
  const ms = Number.parseFloat(headers.get("retry-after-ms") ?? "");
  if (Number.isFinite(ms) && ms >= 0) return Math.ceil(ms);

  const retryAfter = headers.get("retry-after");
  if (retryAfter !== null) {
    const seconds = Number.parseFloat(retryAfter);
    if (Number.isFinite(seconds) && /^\s*[\d.]+\s*$/.test(retryAfter)) return Math.ceil(seconds * 1000);
    const date = Date.parse(retryAfter);
    if (Number.isFinite(date)) return Math.max(0, date - now);
  }

  const resets = [headers.get("x-ratelimit-reset-requests"), headers.get("x-ratelimit-reset-tokens")]
    .map((value) => (value === null ? undefined : parseOpenAiDuration(value)))
    .filter((value): value is number => value !== undefined);
  return resets.length > 0 ? Math.max(...resets) : undefined;
}

/** Parses OpenAI's Go-style durations (`20ms`, `1s`, `6m0s`, `1h2m3.5s`) into milliseconds. */
export function parseOpenAiDuration(text: string): number | undefined {
  const units: Record<string, number> = { h: 3_600_000, m: 60_000, s: 1000, ms: 1 };
  const pattern = /(\d+(?:\.\d+)?)(ms|h|m|s)/g;
  const trimmed = text.trim();
  let total = 0;
  let consumed = 0;
  for (const match of trimmed.matchAll(pattern)) {
    if (match.index !== consumed) return undefined;
    total += Number.parseFloat(match[1] ?? "0") * (units[match[2] ?? ""] ?? 0);
    consumed += match[0].length;
  }
  return consumed > 0 && consumed === trimmed.length ? Math.ceil(total) : undefined;
}
