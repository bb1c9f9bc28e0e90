import {
  type EnqueueOptions,
  enqueueImageJob,
  enqueueStagedImageJob,
  enqueueStagedVisionJob,
  enqueueVisionJob,
  type ImageRequest,
  type Job,
  type JobEcho,
  StagedReferences,
  type VisionRequest,
} from "@codex-img/core";
import type { Caller } from "../app-env.js";
import type { ApiServices } from "../services.js";
import { keyAdmission } from "./key-limits.js";

export interface SubmitOptions {
  /** Scoped per key: the same key and body return the same job, and are not counted again. */
  idempotencyKey?: string;
  /**
   * The request's signal: when it aborts (the client is gone before the reply is written) the job is
   * canceled and its counts given back, unless `idempotencyKey` is set: then the job runs on, counted,
   * so a retry with the same key gets its result.
   */
  signal?: AbortSignal;
  priority?: number;
  /**
   * References already in the image store (`stageReferences`, or staged part by part as an upload
   * arrived): the request then carries none of its own. The job takes them, or they are deleted.
   */
  staged?: StagedReferences;
  /** Kept with the job (`Job.echo`): what the route answers back about it beyond the image request. */
  echo?: JobEcho;
}

/**
 * Decoded references into the image store, one at a time, each dropped from `references` once it is
 * stored: the request side then holds keys, and the body's reservation can go back (`bodyHandedOff`).
 * Deleted again if storing one fails.
 */
export async function stageReferences(
  services: ApiServices,
  references: Uint8Array[],
): Promise<StagedReferences> {
  const staged = new StagedReferences(services.images);
  try {
    for (let next = references.shift(); next; next = references.shift()) await staged.add(next);
  } catch (error) {
    await staged.discard();
    throw error;
  }
  return staged;
}

/**
 * The one door every job-creating endpoint goes through: validate, then enqueue with the key's limits
 * checked and counted inside the job's insert (`keyAdmission`).
 *
 * What counts: one request per call against requests per minute, and the `n` images *asked for* against
 * images per day and per month, taken only when the job is created, in the same transaction: a refused
 * request (invalid input, `queue_full`, a limit), an idempotent repeat, or a crash before the insert
 * commits leaves nothing counted. Max concurrent jobs is not a count: it reads the key's queued and
 * running jobs in that transaction, so a job frees its slot by ending, in whatever process it ends.
 */
export async function submitImageJob(
  services: ApiServices,
  caller: Caller,
  request: ImageRequest,
  options: SubmitOptions = {},
): Promise<{ job: Job; created: boolean }> {
  // `enqueueImageJob` refuses invalid input before anything is stored or counted.
  const deps = { queue: services.queue, images: services.images };
  const result = options.staged
    ? await enqueueStagedImageJob(deps, request, options.staged, enqueueOptions(services, caller, options))
    : await enqueueImageJob(deps, request, enqueueOptions(services, caller, options));
  if (result.created) services.wakeWorkers();
  return result;
}

/**
 * The same door for a question about images (a `vision` job): 1 to 16 images checked before anything is
 * stored; counted against requests per minute and vision per day and month, not against images.
 */
export async function submitVisionJob(
  services: ApiServices,
  caller: Caller,
  request: VisionRequest | Omit<VisionRequest, "images">,
  options: SubmitOptions = {},
): Promise<{ job: Job; created: boolean }> {
  const deps = { queue: services.queue, images: services.images };
  const result =
    "images" in request
      ? await enqueueVisionJob(deps, request, enqueueOptions(services, caller, options))
      : await enqueueStagedVisionJob(
          deps,
          request,
          options.staged ?? new StagedReferences(services.images),
          enqueueOptions(services, caller, options),
        );
  if (result.created) services.wakeWorkers();
  return result;
}

function enqueueOptions(services: ApiServices, caller: Caller, options: SubmitOptions): EnqueueOptions {
  const limits = keyAdmission(services, caller.key);
  const { idempotencyKey, signal } = options;
  return {
    keyId: caller.key.id,
    ...(idempotencyKey === undefined ? {} : { idempotencyKey }),
    // An idempotent request survives its client: the retry with the same key is how it gets the result.
    ...(signal === undefined || idempotencyKey !== undefined ? {} : { signal }),
    ...(options.priority === undefined ? {} : { priority: options.priority }),
    ...(options.echo === undefined ? {} : { echo: options.echo }),
    ...(limits ? { admit: limits.admit, release: limits.release } : {}),
  };
}
