import { CodexImgError } from "@codex-img/core";
import { type AdminSession, type ConsumeInput, minuteWindow } from "@codex-img/db";
import type { ApiServices } from "../services.js";

/** The admin session cookie; its value is the session token (only its SHA-256 is stored). */
export const ADMIN_SESSION_COOKIE = "codex_img_session";
/** Mutations carry the session's CSRF token in this header; a cross-site form cannot set it. */
export const CSRF_HEADER = "x-csrf-token";

/** Failed logins per client address within `LOGIN_IP_WINDOW_MS` before logins from it are refused. */
export const LOGIN_FAILURES_PER_IP = 5;
export const LOGIN_IP_WINDOW_MS = 15 * 60_000;
/** Failed logins from everywhere per minute: bounds guessing spread over many addresses. */
export const LOGIN_FAILURES_PER_MINUTE = 20;

/** Who sent a request, for throttling and the audit log. */
export interface RequestInfo {
  /** `direct` when the address is unknown (no trusted proxy in front). */
  ip: string;
  userAgent?: string;
  /** Whether the browser reached us over https (decides the cookie's `Secure`). */
  secure: boolean;
}

/**
 * What the server adapter (apps/server `serveHttp`) hands the app next to the `Request`, as Hono's
 * bindings (`app.fetch(request, env)`, read as `c.env`): a `Request` cannot carry the socket. The peer
 * address is a function because only sign-in and the audit log need it; asking the runtime for it on
 * every request costs measurable CPU.
 */
export interface ServerBindings {
  /** The connecting socket's address, when the runtime knows it. */
  peerAddress?: () => string | undefined;
}

export function requestInfo(services: ApiServices, request: Request, server?: ServerBindings): RequestInfo {
  const { trustProxy = false, secureCookies } = services.options;
  const headers = request.headers;
  // The last X-Forwarded-For entry is the one our own proxy appended; earlier ones are the client's word.
  const forwarded = trustProxy ? headers.get("x-forwarded-for")?.split(",").at(-1)?.trim() : undefined;
  const forwardedProto = trustProxy ? headers.get("x-forwarded-proto")?.split(",")[0]?.trim() : undefined;
  const https = forwardedProto ? forwardedProto === "https" : new URL(request.url).protocol === "https:";
  const userAgent = headers.get("user-agent")?.slice(0, 300);
  return {
    ip: forwarded?.slice(0, 100) || server?.peerAddress?.()?.slice(0, 100) || "direct",
    ...(userAgent ? { userAgent } : {}),
    secure: secureCookies ?? https,
  };
}

/**
 * The CSRF token as a cookie the dashboard's script can read (double submit): the page sends it back in
 * `x-csrf-token`, which a cross-site form cannot do, and the server checks it against the session's hash.
 * It lets a reloaded page or a second tab make changes without signing in again.
 */
export const CSRF_COOKIE = "codex_img_csrf";

/** `Set-Cookie` for the readable CSRF cookie (or, with `maxAgeSeconds` 0, one that clears it). */
export function csrfCookie(token: string, options: { secure: boolean; maxAgeSeconds?: number }): string {
  const parts = [`${CSRF_COOKIE}=${token}`, "Path=/", "SameSite=Strict"];
  if (options.maxAgeSeconds !== undefined) parts.push(`Max-Age=${options.maxAgeSeconds}`);
  if (options.secure) parts.push("Secure");
  return parts.join("; ");
}

