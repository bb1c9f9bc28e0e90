import type { ApiHarness } from "@codex-img/api/testing";
import { createCaller, createTrpcContext } from "../../src/trpc/index.js";

export const ADMIN_PASSWORD = "correct horse battery staple";

export type AppCaller = ReturnType<typeof createCaller>;

/**
 * A `createCaller` for a request with the given headers, as the HTTP handler would build it. `signal` is
 * the request's: aborting it ends a subscription as a closed connection would.
 */
export async function callerFor(
  h: ApiHarness,
  headers: Record<string, string> = {},
  signal?: AbortSignal,
): Promise<AppCaller> {
  const request = new Request("http://127.0.0.1/trpc", { headers: { "user-agent": "vitest", ...headers } });
  return createCaller(await createTrpcContext(h.services, request), signal ? { signal } : {});
}

/** Logs in through `auth.login` and returns a caller that sends the session cookie and CSRF header. */
export async function adminCaller(
  h: ApiHarness,
  signal?: AbortSignal,
): Promise<{ caller: AppCaller; cookie: string; csrfToken: string }> {
  const resHeaders = new Headers();
  const request = new Request("http://127.0.0.1/trpc", { headers: { "user-agent": "vitest" } });
  const login = createCaller(await createTrpcContext(h.services, request, resHeaders));
  const { csrfToken } = await login.auth.login({ password: ADMIN_PASSWORD });
  const cookie = (resHeaders.get("set-cookie") ?? "").split(";")[0] ?? "";
  const caller = await callerFor(h, { cookie, "x-csrf-token": csrfToken }, signal);
  return { caller, cookie, csrfToken };
}
