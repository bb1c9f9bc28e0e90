import type { Job, JobError } from "@codex-img/core";
import type { ApiServices } from "../services.js";
import type { AdminJobView, ErrorView } from "./admin-views.js";
import { imageUrl, jobExpiresAt } from "./image-urls.js";

/**
 * A job as the owner sees it in the dashboard: accounts, routes, upstream ids and diagnostics included
 * (a key's caller gets `fullJobView`, which leaves those out). `keyName` is the history's copy, so it
 * survives the key's deletion.
 */
export async function adminJobView(
  services: ApiServices,
  job: Job,
  keyName: string | null = null,
): Promise<AdminJobView> {
  const { request } = job;
  return {
    id: job.id,
    state: job.state,
    keyId: job.keyId ?? null,
    keyName,
    request: {
      prompt: request.prompt,
      size: request.size,
      quality: request.quality,
      background: request.background,
      outputFormat: request.outputFormat,
      n: request.n,
      model: request.model,
      referenceImages: request.referenceImages.length,
    },
    priority: job.priority,
    images: await Promise.all(
      job.images
        .filter((image) => !image.partial)
        .map(async (image) => ({
          url: (await imageUrl(services, image, job)).url,
          width: image.width,
          height: image.height,
          format: image.format,
          bytes: image.bytes,
          revisedPrompt: image.revisedPrompt ?? null,
        })),
    ),
    error: job.error ? adminErrorView(job.error) : null,
    attempts: job.attempts.map((attempt) => ({
      number: attempt.number,
      account: attempt.account ?? null,
      backend: attempt.backend ?? null,
      route: attempt.route ?? null,
      upstreamIds: attempt.upstreamIds,
      startedAt: attempt.startedAt,
      finishedAt: attempt.finishedAt ?? null,
      durationMs: attempt.durationMs ?? null,
      error: attempt.error ? adminErrorView(attempt.error) : null,
      diagnostics: attempt.diagnostics ?? {},
    })),
    maxAttempts: job.maxAttempts,
    progress: job.progress ? { stage: job.progress.stage, at: job.progress.at } : null,
    cancelRequested: job.cancelRequested ?? false,
    idempotencyKey: job.idempotencyKey ?? null,
    createdAt: job.createdAt,
    startedAt: job.startedAt ?? null,
    finishedAt: job.finishedAt ?? null,
    expiresAt: job.finishedAt === undefined ? null : jobExpiresAt(services, job),
  };
}

/** Job errors keep details the backends already redacted (exit code, stderr tail, upstream status). */
function adminErrorView(error: JobError): ErrorView {
  return {
    code: error.code,
    message: error.message,
    retryAfterMs: error.retryAfterMs ?? null,
    details: { ...(error.details ?? {}) },
  };
}
