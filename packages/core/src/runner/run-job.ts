import type { AccountPool } from "../accounts/account-pool.js";
import type { Clock } from "../clock.js";
import { CodexImgError, isCodexImgError } from "../errors.js";
import type { Logger } from "../logger.js";
import type { ClaimedJob } from "../queue/claimed-job.js";
import type { Job, JobAttemptInfo, StoredImageRef } from "../queue/job.js";
import type { ImageStore } from "../storage/image-store.js";
import { storeImages } from "../storage/store-images.js";
import type {
  BackendEvent,
  GenerateOptions,
  ImageBackend,
  ImageRequest,
  StoredBackendResult,
  StoredGeneratedImage,
} from "../types.js";
import { accountsToAvoid, acquireAccount, onLease } from "./account-lease.js";
import type { ByteBudget } from "./byte-budget.js";
import { loadStoredRequest } from "./load-stored-request.js";
import type { RecentOutputs } from "./recent-outputs.js";

/** What running one job needs from its runner. */
export interface JobRunDeps {
  backend: ImageBackend;
  images: ImageStore;
  pool: AccountPool | undefined;
  clock: Clock;
  logger: Logger;
  accountWaitMs: number;
  recentOutputs: RecentOutputs;
  referenceBudget: ByteBudget;
}

/**
 * Runs one claimed job to its end: its references read back, one backend call per image (each on its own
 * account lease when there is a pool), the images stored, the outcome recorded. A failed attempt ends
 * through `ClaimedJob.fail`; whatever it stored is deleted.
 */
