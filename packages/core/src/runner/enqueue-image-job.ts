import { CodexImgError } from "../errors.js";
import { sha256Hex } from "../image/sha256-hex.js";
import { verifyImage } from "../image/verify-image.js";
import type { StoredImageRequest, StoredReferenceImage } from "../queue/job.js";
import type { EnqueueOptions, EnqueueResult, JobQueue } from "../queue/job-queue.js";
import { type NormalizedImageRequest, normalizeImageRequest, normalizeVisionRequest } from "../request.js";
import type { ImageStore } from "../storage/image-store.js";
import type { ImageRequest, VisionRequest } from "../types.js";

type EnqueueDeps = { queue: JobQueue; images: ImageStore };

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
  return storeAndEnqueue(deps, normalizeImageRequest(request), { ...options, kind: "image" });
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
  const fields = normalizeImageRequest({ prompt: vision.prompt });
  return storeAndEnqueue(
    deps,
    { ...fields, referenceImages: vision.images, model: vision.model ?? "" },
    { ...options, kind: "vision" },
  );
}

async function storeAndEnqueue(
  deps: EnqueueDeps,
  normalized: NormalizedImageRequest,
  options: EnqueueOptions,
): Promise<EnqueueResult> {
  // Every reference fully checked (checksums, complete image data) before anything is stored, counted or
  // charged: upstream would only fail the job later, after the key paid for it.
  const param = options.kind === "vision" ? "images" : "image";
  for (const [index, ref] of normalized.referenceImages.entries()) {
    try {
      await verifyImage(ref.bytes);
    } catch (error) {
      throw new CodexImgError(
        "invalid_request",
        `${param === "images" ? "image" : "reference image"} ${index + 1} ${(error as Error).message}`,
        { details: { param, reason: "invalid_image" } },
      );
    }
  }
  const stored: StoredReferenceImage[] = [];
  try {
    for (const ref of normalized.referenceImages) {
      const object = await deps.images.put(ref.bytes, { format: ref.format, prefix: "ref" });
      stored.push({
        key: object.key,
        sha256: await sha256Hex(ref.bytes),
        format: ref.format,
        width: ref.width,
        height: ref.height,
        bytes: object.bytes,
      });
    }
    const { referenceImages: _bytes, ...fields } = normalized;
    const jobRequest: StoredImageRequest = { ...fields, referenceImages: stored };
    const result = await deps.queue.enqueue(jobRequest, options);
    if (!result.created) await deleteAll(deps.images, stored);
    return result;
  } catch (error) {
    await deleteAll(deps.images, stored);
    throw error;
  }
}

async function deleteAll(images: ImageStore, refs: StoredReferenceImage[]): Promise<void> {
  await Promise.all(refs.map((ref) => images.delete(ref.key).catch(() => false)));
}
