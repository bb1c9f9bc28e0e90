import { enqueueImageJob, type ImageRequest, type Job, normalizeImageRequest } from "@codex-img/core";
import { withBusyRetry } from "@codex-img/db";
import type { Caller } from "../app-env.js";
import type { ApiServices } from "../services.js";
import { admitConcurrentJob, type ConsumedCounts, consumeKeyCounters } from "./key-limits.js";

export interface SubmitOptions {
  /** Scoped per key: the same key and body return the same job, and are not counted again. */
  idempotencyKey?: string;
  /** Aborting it cancels the job (a caller that stays connected for the result and leaves). */
  signal?: AbortSignal;
  priority?: number;
}

/**
 * The one door every job-creating endpoint goes through: validate, apply the key's limits, enqueue.
 *
 * What counts: one request per call against requests per minute, and the `n` images *asked for* against
 * images per day and per month, taken when the job is admitted. Counts are given back when no job comes
 * of the request (invalid input, `queue_full`, a refused concurrency slot, an idempotent repeat). Once a job
 * exists its images stay counted even if it fails or is canceled: the quota bounds what a key may ask for,
 * the work upstream was usually already attempted, and a cancel-and-retry loop must not make it unlimited.
 * Max concurrent jobs is not a count: it reads the key's queued and running jobs (see `admitConcurrentJob`),
 * so a job frees its slot by ending, in whatever process it ends.
 */
export async function submitImageJob(
  services: ApiServices,
  caller: Caller,
  request: ImageRequest,
  options: SubmitOptions = {},
): Promise<{ job: Job; created: boolean }> {
  const { key } = caller;
  // Invalid input is refused before anything is counted.
  const normalized = normalizeImageRequest(request);
  const enqueueOptions = {
    keyId: key.id,
    ...(options.idempotencyKey === undefined ? {} : { idempotencyKey: options.idempotencyKey }),
    ...(options.signal === undefined ? {} : { signal: options.signal }),
    ...(options.priority === undefined ? {} : { priority: options.priority }),
  };
  const deps = { queue: services.queue, images: services.images };

  if (
    options.idempotencyKey !== undefined &&
    (await idempotencyKeyUsed(services, key.id, options.idempotencyKey))
  ) {
    // A repeat returns its job (or `invalid_request` for another body) without counting again, even when
    // the key is at a limit now: the caller is asking for what it already has.
    return enqueueImageJob(deps, request, enqueueOptions);
  }

  const taken: ConsumedCounts[] = [];
  const giveBack = async (): Promise<void> => {
    await Promise.all(
      taken.map((counts) =>
        counts
          .release()
          .catch((error: unknown) => services.logger.warn("usage release failed", { keyId: key.id, error })),
      ),
    );
  };
  let admission: ConsumedCounts | undefined;
  try {
    taken.push(await consumeKeyCounters(services, key, normalized.n));
    admission = await admitConcurrentJob(services, key);
    const result = await enqueueImageJob(deps, request, enqueueOptions);
    // Two concurrent first uses of one idempotency key: the loser gets the winner's job, uncounted.
    if (!result.created) await giveBack();
    if (result.created) services.wakeWorkers();
    return result;
  } catch (error) {
    await giveBack();
    throw error;
  } finally {
    // The admission only bridges the time until the job row exists (or will not exist).
    await admission
      ?.release()
      .catch((error: unknown) => services.logger.warn("admission release failed", { keyId: key.id, error }));
  }
}

async function idempotencyKeyUsed(
  services: ApiServices,
  keyId: string,
  idempotencyKey: string,
): Promise<boolean> {
  const result = await withBusyRetry(() =>
    services.database.client.execute({
      sql: "SELECT 1 FROM jobs WHERE key_id = ? AND idempotency_key = ? LIMIT 1",
      args: [keyId, idempotencyKey],
    }),
  );
  return result.rows.length > 0;
}
