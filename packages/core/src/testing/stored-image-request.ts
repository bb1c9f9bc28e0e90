import type { StoredImageRequest } from "../queue/job.js";

/** A stored request with the defaults a job gets (one 1024x1024 PNG, no references), for store and queue tests. */
export function storedImageRequest(overrides: Partial<StoredImageRequest> = {}): StoredImageRequest {
  return {
    prompt: "a lighthouse at dusk",
    size: "1024x1024",
    quality: "auto",
    background: "auto",
    outputFormat: "png",
    n: 1,
    model: "gpt-image-2",
    referenceImages: [],
    ...overrides,
  };
}
