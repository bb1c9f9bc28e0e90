import type { StoredImageRequest, StoredReferenceImage } from "../queue/job.js";
import type { EnqueueOptions, EnqueueResult, JobQueue } from "../queue/job-queue.js";
import { normalizeImageRequest } from "../request.js";
import type { ImageStore } from "../storage/image-store.js";
import type { ImageRequest } from "../types.js";
import { sha256Hex } from "./sha256-hex.js";

/**
 * Validates a request at the door, keeps its reference images in the image store (a queued job must
 * survive a restart, so it holds keys, not bytes) and enqueues it. Whatever does not end up owned by a
 * job is deleted again: a refused request (`queue_full`, a conflicting idempotency key) or an idempotent
 * repeat leaves no orphan files.
 */
export async function enqueueImageJob(
  deps: { queue: JobQueue; images: ImageStore },
  request: ImageRequest,
  options: EnqueueOptions = {},
): Promise<EnqueueResult> {
  const normalized = normalizeImageRequest(request);
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
