import { CodexImgError, isTerminalJobEvent } from "@codex-img/core";
import { queryHistory, withBusyRetry } from "@codex-img/db";
import { createRoute, type OpenAPIHono, z } from "@hono/zod-openapi";
import { streamSSE } from "hono/streaming";
import type { AppEnv } from "../app-env.js";
import { requireCaller } from "../http/require-key.js";
import { jobJsonReplies } from "../services/job-json-replies.js";
import { cancelableJob, eventView, fullJobView, visibleJob } from "../services/job-views.js";
import type { ApiServices } from "../services.js";
import { JobListSchema, JobSchema, JobStateSchema } from "./job-schemas.js";
import { KEEPALIVE_MS } from "./openai-stream.js";
import { BEARER, jsonReply, nativeErrors, pathParam, routeGroup, serve } from "./route-declarations.js";

const LIMIT_MESSAGE = "limit must be a whole number from 1 to 100.";

const listQuery = z.object({
  limit: z.coerce
    .number({ message: LIMIT_MESSAGE })
    .int({ message: LIMIT_MESSAGE })
    .min(1, { message: LIMIT_MESSAGE })
    .max(100, { message: LIMIT_MESSAGE })
    .default(20),
  cursor: z.string().optional().openapi({ description: "`next_cursor` of the previous page." }),
  status: z
    .enum(JobStateSchema.options, { message: `status must be one of ${JobStateSchema.options.join(", ")}.` })
    .optional()
    .openapi({ description: "Only jobs in this state." }),
});

const jobId = pathParam("id", "Job id");

