import {
  CodexImgError,
  enqueueImageJob,
  isCodexImgError,
  isTerminalJobEvent,
  isTerminalJobState,
  type Job,
  loadStoredRequest,
} from "@codex-img/core";
import { createLibsqlJobStore, deleteJobWithFiles, queryHistory } from "@codex-img/db";
import { tracked } from "@trpc/server";
import { z } from "zod";
import type { Caller } from "../../app-env.js";
import { adminJobView } from "../../services/admin-job-view.js";
import { cancelableJob, eventView, fullJobView, visibleJob } from "../../services/job-views.js";
import type { ApiServices } from "../../services.js";
import { toTrpcError } from "../error-codes.js";
import { jobId, jobListInput } from "../schemas.js";
import { adminOrKeyProcedure, adminProcedure, auditAdmin } from "../trpc.js";

/**
 * History and live progress. Admins see every job; a key sees what REST would show it, with the same
 * rights: any key lists, reads and follows its own jobs (a generate-only key polls what it created),
 * and `jobs:read` adds other keys' jobs to `get` (see `visibleJob`).
 */
export const jobsRouter = {
  list: adminOrKeyProcedure()
    .input(jobListInput)
    .query(async ({ ctx, input }) => {
      // A key lists its own jobs only, whatever filter it sends.
      const query = ctx.caller ? { ...input, keyId: ctx.caller.key.id } : input;
      const page = await queryHistory(ctx.services.database, query);
      return { items: page.items, nextCursor: page.nextCursor ?? null };
    }),

  get: adminOrKeyProcedure()
    .input(z.object({ id: jobId }))
    .query(async ({ ctx, input }) => {
      const job = await findJob(ctx.services, ctx.caller, input.id);
      const events = await createLibsqlJobStore(ctx.services.database).readEvents(job.id);
      return {
        job: await fullJobView(ctx.services, job, events.length),
        events: await Promise.all(events.map((event) => eventView(ctx.services, job, event))),
      };
    }),

  /** The owner's view of one job: accounts, attempts with upstream ids and diagnostics, every event. */
  detail: adminProcedure.input(z.object({ id: jobId })).query(async ({ ctx, input }) => {
    const job = await findJob(ctx.services, undefined, input.id);
    const [events, keyName] = await Promise.all([
      createLibsqlJobStore(ctx.services.database).readEvents(job.id),
      historyKeyName(ctx.services, job.id),
    ]);
    return {
      job: await adminJobView(ctx.services, job, keyName),
      events: await Promise.all(events.map((event) => eventView(ctx.services, job, event))),
    };
  }),

  /**
   * The same request again (reference images included, while they are still stored) as a new job of the
   * admin; the original stays as it was.
   */
  rerun: adminProcedure.input(z.object({ id: jobId })).mutation(async ({ ctx, input }) => {
    const original = await findJob(ctx.services, undefined, input.id);
    const request = await loadStoredRequest(ctx.services.images, original.request);
    const { job } = await enqueueImageJob(
      { queue: ctx.services.queue, images: ctx.services.images },
      request,
    );
    ctx.services.wakeWorkers();
    await auditAdmin(ctx, "job.rerun", { type: "job", id: job.id }, { from: original.id });
    return { job: await adminJobView(ctx.services, job) };
  }),

  cancel: adminOrKeyProcedure("generate")
    .input(z.object({ id: jobId }))
    .mutation(async ({ ctx, input }) => {
      const job = ctx.caller
        ? await cancelableJob(ctx.services, ctx.caller, input.id)
        : await findJob(ctx.services, undefined, input.id);
      const canceled = await ctx.services.queue.cancel(job.id);
      if (!ctx.caller) await auditAdmin(ctx, "job.cancel", { type: "job", id: job.id });
      return await fullJobView(ctx.services, canceled, 0);
    }),

  /** The row, its events and every file it made; running jobs must be canceled first. */
  delete: adminProcedure.input(z.object({ id: jobId })).mutation(async ({ ctx, input }) => {
    const job = await findJob(ctx.services, undefined, input.id);
    if (!isTerminalJobState(job.state)) {
      throw new CodexImgError("invalid_request", `The job is ${job.state}; cancel it first.`, {
        details: { param: "id", reason: "not_finished" },
      });
    }
    const result = await deleteJobWithFiles(
      { store: createLibsqlJobStore(ctx.services.database), images: ctx.services.images },
      job.id,
    );
    if (!result.deleted) throw new CodexImgError("not_found", "No such job.", { details: { param: "id" } });
    await auditAdmin(
      ctx,
      "job.delete",
      { type: "job", id: job.id },
      { removedFiles: result.removedFiles.length, failedFiles: result.failedFiles.length },
    );
    return { deleted: true as const, removedFiles: result.removedFiles.length };
  }),

  /**
   * Past events after `lastEventId`, then live ones until the job ends. Each is `tracked` by its `seq`, so a
   * client that reconnects sends the last id back and misses nothing.
   */
  events: adminOrKeyProcedure()
    .input(
      z.object({
        id: jobId,
        lastEventId: z
          .string()
          .regex(/^\d{1,15}$/)
          .nullish(),
      }),
    )
    .subscription(async function* ({ ctx, input, signal }) {
      try {
        const job = await findJob(ctx.services, ctx.caller, input.id);
        const afterSeq = input.lastEventId ? Number(input.lastEventId) : 0;
        const options = signal ? { afterSeq, signal } : { afterSeq };
        for await (const event of ctx.services.queue.subscribe(job.id, options)) {
          yield tracked(String(event.seq), await eventView(ctx.services, job, event));
          if (isTerminalJobEvent(event)) return;
        }
      } catch (error) {
        // Errors after the stream opened bypass the middleware; without the mapped code the client would
        // take them for a server fault and reconnect forever.
        throw isCodexImgError(error) ? toTrpcError(error) : error;
      }
    }),
};

/** The key name the history copied into the job (it outlives the key). */
async function historyKeyName(services: ApiServices, id: string): Promise<string | null> {
  const result = await services.database.client.execute({
    sql: "SELECT key_name FROM jobs WHERE id = ?",
    args: [id],
  });
  const name = result.rows[0]?.key_name;
  return typeof name === "string" ? name : null;
}

async function findJob(services: ApiServices, caller: Caller | undefined, id: string): Promise<Job> {
  if (caller) return visibleJob(services, caller, id);
  const job = await services.queue.get(id);
  if (!job) throw new CodexImgError("not_found", "No such job.", { details: { param: "id" } });
  return job;
}
