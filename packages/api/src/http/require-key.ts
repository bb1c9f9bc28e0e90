import { CodexImgError } from "@codex-img/core";
import type { ApiKeyRecord, KeyScope } from "@codex-img/db";
import type { Context, MiddlewareHandler } from "hono";
import type { AppEnv, Caller } from "../app-env.js";
import type { ApiServices } from "../services.js";

/**
 * Authenticates the bearer key and checks one scope, then sets `caller`. Refusals are thrown as
 * `CodexImgError` so that each route family renders them in its own shape (ours or OpenAI's).
 */
export function requireKey(services: ApiServices, scope: KeyScope): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const caller = await authenticate(services, c);
    assertScope(caller, scope);
    c.set("caller", caller);
    await next();
  };
}

/**
 * Authenticates without a scope, for routes where the scope depends on the body (references need `edit`)
 * or on the resource (a key may always read its own jobs). Pair with `assertScope`.
 */
export function requireCaller(services: ApiServices): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    c.set("caller", await authenticate(services, c));
    await next();
  };
}

/** The verified key of the request's `Authorization: Bearer cimg_…` header. */
export async function authenticate(services: ApiServices, c: Context): Promise<Caller> {
  const header = c.req.header("authorization");
  if (!header?.trim()) {
    throw new CodexImgError("unauthorized", "An API key is required (Authorization: Bearer cimg_…).", {
      details: { reason: "missing_key" },
    });
  }
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header.trim());
  if (!match?.[1]) {
    throw new CodexImgError("unauthorized", "The Authorization header must be `Bearer cimg_…`.", {
      details: { reason: "malformed" },
    });
  }
  const key = await services.keys.verify(match[1]);
  // Last-used is bookkeeping: a failed write must not refuse an otherwise valid request.
  services.keys.touch(key.id, services.clock.now()).catch((error: unknown) => {
    services.logger.warn("key touch failed", { keyId: key.id, error });
  });
  return { key };
}

export function hasScope(key: ApiKeyRecord, scope: KeyScope): boolean {
  return key.scopes.includes(scope) || key.scopes.includes("admin");
}

/** `forbidden` with `details.reason = "missing_scope"` unless the key has `scope` (or `admin`). */
export function assertScope(caller: Caller, scope: KeyScope): void {
  if (hasScope(caller.key, scope)) return;
  throw new CodexImgError("forbidden", `This API key lacks the "${scope}" scope.`, {
    details: { reason: "missing_scope", scope },
  });
}
