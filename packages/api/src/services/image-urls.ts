import type { Job, StoredImageRef } from "@codex-img/core";
import type { ApiServices } from "../services.js";

/** A generated image's public URL and when it stops working (retention counts from the job's end). */
export function imageUrl(
  services: ApiServices,
  image: StoredImageRef,
  job: Job,
): { url: string; expires_at: string } {
  return {
    url: generatedUrl(services, image.key),
    expires_at: new Date(jobExpiresAt(services, job)).toISOString(),
  };
}

/** Epoch ms when the job's images expire. */
export function jobExpiresAt(services: ApiServices, job: Job): number {
  return (job.finishedAt ?? job.createdAt) + services.options.imageRetentionMs;
}

export function generatedUrl(services: ApiServices, key: string): string {
  return `${services.options.publicBaseUrl}/generated/${encodeURIComponent(key)}`;
}

/** Where a job can be polled, for 202 replies and `Location`. */
export function jobPollUrl(services: ApiServices, jobId: string): string {
  return `${services.options.publicBaseUrl}/v1/images/jobs/${encodeURIComponent(jobId)}`;
}
