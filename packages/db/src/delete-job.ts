import type { ImageStore, JobStore } from "@codex-img/core";

export interface DeleteJobWithFilesResult {
  /** False when the job was unknown (nothing was deleted). */
  deleted: boolean;
  /** Image and reference-image keys whose files were removed. */
  removedFiles: string[];
  /** Keys that could not be removed (already gone files are not listed); `sweepOrphanFiles` removes them. */
  failedFiles: string[];
}

/**
 * Deletes a job with everything that belongs to it: the row, its attempts and events (one store step),
 * then its generated images, partial images and reference images through the `ImageStore`. Rows go
 * first: a file without a row is an orphan `sweepOrphanFiles` removes, while a row pointing at missing
 * files would be history that lies.
 */
export async function deleteJobWithFiles(
  ports: { store: JobStore; images: ImageStore },
  jobId: string,
): Promise<DeleteJobWithFilesResult> {
  const { store, images } = ports;
  const job = await store.get(jobId);
  if (!job) return { deleted: false, removedFiles: [], failedFiles: [] };
  const keys = new Set<string>();
  for (const image of job.images) keys.add(image.key);
  for (const reference of job.request.referenceImages) keys.add(reference.key);
  for (const event of await store.readEvents(jobId)) {
    if (event.type === "partial_image") keys.add(event.image.key);
    if (event.type === "succeeded") for (const image of event.images) keys.add(image.key);
  }
  const deleted = await store.delete(jobId);
  if (!deleted) return { deleted: false, removedFiles: [], failedFiles: [] };
  const removedFiles: string[] = [];
  const failedFiles: string[] = [];
  await Promise.all(
    [...keys].map(async (key) => {
      try {
        if (await images.delete(key)) removedFiles.push(key);
      } catch {
        failedFiles.push(key);
      }
    }),
  );
  return { deleted: true, removedFiles, failedFiles };
}
