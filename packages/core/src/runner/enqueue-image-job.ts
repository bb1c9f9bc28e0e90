import { CodexImgError } from "../errors.js";
import type { StoredImageRequest } from "../queue/job.js";
import type { EnqueueOptions, EnqueueResult, JobQueue } from "../queue/job-queue.js";
import {
  type NormalizedImageRequest,
  normalizeImageRequest,
  normalizeVisionRequest,
  REQUEST_LIMITS,
  VISION_LIMITS,
} from "../request.js";
import type { ImageStore } from "../storage/image-store.js";
import type { ImageRequest, VisionRequest } from "../types.js";
import { StagedReferences } from "./staged-references.js";

type EnqueueDeps = { queue: JobQueue; images: ImageStore };
type RequestFields = Omit<NormalizedImageRequest, "referenceImages">;

/**
 * Validates a request at the door, keeps its reference images in the image store (a queued job must
 * survive a restart, so it holds keys, not bytes) and enqueues it. Whatever does not end up owned by a
 * job is deleted again: a refused request (`queue_full`, a conflicting idempotency key) or an idempotent
 * repeat leaves no orphan files.
 */
export async function enqueueImageJob(
  deps: EnqueueDeps,
  request: ImageRequest,
  options: EnqueueOptions = {},
): Promise<EnqueueResult> {
  const { referenceImages, ...fields } = normalizeImageRequest(request);
  return enqueueWithStaged(deps, fields, await stageAll(deps.images, referenceImages), {
    ...options,
    kind: "image",
  });
}

/**
 * The same for a question about images (a `vision` job): the images are kept as the job's references,
 * the question as its prompt. Size, quality and the rest keep their defaults and mean nothing here; the
 * model is the text model asked for, or empty for the backend's own.
 */
export async function enqueueVisionJob(
  deps: EnqueueDeps,
  request: VisionRequest,
  options: Omit<EnqueueOptions, "kind"> = {},
): Promise<EnqueueResult> {
  const vision = normalizeVisionRequest(request);
  const { referenceImages: _none, ...fields } = normalizeImageRequest({ prompt: vision.prompt });
  return enqueueWithStaged(
    deps,
    { ...fields, model: vision.model ?? "" },
    await stageAll(deps.images, vision.images),
    { ...options, kind: "vision" },
  );
}

/**
 * `enqueueImageJob` for references the request side has already staged in the image store as they
 * arrived (`StagedReferences`): the same checks in the same order, the same errors. The staged files are
 * the job's once it is created; otherwise (a refusal, an idempotent repeat) they are deleted here.
 */
export async function enqueueStagedImageJob(
  deps: EnqueueDeps,
  request: Omit<ImageRequest, "referenceImages">,
  staged: StagedReferences,
  options: EnqueueOptions = {},
): Promise<EnqueueResult> {
  try {
    const { referenceImages: _none, ...fields } = normalizeImageRequest(request);
    if (staged.count > REQUEST_LIMITS.maxReferenceImages) {
      throw invalid("image", `at most ${REQUEST_LIMITS.maxReferenceImages} reference images are allowed`);
    }
    return await enqueueWithStaged(deps, fields, staged, { ...options, kind: "image" });
  } finally {
    await staged.discard();
  }
}

/** `enqueueVisionJob` for staged images: 1 to 16, checked in the order `normalizeVisionRequest` checks. */
export async function enqueueStagedVisionJob(
  deps: EnqueueDeps,
  request: Omit<VisionRequest, "images">,
  staged: StagedReferences,
  options: Omit<EnqueueOptions, "kind"> = {},
): Promise<EnqueueResult> {
  try {
    if (staged.count < VISION_LIMITS.minImages || staged.count > VISION_LIMITS.maxImages) {
      throw new CodexImgError(
        "invalid_request",
        `Vision takes ${VISION_LIMITS.minImages} to ${VISION_LIMITS.maxImages} images; ${staged.count} were given.`,
        { details: { param: "images", count: staged.count } },
      );
    }
    const { referenceImages: _none, ...fields } = normalizeImageRequest({ prompt: request.prompt });
    const model = request.model?.trim() ?? "";
    return await enqueueWithStaged(deps, { ...fields, model }, staged, { ...options, kind: "vision" });
  } finally {
    await staged.discard();
  }
}

async function stageAll(
  images: ImageStore,
  references: NormalizedImageRequest["referenceImages"],
): Promise<StagedReferences> {
  const staged = new StagedReferences(images);
  try {
    for (const ref of references) await staged.add(ref.bytes);
  } catch (error) {
    await staged.discard();
    throw error;
  }
  return staged;
}

async function enqueueWithStaged(
  deps: EnqueueDeps,
  fields: RequestFields,
  staged: StagedReferences,
  options: EnqueueOptions,
): Promise<EnqueueResult> {
  try {
    if (staged.unreadable) throw invalid("image", staged.unreadable.message);
    // Every reference fully checked (checksums, complete image data) before anything is counted or
    // charged: upstream would only fail the job later, after the key paid for it.
    if (staged.damaged) {
      const vision = options.kind === "vision";
      throw new CodexImgError(
        "invalid_request",
        `${vision ? "image" : "reference image"} ${staged.damaged.index + 1} ${staged.damaged.message}`,
        { details: { param: vision ? "images" : "image", reason: "invalid_image" } },
      );
    }
    const jobRequest: StoredImageRequest = { ...fields, referenceImages: staged.stored };
    const result = await deps.queue.enqueue(jobRequest, options);
    if (result.created) staged.takenByJob();
    return result;
  } finally {
    await staged.discard();
  }
}

function invalid(param: string, message: string): CodexImgError {
  return new CodexImgError("invalid_request", message, { details: { param } });
}