/** The caller's own jobs: list, get, cancel, and a resumable event stream. */
export function jobRoutes(services: ApiServices): OpenAPIHono<AppEnv> {
  const app = routeGroup();
  const auth = requireCaller(services);

  const list = createRoute({
    method: "get",
    path: "/v1/jobs",
    operationId: "listJobs",
    summary: "List own jobs, newest first",
    tags: ["jobs"],
    security: BEARER,
    middleware: [auth] as const,
    request: { query: listQuery },
    responses: { 200: jsonReply("A page", JobListSchema), ...nativeErrors(400, 401) },
  });
  serve(app, list, async (c) => {
    const { limit, cursor, status } = c.req.valid("query");
    const page = await queryHistory(services.database, {
      keyId: c.get("caller").key.id,
      limit,
      ...(cursor ? { cursor } : {}),
      ...(status ? { state: status } : {}),
    });
    const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());
    return c.json({
      object: "list",
      data: page.items.map((item) => ({
        id: item.id,
        status: item.state,
        prompt: item.prompt,
        image_count: item.imageCount,
        attempt_count: item.attemptCount,
        error_code: item.errorCode,
        created_at: iso(item.createdAt),
        started_at: iso(item.startedAt),
        finished_at: iso(item.finishedAt),
        expires_at: iso(
          item.expiresAt ?? (item.finishedAt ?? item.createdAt) + services.options.imageRetentionMs,
        ),
      })),
      has_more: page.nextCursor !== undefined,
      next_cursor: page.nextCursor ?? null,
    });
  });

  // What the routes on one job share in their declaration, and their reply: the job in full.
  const byId = { tags: ["jobs"], security: BEARER, middleware: [auth], parameters: [jobId] };
  const jobReply = jobJsonReplies(async (job) =>
    fullJobView(services, job, await countEvents(services, job.id)),
  );

  const get = createRoute({
    method: "get",
    path: "/v1/jobs/{id}",
    operationId: "getJob",
    summary: "Get a job",
    ...byId,
    responses: { 200: jsonReply("The job", JobSchema), ...nativeErrors(401, 404) },
  });
  serve(app, get, async (c) => {
    return jobReply(c, await visibleJob(services, c.get("caller"), c.req.param("id")));
  });

  const cancel = createRoute({
    method: "post",
    path: "/v1/jobs/{id}/cancel",
    operationId: "cancelJob",
    summary: "Cancel a job",
    ...byId,
    responses: { 200: jsonReply("The job after the cancel", JobSchema), ...nativeErrors(401, 404) },
  });
  serve(app, cancel, async (c) => {
    const job = await cancelableJob(services, c.get("caller"), c.req.param("id"));
    return jobReply(c, await services.queue.cancel(job.id));
  });

  const events = createRoute({
    method: "get",
    path: "/v1/images/jobs/{id}/events",
    operationId: "streamJobEvents",
    summary: "Job events as SSE, resumable with Last-Event-ID",
    description:
      "Each event's `id` is its `seq`; `Last-Event-ID` (what browsers send on reconnect) wins over `after`.",
    tags: ["jobs"],
    security: BEARER,
    middleware: [auth] as const,
    // Read by `resumePoint`: which of the two counts depends on both, so they are checked together there.
    parameters: [
      jobId,
      { name: "Last-Event-ID", in: "header", required: false, schema: { type: "string", pattern: "^\\d+$" } },
      { name: "after", in: "query", required: false, schema: { type: "integer", minimum: 0 } },
    ],
    responses: {
      200: {
        description: "Event stream: `event` is the job event type, `data` its JSON",
        content: { "text/event-stream": { schema: z.string() } },
      },
      ...nativeErrors(400, 401, 404),
    },
  });
  serve(app, events, async (c) => {
    const job = await visibleJob(services, c.get("caller"), c.req.param("id"));
    const afterSeq = resumePoint(c.req.header("last-event-id"), c.req.query("after"));
    c.header("Cache-Control", "no-cache");
    c.header("X-Accel-Buffering", "no");
    return streamSSE(
      c,
      async (stream) => {
        const stop = new AbortController();
        stream.onAbort(() => stop.abort());
        // Real timers on purpose: a keep-alive concerns the socket, not the job's clock.
        const heartbeat = setInterval(() => {
          stream.write(": keep-alive\n\n").catch(() => stop.abort());
        }, KEEPALIVE_MS);
        try {
          for await (const event of services.queue.subscribe(job.id, { afterSeq, signal: stop.signal })) {
            await stream.writeSSE({
              id: String(event.seq),
              event: event.type,
              data: JSON.stringify(await eventView(services, job, event)),
            });
            if (isTerminalJobEvent(event)) break;
          }
        } finally {
          clearInterval(heartbeat);
          stop.abort();
        }
      },
      async (error, stream) => {
        services.logger.warn("job event stream failed", {
          jobId: job.id,
          requestId: c.get("requestId"),
          error,
        });
        const code = error instanceof CodexImgError ? error.code : "internal";
        await stream.writeSSE({
          event: "error",
          data: JSON.stringify({ error: { code, message: "The event stream failed." } }),
        });
      },
    );
  });

  return app;
}

/** `Last-Event-ID` (what browsers send on reconnect) wins over `?after=`; both are a `seq`. */
function resumePoint(lastEventId: string | undefined, after: string | undefined): number {
  const raw = lastEventId?.trim() || after;
  if (raw === undefined || raw === "") return 0;
  const seq = Number(raw);
  if (!Number.isSafeInteger(seq) || seq < 0) {
    throw invalid(
      lastEventId?.trim() ? "Last-Event-ID" : "after",
      "The resume point must be an event id (a whole number).",
    );
  }
  return seq;
}

async function countEvents(services: ApiServices, jobId: string): Promise<number> {
  const result = await withBusyRetry(() =>
    services.database.client.execute({
      sql: "SELECT count(*) AS n FROM job_events WHERE job_id = ?",
      args: [jobId],
    }),
  );
  return Number(result.rows[0]?.n ?? 0);
}

function invalid(param: string, message: string): CodexImgError {
  return new CodexImgError("invalid_request", message, { details: { param } });
}
