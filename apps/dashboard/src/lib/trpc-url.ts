/**
 * The tRPC endpoint on this origin: whatever precedes `/admin` in the page's path, plus `/trpc`, so the
 * dashboard keeps working when a reverse proxy serves the app under a path prefix.
 */
export function trpcUrl(): string {
  const { origin, pathname } = window.location;
  const match = /\/admin(?:\/|$)/.exec(pathname);
  const prefix = match ? pathname.slice(0, match.index) : "";
  return `${origin}${prefix}/trpc`;
}
