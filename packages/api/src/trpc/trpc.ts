import { CodexImgError, isCodexImgError } from "@codex-img/core";
import type { AdminSession, KeyScope } from "@codex-img/db";
import { initTRPC } from "@trpc/server";
import type { Context as HonoContext } from "hono";
import type { Caller } from "../app-env.js";
import {
  assertCsrf,
  type RequestInfo,
  requestInfo,
  type ServerBindings,
  sessionFromRequest,
} from "../http/admin-session.js";
import { assertScope, authenticate } from "../http/require-key.js";
import type { ApiServices } from "../services.js";
import { errorData, toTrpcError } from "./error-codes.js";

export interface TrpcContext {
  services: ApiServices;
  /** The request's headers: the bearer key, the CSRF header and the cookie are read from them. */
  headers: Headers;
  info: RequestInfo;
  /** Headers of the reply (`Set-Cookie`, `Retry-After`). */
  resHeaders: Headers;
  /** The live admin session of the cookie, resolved once per HTTP request (a batch shares it). */
  admin?: { session: AdminSession; token: string };
  caller?: Caller;
}

/** The context of one HTTP request (or of a `createCaller` call built from a `Request`). */
export async function createTrpcContext(
  services: ApiServices,
  request: Request,
  resHeaders: Headers = new Headers(),
  server?: ServerBindings,
): Promise<TrpcContext> {
  const admin = await sessionFromRequest(services, request.headers);
  return {
    services,
    headers: request.headers,
    info: requestInfo(services, request, server),
    resHeaders,
    ...(admin ? { admin } : {}),
  };
}

const t = initTRPC.context<TrpcContext>().create({
  // Stacks and messages of unexpected errors stay on the server whatever NODE_ENV says.
  isDev: false,
  errorFormatter({ shape, error }) {
    const { data, message } = errorData(error);
    return { ...shape, message, data: { ...shape.data, ...data, stack: undefined } };
  },
  sse: {
    ping: { enabled: true, intervalMs: 15_000 },
    client: { reconnectAfterInactivityMs: 40_000 },
  },
});

export const router = t.router;
export const createCallerFactory = t.createCallerFactory;

/**
 * Our errors become tRPC errors with the mapped code (and so the HTTP status), `Retry-After` included;
 * anything else is logged here because the formatter hides it from the caller.
 */
const errorBoundary = t.middleware(async ({ ctx, next, path }) => {
  const result = await next();
  if (result.ok) return result;
  const cause = result.error.cause;
  if (isCodexImgError(cause)) {
    if (cause.retryAfterMs !== undefined) {
      ctx.resHeaders.set("Retry-After", String(Math.max(1, Math.ceil(cause.retryAfterMs / 1000))));
    }
    if (cause.code === "internal") ctx.services.logger.error("trpc procedure failed", { path, error: cause });
    return { ...result, error: toTrpcError(cause) };
  }
  if (result.error.code === "INTERNAL_SERVER_ERROR") {
    ctx.services.logger.error("trpc procedure failed", { path, error: result.error.cause ?? result.error });
  }
  return result;
});

export const publicProcedure = t.procedure.use(errorBoundary);

/** Verifies `Authorization: Bearer cimg_…` exactly as REST does. */
async function callerOf(ctx: TrpcContext): Promise<Caller> {
  // `authenticate` reads only the authorization header; this keeps one implementation of key refusals.
  const shim = { req: { header: (name: string) => ctx.headers.get(name) ?? undefined } };
  return authenticate(ctx.services, shim as unknown as HonoContext);
}

export function keyProcedure(scope: KeyScope) {
  return publicProcedure.use(async ({ ctx, next }) => {
    const caller = await callerOf(ctx);
    assertScope(caller, scope);
    return next({ ctx: { caller } });
  });
}

/** A valid admin session; mutations must also carry its CSRF token (a cookie alone is not enough). */
async function requireAdmin(
  ctx: TrpcContext,
  type: string,
): Promise<{ session: AdminSession; token: string }> {
  if (!ctx.admin) {
    throw new CodexImgError("unauthorized", "Admin login required.", { details: { reason: "no_session" } });
  }
  if (type === "mutation") await assertCsrf(ctx.services, ctx.admin.session, ctx.headers);
  return ctx.admin;
}

export const adminProcedure = publicProcedure.use(async ({ ctx, type, next }) => {
  const admin = await requireAdmin(ctx, type);
  return next({ ctx: { admin } });
});

/** An admin session, or else a key (with `scope` when given); the playground and scripts share one procedure. */
export function adminOrKeyProcedure(scope?: KeyScope) {
  return publicProcedure.use(async ({ ctx, type, next }) => {
    let admin: TrpcContext["admin"];
    let caller: Caller | undefined;
    if (ctx.admin || !ctx.headers.get("authorization")) {
      admin = await requireAdmin(ctx, type);
    } else {
      caller = await callerOf(ctx);
      if (scope) assertScope(caller, scope);
    }
    return next({ ctx: { admin, caller } });
  });
}

/** Records an admin action with the request's address and user agent. */
export async function auditAdmin(
  ctx: TrpcContext,
  action: string,
  target: { type: string; id?: string },
  details?: Record<string, unknown>,
): Promise<void> {
  await ctx.services.audit.record({
    actor: "admin",
    action,
    targetType: target.type,
    ...(target.id === undefined ? {} : { targetId: target.id }),
    ...(details ? { details } : {}),
    ip: ctx.info.ip,
    ...(ctx.info.userAgent ? { userAgent: ctx.info.userAgent } : {}),
  });
}