/** One cookie's value from a `Cookie` header. */
export function readCookie(headers: Headers, name: string): string | undefined {
  for (const part of (headers.get("cookie") ?? "").split(";")) {
    const eq = part.indexOf("=");
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/** `Set-Cookie` for a new session (or, with `maxAgeSeconds` 0, one that clears it). */
export function sessionCookie(token: string, options: { secure: boolean; maxAgeSeconds?: number }): string {
  const parts = [`${ADMIN_SESSION_COOKIE}=${token}`, "Path=/", "HttpOnly", "SameSite=Strict"];
  if (options.maxAgeSeconds !== undefined) parts.push(`Max-Age=${options.maxAgeSeconds}`);
  if (options.secure) parts.push("Secure");
  return parts.join("; ");
}

/** The live admin session of the request's cookie, if any. */
export async function sessionFromRequest(
  services: ApiServices,
  headers: Headers,
): Promise<{ session: AdminSession; token: string } | undefined> {
  const token = readCookie(headers, ADMIN_SESSION_COOKIE);
  if (!token) return undefined;
  const session = await services.sessions.verify(token);
  return session ? { session, token } : undefined;
}

/** Refuses a state-changing admin request whose CSRF header is missing or not the session's. */
export async function assertCsrf(
  services: ApiServices,
  session: AdminSession,
  headers: Headers,
): Promise<void> {
  const token = headers.get(CSRF_HEADER);
  if (!token || !(await services.sessions.checkCsrf(session, token))) {
    throw new CodexImgError("forbidden", `This request needs the session's CSRF token in ${CSRF_HEADER}.`, {
      details: { reason: "csrf" },
    });
  }
}

export interface AdminLoginResult {
  session: AdminSession;
  /** For the cookie only; never returned in a body. */
  token: string;
  csrfToken: string;
}

/**
 * Checks the admin password and opens a session. Each attempt first takes a slot of the per-address and
 * global failure budgets in `services.counters` (exact under concurrency and across instances); a correct
 * password gives its slot back, so only failures use them up.
 */
export async function adminLogin(
  services: ApiServices,
  password: string,
  info: RequestInfo,
): Promise<AdminLoginResult> {
  const audit = (action: string, details?: Record<string, unknown>): Promise<unknown> =>
    services.audit.record({
      actor: "admin",
      action,
      targetType: "session",
      ip: info.ip,
      ...(info.userAgent ? { userAgent: info.userAgent } : {}),
      ...(details ? { details } : {}),
    });
  const configured = services.options.adminPassword;
  if (!configured) {
    await audit("auth.login_failed", { reason: "disabled" });
    throw new CodexImgError(
      "forbidden",
      "Admin login is disabled: no admin password is configured (set ADMIN_PASSWORD).",
      { details: { reason: "admin_login_disabled" } },
    );
  }
  const budgets = loginBudgets(info.ip, services.clock.now());
  const taken = await services.counters.tryConsumeAll(budgets.map((budget) => budget.input));
  if (!taken.ok) {
    const refused = budgets.find((budget) => budget.input.scope === taken.failed.scope) ?? budgets[0];
    const retryAfterMs = Math.max(1_000, (refused?.endsAt ?? 0) - services.clock.now());
    await audit("auth.login_throttled", { scope: refused?.kind });
    throw new CodexImgError("rate_limited", "Too many failed logins; try again later.", {
      retryAfterMs,
      details: { reason: "login_throttled" },
    });
  }
  if (!(await passwordMatches(password, configured))) {
    await audit("auth.login_failed", { reason: "wrong_password" });
    throw new CodexImgError("unauthorized", "Wrong password.", { details: { reason: "wrong_password" } });
  }
  await Promise.all(
    budgets.map(({ input }) =>
      services.counters.release({ scope: input.scope, window: input.window, amount: 1 }),
    ),
  );
  const created = await services.sessions.create({
    ip: info.ip,
    ...(info.userAgent ? { userAgent: info.userAgent } : {}),
  });
  await services.audit.record({
    actor: "admin",
    action: "auth.login",
    targetType: "session",
    targetId: created.session.id.slice(0, 12),
    ip: info.ip,
    ...(info.userAgent ? { userAgent: info.userAgent } : {}),
  });
  return created;
}

function loginBudgets(
  ip: string,
  now: number,
): Array<{ kind: "ip" | "global"; input: ConsumeInput; endsAt: number }> {
  const ipIndex = Math.floor(now / LOGIN_IP_WINDOW_MS);
  const ipEndsAt = (ipIndex + 1) * LOGIN_IP_WINDOW_MS;
  const minute = minuteWindow(now);
  return [
    {
      kind: "ip",
      endsAt: ipEndsAt,
      input: {
        scope: `admin-login:ip:${ip}`,
        window: `15min:${ipIndex}`,
        amount: 1,
        limit: LOGIN_FAILURES_PER_IP,
        expiresAt: ipEndsAt + 5 * 60_000,
      },
    },
    {
      kind: "global",
      endsAt: minute.endsAt,
      input: {
        scope: "admin-login:all",
        window: minute.window,
        amount: 1,
        limit: LOGIN_FAILURES_PER_MINUTE,
        expiresAt: minute.expiresAt,
      },
    },
  ];
}

/** Compares digests so the time taken says nothing about where the strings differ or how long they are. */
async function passwordMatches(given: string, expected: string): Promise<boolean> {
  const encoder = new TextEncoder();
  const [a, b] = await Promise.all([
    crypto.subtle.digest("SHA-256", encoder.encode(given)),
    crypto.subtle.digest("SHA-256", encoder.encode(expected)),
  ]);
  const x = new Uint8Array(a);
  const y = new Uint8Array(b);
  let diff = 0;
  for (let i = 0; i < x.length; i++) diff |= (x[i] ?? 0) ^ (y[i] ?? 0);
  return diff === 0;
}
