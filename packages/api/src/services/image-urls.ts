import { CodexImgError, type Job, type StoredImageRef } from "@codex-img/core";
import { withBusyRetry } from "@codex-img/db";
import type { ApiServices } from "../services.js";
import { createUrlSigner, type UrlSigner } from "./signed-urls.js";

/** One signer per secret: importing the HMAC key costs more than a signature, and URLs are made per request. */
const signers = new Map<string, UrlSigner>();
function signerFor(secret: string): UrlSigner {
  let signer = signers.get(secret);
  if (!signer) {
    signer = createUrlSigner(secret);
    signers.set(secret, signer);
  }
  return signer;
}

/** A generated image's URL and when it stops working (retention counts from the job's end). */
export async function imageUrl(
  services: ApiServices,
  image: StoredImageRef,
  job: Job,
): Promise<{ url: string; expires_at: string }> {
  const expiresAt = jobExpiresAt(services, job);
  return {
    url: await generatedUrl(services, image.key, expiresAt),
    expires_at: new Date(expiresAt).toISOString(),
  };
}

/** Epoch ms when the job's images expire. */
export function jobExpiresAt(services: ApiServices, job: Job): number {
  return (job.finishedAt ?? job.createdAt) + services.options.imageRetentionMs;
}

/**
 * `/generated/{key}`, plus `?expires=&sig=` when signed URLs are on: then the key alone is no longer a
 * capability, and a URL that leaks stops working at the image's expiry.
 */
export async function generatedUrl(services: ApiServices, key: string, expiresAtMs: number): Promise<string> {
  const base = `${services.options.publicBaseUrl}/generated/${encodeURIComponent(key)}`;
  const secret = signingSecret(services);
  if (secret === undefined) return base;
  const expires = Math.floor(expiresAtMs / 1000);
  const sig = await signerFor(secret).sign(key, expires);
  return `${base}?expires=${expires}&sig=${sig}`;
}

/** Where a job can be polled, for 202 replies and `Location`. */
export function jobPollUrl(services: ApiServices, jobId: string): string {
  return `${services.options.publicBaseUrl}/v1/images/jobs/${encodeURIComponent(jobId)}`;
}

/** The signing secret when signed URLs are on; a missing secret is refused by `createApi`. */
export function signingSecret(services: ApiServices): string | undefined {
  return services.options.signedUrls ? services.options.urlSigningSecret : undefined;
}

/**
 * Throws unless `/generated/{key}` may be served now: a valid signature when signed URLs are on, and a job
 * that still holds the image and has not passed its expiry (the retention sweep may run hours later).
 * Returns the epoch ms at which the image expires, to bound caching.
 */
export async function assertImageServable(
  services: ApiServices,
  key: string,
  query: { expires?: string | undefined; sig?: string | undefined },
): Promise<number> {
  const now = services.clock.now();
  const secret = signingSecret(services);
  if (secret !== undefined) {
    const expires = /^\d{1,12}$/.test(query.expires ?? "") ? Number(query.expires) : undefined;
    const valid =
      expires !== undefined &&
      query.sig !== undefined &&
      (await signerFor(secret).verify(key, expires, query.sig));
    if (!valid) {
      throw new CodexImgError("forbidden", "This image URL is not signed or its signature is invalid.", {
        details: { reason: "invalid_signature" },
      });
    }
    if (expires * 1000 <= now) throw gone();
  }
  const result = await withBusyRetry(() =>
    services.database.client.execute({
      sql: `SELECT j.state, j.created_at, j.finished_at, j.expires_at FROM image_keys k
            JOIN jobs j ON j.id = k.job_id WHERE k.key = ?`,
      args: [key],
    }),
  );
  const row = result.rows[0];
  if (!row) throw new CodexImgError("not_found", "No such image.");
  const stored = row.expires_at === null ? undefined : Number(row.expires_at);
  const expiresAt = stored ?? Number(row.finished_at ?? row.created_at) + services.options.imageRetentionMs;
  if (row.state === "expired" || expiresAt <= now) throw gone();
  return expiresAt;
}

function gone(): CodexImgError {
  return new CodexImgError("not_found", "This image has expired.", { details: { reason: "expired" } });
}
