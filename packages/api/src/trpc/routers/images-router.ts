import { enqueueImageJob, type ImageRequest, type ImageSize } from "@codex-img/core";
import { fullJobView } from "../../services/job-views.js";
import { submitImageJob } from "../../services/submit-image-job.js";
import { imageRequestInput } from "../schemas.js";
import { adminOrKeyProcedure, auditAdmin } from "../trpc.js";

export const imagesRouter = {
  /**
   * Queues a job and returns it at once; follow it with `jobs.events`. A key goes through its limits like
   * REST; an admin session is the dashboard's playground: no key, no key limits, audited.
   */
  generate: adminOrKeyProcedure("generate")
    .input(imageRequestInput)
    .mutation(async ({ ctx, input }) => {
      const { idempotencyKey, size, ...rest } = input;
      const request: ImageRequest = { ...rest, ...(size === undefined ? {} : { size: size as ImageSize }) };
      const options = idempotencyKey === undefined ? {} : { idempotencyKey };
      if (ctx.caller) {
        const { job, created } = await submitImageJob(ctx.services, ctx.caller, request, options);
        return { job: await fullJobView(ctx.services, job, 0), created };
      }
      const { job, created } = await enqueueImageJob(
        { queue: ctx.services.queue, images: ctx.services.images },
        request,
        options,
      );
      if (created) ctx.services.wakeWorkers();
      await auditAdmin(ctx, "image.generate", { type: "job", id: job.id }, { n: job.request.n });
      return { job: await fullJobView(ctx.services, job, 0), created };
    }),
};
