/**
 * The page a signed-out visitor asked for, so signing in leads back to it. Kept in sessionStorage (this
 * tab only) rather than `?next=`, so the sign-in page's address stays plain `/admin/login/`.
 */
const KEY = "codex-img:return-path";

export function rememberReturnPath(path: string | null): void {
  try {
    if (path && path !== "/") sessionStorage.setItem(KEY, path);
    else sessionStorage.removeItem(KEY);
  } catch {
    // Storage may be disabled; signing in then simply lands on the overview.
  }
}

/** The remembered path (once), or the overview. Only paths of this app: never `//elsewhere`. */
export function takeReturnPath(): string {
  try {
    const path = sessionStorage.getItem(KEY);
    sessionStorage.removeItem(KEY);
    if (path?.startsWith("/") && !path.startsWith("//")) return path;
  } catch {
    // See above.
  }
  return "/";
}
