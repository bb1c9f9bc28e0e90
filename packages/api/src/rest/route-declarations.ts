import { CodexImgError, ERROR_CODES } from "@codex-img/core";
import { type Hook, OpenAPIHono, type RouteConfig, type RouteHandler, z } from "@hono/zod-openapi";
import type { AppEnv } from "../app-env.js";

/**
 * What every route declaration shares: the route group type, the one error schema per family, the bearer
 * requirement, and the ways to describe bodies and replies. `/openapi.json` is generated from these
 * declarations (openapi-routes.ts), so a route and its document are written once, side by side.
 */

/**
 * Query, path and header inputs a route declares with zod are validated before the handler; a failure is
 * the same `invalid_request` naming the field as a handler's own check, rendered by the group's error
 * handler in that family's shape (ours, or OpenAI's).
 */
const invalidInput: Hook<unknown, AppEnv, string, undefined> = (result) => {
  if (result.success) return undefined;
  const issue = result.error.issues[0];
  const param = issue?.path.map(String).join(".") || result.target;
  throw new CodexImgError("invalid_request", issue?.message ?? `${param} is not valid.`, {
    details: { param },
  });
};

/**
 * A group of routes whose declarations end up in the document once the group is mounted on the app.
 * Errors of a group in our shape are rendered by the app's own handler (`createApi`): a group's
 * `onError` makes Hono wrap each of its routes and their middleware in one more compose per request, so
 * only the OpenAI-shaped groups set one.
 */
export function routeGroup(): OpenAPIHono<AppEnv> {
  return new OpenAPIHono<AppEnv>({ defaultHook: invalidInput });
}

/**
 * Mounts a declared route. Replies are documented, not typed against the declaration: handlers answer
 * streams, SSE and errors that the document describes in prose, and the reply schemas describe the public
 * shape rather than the views' TypeScript types.
 */
export function serve<R extends RouteConfig>(
  app: OpenAPIHono<AppEnv>,
  route: R,
  handler: (c: Parameters<RouteHandler<R, AppEnv>>[0]) => Response | Promise<Response>,
): void {
  for (const [type, media] of Object.entries(route.request?.body?.content ?? {})) {
    // A zod body schema makes `@hono/zod-openapi` read the whole body before the handler (see
    // `documentedBody`): refused when the app is built, not found in a memory profile.
    const schema = media && "schema" in media ? (media.schema as { safeParse?: unknown }) : undefined;
    if (typeof schema?.safeParse === "function") {
      throw new Error(`${route.method} ${route.path}: declare the ${type} body with documentedBody().`);
    }
  }
  app.openapi(route, handler as unknown as RouteHandler<R, AppEnv>);
}

/** Routes that need an API key say so with this; the scheme itself is declared once, in the document. */
export const BEARER: NonNullable<RouteConfig["security"]> = [{ bearer: [] }];

/** Our error body; one schema for every error reply of the predecessor, vision and job routes. */
const ErrorSchema = z
  .object({
    error: z.object({
      code: z.enum(ERROR_CODES),
      message: z.string(),
      retry_after_ms: z.number().int().optional(),
      param: z.string().optional(),
      reason: z.string().optional(),
    }),
    detail: z.string().openapi({ description: "The message again, for the predecessor's scripts." }),
  })
  .openapi("Error");

/** OpenAI's error body; one schema for every error reply of the OpenAI-compatible routes. */
const OpenAiErrorSchema = z
  .object({
    error: z.object({
      message: z.string(),
      type: z.string(),
      param: z.string().nullable(),
      code: z.enum(ERROR_CODES),
    }),
  })
  .openapi("OpenAiError");

type Responses = RouteConfig["responses"];

const errorReplies = (schema: z.ZodType, description: string, statuses: number[]): Responses =>
  Object.fromEntries(
    statuses.map((status) => [String(status), { description, content: { "application/json": { schema } } }]),
  );

/** Error replies of our routes, by status. */
export const nativeErrors = (...statuses: number[]): Responses =>
  errorReplies(ErrorSchema, "Error with a code", statuses);

/** Error replies of the OpenAI-compatible routes, by status. */
export const openAiErrors = (...statuses: number[]): Responses =>
  errorReplies(OpenAiErrorSchema, "OpenAI-shaped error", statuses);

/** A JSON reply. */
export const jsonReply = (
  description: string,
  schema: z.ZodType,
): { description: string; content: { "application/json": { schema: z.ZodType } } } => ({
  description,
  content: { "application/json": { schema } },
});

/** A reply that is JSON, or its events as SSE when the caller asked to stream. */
export const jsonOrEvents = (
  description: string,
  schema: z.ZodType,
): {
  description: string;
  content: { "application/json": { schema: z.ZodType }; "text/event-stream": { schema: z.ZodString } };
} => ({
  description,
  content: { "application/json": { schema }, "text/event-stream": { schema: z.string() } },
});

/** Error replies of the OpenAI-compatible routes that run a job. */
export const OPENAI_JOB_ERRORS: Responses = openAiErrors(400, 401, 403, 413, 429, 502, 503, 504);

/** A path parameter the handler reads as it is (any string; an unknown id is the handler's 404). */
export const pathParam = (
  name: string,
  description: string,
): { name: string; in: "path"; required: true; description: string; schema: { type: "string" } } => ({
  name,
  in: "path",
  required: true,
  description,
  schema: { type: "string" },
});

/** `Idempotency-Key`, checked by the handler that submits the job. */
export const IDEMPOTENCY_HEADER = {
  name: "Idempotency-Key",
  in: "header" as const,
  required: false,
  description: "1 to 255 visible ASCII characters; a repeat with the same key returns the first job.",
  schema: { type: "string" as const, maxLength: 255 },
};

/**
 * A request body described in the document but read by the handler itself: bodies are streamed through
 * the request door with a byte limit, one UTF-8 rule and errors of their family, and multipart edits are
 * parsed one part at a time. A zod schema here would make `@hono/zod-openapi` buffer and parse the body
 * a second time before the handler, so the schema (the same one the handler validates with) is
 * registered as a component of `app` and the body refers to it.
 */
export function documentedBody(
  app: OpenAPIHono<AppEnv>,
  content: Record<string, { name: string; schema: z.ZodType }>,
): NonNullable<NonNullable<RouteConfig["request"]>["body"]> {
  return {
    required: true,
    content: Object.fromEntries(
      Object.entries(content).map(([mediaType, { name, schema }]) => {
        app.openAPIRegistry.register(name, schema);
        return [mediaType, { schema: { $ref: `#/components/schemas/${name}` } }];
      }),
    ),
  };
}
