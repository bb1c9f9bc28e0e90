/** The readable cookie the server sets next to the HttpOnly session cookie at login. */
export const CSRF_COOKIE = "codex_img_csrf";
export const CSRF_HEADER = "x-csrf-token";

/** From the last login in this tab: used only when the cookie cannot be read. */
let loginToken: string | undefined;

export function rememberCsrfToken(token: string | undefined): void {
  loginToken = token;
}

/**
 * Read at request time rather than cached: after a reload, or a login in another tab, the cookie holds the
 * token of the live session.
 */
export function readCsrfToken(): string | undefined {
  if (typeof document !== "undefined") {
    for (const part of document.cookie.split(";")) {
      const eq = part.indexOf("=");
      if (eq > 0 && part.slice(0, eq).trim() === CSRF_COOKIE) {
        const value = decodeURIComponent(part.slice(eq + 1).trim());
        if (value) return value;
      }
    }
  }
  return loginToken;
}
