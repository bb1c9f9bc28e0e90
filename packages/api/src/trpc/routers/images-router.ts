import {
  CodexImgError,
  enqueueImageJob,
  enqueueVisionJob,
  type ImageRequest,
  type ImageSize,
} from "@codex-img/core";
import type { Caller } from "../../app-env.js";
import { assertScope } from "../../http/require-key.js";
import { fullJobView } from "../../services/job-views.js";
import { referenceFromString } from "../../services/reference-input.js";
import { submitImageJob, submitVisionJob } from "../../services/submit-image-job.js";
import type { ApiServices } from "../../services.js";
import { imageRequestInput, visionRequestInput } from "../schemas.js";
import { adminOrKeyProcedure, auditAdmin, type TrpcContext } from "../trpc.js";

export const imagesRouter = {
  /**
   * Queues a job and returns it at once; follow it with `jobs.events`. A key goes through its limits like
   * REST; an admin session is the dashboard's playground: no key and no key limits, or, with `asKeyId`, as
   * that key through its limits. Either way audited. The reply is the caller's job view (as REST gives);
   * the dashboard follows it with `jobs.events` and `jobs.detail`.
   */
  generate: adminOrKeyProcedure("generate")
    .input(imageRequestInput)
    .mutation(async ({ ctx, input }) => {
      const { idempotencyKey, size, references, asKeyId, ...rest } = input;
      const referenceImages = (references ?? []).map((ref, index) => ({
        bytes: referenceFromString(ref.dataUrl, index, "references"),
      }));
      const request: ImageRequest = {
        ...rest,
        ...(size === undefined ? {} : { size: size as ImageSize }),
        ...(referenceImages.length > 0 ? { referenceImages } : {}),
      };
      const options = idempotencyKey === undefined ? {} : { idempotencyKey };
      const caller = await sendingCaller(ctx, asKeyId);
      if (caller) {
        if (referenceImages.length > 0) assertScope(caller, "edit");
        const { job, created } = await submitImageJob(ctx.services, caller, request, options);
        if (!ctx.caller) await auditGenerate(ctx, job.id, job.request.n, caller.key.id);
        return { job: await fullJobView(ctx.services, job, 0), created };
      }
      const { job, created } = await enqueueImageJob(
        { queue: ctx.services.queue, images: ctx.services.images },
        request,
        options,
      );
      if (created) ctx.services.wakeWorkers();
      await auditGenerate(ctx, job.id, job.request.n);
      return { job: await fullJobView(ctx.services, job, 0), created };
    }),

  /**
   * Asks a question about 1 to 16 images (a `vision` job): the playground's "Ask about the images". Same
   * rules as `generate`: a key through its limits (scope `vision`), an admin session without or as a key.
   */
  ask: adminOrKeyProcedure("vision")
    .input(visionRequestInput)
    .mutation(async ({ ctx, input }) => {
      const request = {
        prompt: input.prompt,
        images: input.references.map((ref, index) => ({
          bytes: referenceFromString(ref.dataUrl, index, "references"),
        })),
      };
      const caller = await sendingCaller(ctx, input.asKeyId);
      if (caller) {
        const { job, created } = await submitVisionJob(ctx.services, caller, request);
        if (!ctx.caller)
          await auditAdmin(ctx, "image.ask", { type: "job", id: job.id }, { asKeyId: caller.key.id });
        return { job: await fullJobView(ctx.services, job, 0), created };
      }
      const { job, created } = await enqueueVisionJob(
        { queue: ctx.services.queue, images: ctx.services.images },
        request,
      );
      if (created) ctx.services.wakeWorkers();
      await auditAdmin(ctx, "image.ask", { type: "job", id: job.id }, {});
      return { job: await fullJobView(ctx.services, job, 0), created };
    }),
};

/**
 * Who a playground request runs as: a key's own session is that key (it may not send as another);
 * an admin session runs as `asKeyId` when given, else as no key (undefined).
 */
async function sendingCaller(ctx: TrpcContext, asKeyId: string | undefined): Promise<Caller | undefined> {
  if (ctx.caller && asKeyId !== undefined && asKeyId !== ctx.caller.key.id) {
    throw new CodexImgError("forbidden", "Only an admin session may send as another key.", {
      details: { param: "asKeyId", reason: "admin_only" },
    });
  }
  return ctx.caller ?? (asKeyId === undefined ? undefined : await actingKey(ctx.services, asKeyId));
}

/** The key an admin sends as: it must exist and be usable, exactly as if its raw key had been sent. */
async function actingKey(services: ApiServices, id: string): Promise<Caller> {
  const key = await services.keys.get(id);
  if (!key) throw new CodexImgError("not_found", "No such key.", { details: { param: "asKeyId" } });
  if (!key.enabled) {
    throw new CodexImgError("unauthorized", "The API key is disabled.", {
      details: { param: "asKeyId", reason: "disabled" },
    });
  }
  if (key.expiresAt !== null && key.expiresAt <= services.clock.now()) {
    throw new CodexImgError("unauthorized", "The API key has expired.", {
      details: { param: "asKeyId", reason: "expired" },
    });
  }
  return { key };
}

function auditGenerate(ctx: TrpcContext, jobId: string, n: number, asKeyId?: string): Promise<void> {
  return auditAdmin(
    ctx,
    "image.generate",
    { type: "job", id: jobId },
    { n, ...(asKeyId ? { asKeyId } : {}) },
  );
}
