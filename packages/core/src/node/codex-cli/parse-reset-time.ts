const MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];

/**
 * Parses the reset time of the CLI's usage-limit message ("… try again at May 4th, 2026 11:16 PM." or,
 * on the same day, "… try again at 11:16 PM."). The CLI prints local time; the backend runs it with
 * `TZ=UTC`, so the text is read as UTC. Minutes only: the result is rounded up to the next minute so a
 * retry never comes early. Returns epoch milliseconds, or undefined when there is no such phrase.
 */
export function parseTryAgainAt(text: string, now: number): number | undefined {
  const full =
    /try again at ([A-Za-z]{3})[a-z]* (\d{1,2})(?:st|nd|rd|th)?,? (\d{4}),? (\d{1,2}):(\d{2})\s*([AP]M)/i.exec(
      text,
    );
  if (full) {
    const month = MONTHS.indexOf((full[1] ?? "").toLowerCase());
    if (month < 0) return undefined;
    const hour = to24(Number(full[4]), full[6] ?? "AM");
    return Date.UTC(Number(full[3]), month, Number(full[2]), hour, Number(full[5])) + 60_000;
  }
  const timeOnly = /try again at (\d{1,2}):(\d{2})\s*([AP]M)/i.exec(text);
  if (timeOnly) {
    const day = new Date(now);
    let at = Date.UTC(
      day.getUTCFullYear(),
      day.getUTCMonth(),
      day.getUTCDate(),
      to24(Number(timeOnly[1]), timeOnly[3] ?? "AM"),
      Number(timeOnly[2]),
    );
    if (at + 60_000 <= now) at += 24 * 3600_000;
    return at + 60_000;
  }
  return undefined;
}

function to24(hour: number, meridiem: string): number {
  const pm = meridiem.toUpperCase() === "PM";
  return (hour % 12) + (pm ? 12 : 0);
}