export async function runJob(
  deps: JobRunDeps,
  claimed: ClaimedJob,
  stopSignal: AbortSignal,
): Promise<Job | undefined> {
  const { backend, images, pool, clock, logger, accountWaitMs, recentOutputs, referenceBudget } = deps;
  const job = claimed.job;
  const signal = AbortSignal.any([claimed.signal, stopSignal]);
  const progressChain = { last: Promise.resolve() as Promise<unknown> };
  const emit = (update: Parameters<ClaimedJob["progress"]>[0]): void => {
    progressChain.last = progressChain.last.then(() => claimed.progress(update)).catch(() => false);
  };
  const produced: StoredImageRef[] = [];
  const partials: string[] = [];
  const info: JobAttemptInfo & {
    upstreamIds: Record<string, string>;
    diagnostics: Record<string, string>;
  } = {
    backend: backend.kind,
    upstreamIds: {},
    diagnostics: {},
  };
  const accountsUsed: string[] = [];
  let releaseReferences = (): void => undefined;

  try {
    let request: ImageRequest;
    if (backend.generateInto && job.kind !== "vision") {
      // Streamed from the store into the upstream body by the backend: nothing to load, nothing held.
      const { referenceImages, ...fields } = job.request;
      request = { ...fields, storedReferences: referenceImages };
    } else {
      releaseReferences = await referenceBudget.acquire(
        job.request.referenceImages.reduce((sum, ref) => sum + ref.bytes, 0),
        signal,
      );
      request = await loadStoredRequest(images, job.request);
    }
    const exclude = accountsToAvoid(job);
    if (job.kind === "vision") {
      const text = await runVision(request, exclude, signal);
      await progressChain.last;
      info.account = accountsUsed.join(",") || undefined;
      return await claimed.succeed([], info, text);
    }
    // With a pool, every image is its own call on its own account; without one, one call makes all.
    const perCall = pool ? 1 : job.request.n;
    const siblings = new AbortController();
    const callSignal = AbortSignal.any([signal, siblings.signal]);
    const outcomes = await Promise.allSettled(
      Array.from({ length: callCount() }, (_, slot) =>
        runCall(slot, { ...request, n: perCall }, exclude, callSignal).catch((error: unknown) => {
          siblings.abort(error); // one failure ends the job's attempt: stop spending quota on the rest
          throw error;
        }),
      ),
    );
    await progressChain.last;
    const failure = outcomes.find((o): o is PromiseRejectedResult => o.status === "rejected");
    if (failure) throw firstCause(outcomes, failure.reason);
    info.account = accountsUsed.join(",") || undefined;
    const finished = await claimed.succeed(produced, info);
    if (!finished) await deleteKeys(produced.map((image) => image.key)); // lease lost: drop the result
    return finished;
  } catch (error) {
    await progressChain.last;
    await deleteKeys(produced.map((image) => image.key));
    const cause = stopSignal.aborted ? stopSignal.reason : error;
    info.account = accountsUsed.join(",") || undefined;
    return claimed.fail(cause, info);
  } finally {
    releaseReferences();
    await deleteKeys(partials);
  }

  async function runCall(
    slot: number,
    request: ImageRequest,
    exclude: string[],
    callSignal: AbortSignal,
  ): Promise<void> {
    const { lease, label } = await leaseAccount(exclude, callSignal);
    const result = await onLease(lease, callSignal, async () => {
      const callOptions = {
        ...(lease ? { account: lease.account } : {}),
        signal: callSignal,
        onEvent: (event: BackendEvent) => onBackendEvent(event, slot, label),
      };
      // Written into the store as the bytes arrive where the backend can; else stored from its bytes.
      const generated = backend.generateInto
        ? await backend.generateInto(request, images, callOptions)
        : await generateAndStore(request, callOptions);
      // The demo backend draws the same placeholder for the same request on purpose (run again, tests).
      if (!generated.demo) {
        try {
          rejectStaleOutputs(generated.images);
        } catch (error) {
          await deleteKeys(generated.images.map((image) => image.stored.key));
          throw error;
        }
      }
      return generated;
    });
    info.route = result.route;
    // With several calls, each call's ids and diagnostics are told apart by its slot.
    const tag = (name: string): string => (callCount() > 1 ? `${name}#${slot + 1}` : name);
    for (const [name, value] of Object.entries(result.upstreamIds)) info.upstreamIds[tag(name)] = value;
    for (const [name, value] of Object.entries(result.diagnostics ?? {})) info.diagnostics[tag(name)] = value;
    for (const [index, image] of result.images.entries()) {
      const reported = {
        ...result.delivered,
        ...(index === 0 && result.usage ? { usage: result.usage } : {}),
      };
      produced.push({
        key: image.stored.key,
        format: image.format,
        width: image.width,
        height: image.height,
        bytes: image.stored.bytes,
        ...(image.revisedPrompt === undefined ? {} : { revisedPrompt: image.revisedPrompt }),
        ...(image.partial ? { partial: true } : {}),
        ...(Object.keys(reported).length > 0 ? { reported } : {}),
      });
    }
  }

  /**
   * An account for one call (none without a pool), remembered for the attempt; the attempt is recorded
   * with the first account the job's calls take.
   */
  async function leaseAccount(exclude: string[], callSignal: AbortSignal) {
    const lease = pool ? await acquireAccount(pool, exclude, callSignal, clock, accountWaitMs) : undefined;
    const label = lease?.account.label;
    if (label) {
      accountsUsed.push(label);
      if (accountsUsed.length === 1) await claimed.recordAttempt({ account: label, backend: backend.kind });
    }
    return { lease, label };
  }

  /** A vision job: one call on one account lease, answered with text (the references are the images). */
  async function runVision(
    request: ImageRequest,
    exclude: string[],
    callSignal: AbortSignal,
  ): Promise<string> {
    const describe = backend.describe?.bind(backend);
    if (!describe) {
      throw new CodexImgError(
        "backend_unavailable",
        `The ${backend.kind} backend cannot answer questions about images.`,
        { retryable: false },
      );
    }
    const { lease, label } = await leaseAccount(exclude, callSignal);
    const result = await onLease(lease, callSignal, () =>
      describe(
        {
          prompt: request.prompt,
          images: request.referenceImages ?? [],
          ...(request.model ? { model: request.model } : {}),
        },
        {
          ...(lease ? { account: lease.account } : {}),
          signal: callSignal,
          onEvent: (event) => onBackendEvent(event, 0, label),
        },
      ),
    );
    info.route = result.route;
    Object.assign(info.upstreamIds, result.upstreamIds);
    Object.assign(info.diagnostics, result.diagnostics ?? {});
    return result.text;
  }

  function callCount(): number {
    return pool ? job.request.n : 1;
  }

  function onBackendEvent(event: BackendEvent, slot: number, label: string | undefined): void {
    if (event.type === "progress") {
      emit({ type: "progress", stage: event.stage, ...(event.message ? { message: event.message } : {}) });
    } else if (event.type === "quota" && label && pool) {
      pool.updateQuota(label, event.snapshot);
    } else if (event.type === "partial_image") {
      const { image } = event;
      void images
        .put(image.bytes, { format: image.format, prefix: "img" })
        .then((object) => {
          partials.push(object.key);
          emit({
            type: "partial_image",
            index: slot * 100 + event.index,
            image: {
              key: object.key,
              format: image.format,
              width: image.width,
              height: image.height,
              bytes: object.bytes,
            },
          });
        })
        .catch((error: unknown) =>
          logger.warn("runner: could not keep a partial image", { jobId: job.id, error }),
        );
    }
  }

  async function generateAndStore(
    request: ImageRequest,
    callOptions: GenerateOptions,
  ): Promise<StoredBackendResult> {
    const result = await backend.generate(request, callOptions);
    return { ...result, images: await storeImages(images, result.images) };
  }

  /** The store digested each image while writing it: an image another job produced is stale. */
  function rejectStaleOutputs(outputs: StoredGeneratedImage[]): void {
    for (const { stored } of outputs) {
      if (recentOutputs.ownerOtherThan(stored.digest, job.id)) {
        throw new CodexImgError(
          "upstream_failed",
          "The backend returned an earlier job's image again (stale result).",
          {
            retryable: true,
            details: { stale: true, accountFault: true },
          },
        );
      }
    }
    for (const { stored } of outputs) recentOutputs.remember(stored.digest, job.id);
  }

  async function deleteKeys(keys: string[]): Promise<void> {
    await Promise.all(keys.map((key) => images.delete(key).catch(() => false)));
  }
}

/** The error that ended the attempt: the first real failure, not the `canceled` of aborted siblings. */
function firstCause(outcomes: PromiseSettledResult<unknown>[], fallback: unknown): unknown {
  for (const outcome of outcomes) {
    if (outcome.status === "rejected" && !isCodexImgError(outcome.reason, "canceled")) return outcome.reason;
  }
  return fallback;
}
