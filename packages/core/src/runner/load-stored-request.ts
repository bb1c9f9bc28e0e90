import { CodexImgError } from "../errors.js";
import type { StoredImageRequest } from "../queue/job.js";
import type { ImageStore } from "../storage/image-store.js";
import type { ImageRequest } from "../types.js";

/**
 * A job's stored request with its reference images read back from the image store: what a worker runs,
 * and what "run again" submits. A reference that is gone (retention, deletion) is `invalid_request`.
 */
export async function loadStoredRequest(
  images: ImageStore,
  stored: StoredImageRequest,
): Promise<ImageRequest> {
  const { referenceImages, ...fields } = stored;
  const refs = await Promise.all(
    referenceImages.map(async (ref) => {
      const bytes = await images.get(ref.key);
      if (!bytes) {
        throw new CodexImgError("invalid_request", "A reference image of this job is no longer stored.", {
          retryable: false,
          details: { param: "image" },
        });
      }
      return { bytes, format: ref.format };
    }),
  );
  return { ...fields, referenceImages: refs };
}
