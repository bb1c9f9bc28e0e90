import type { ImageStore, StoredImageRef, StoredImageRequest } from "@codex-img/core";
import type { Database } from "./create-db.js";
import { finishedJobCache } from "./finished-job-cache.js";
import { createLibsqlSession } from "./libsql-session.js";

export interface ExpireJobsResult {
  /** Jobs marked `expired`. */
  expired: number;
  /** Image and reference files deleted. */
  deletedFiles: number;
  /** Their size, as recorded when they were stored. */
  freedBytes: number;
}

/**
 * Retention: finished jobs older than `before` lose their files and become `expired`; the row stays as
 * history. Works in batches so a large backlog never holds the write lock for long. Rows go first, then
 * files (a leftover file is an orphan `sweepOrphanFiles` removes in the same retention pass; a row pointing
 * at a deleted file would be a lie).
 */
export async function expireJobs(
  database: Database,
  images: ImageStore,
  options: { before: number; now: number; batch?: number },
): Promise<ExpireJobsResult> {
  const session = createLibsqlSession(database);
  const batch = options.batch ?? 500;
  const result: ExpireJobsResult = { expired: 0, deletedFiles: 0, freedBytes: 0 };
  for (;;) {
    // Select and mark in one write transaction: nothing can finish or change these rows in between.
    const rows = await session.write(async (tx) => {
      const found = await tx.execute({
        sql: `SELECT seq, images, request FROM jobs
              WHERE state IN ('succeeded', 'failed', 'canceled') AND finished_at < ? ORDER BY finished_at LIMIT ?`,
        args: [options.before, batch],
      });
      if (found.rows.length === 0) return found.rows;
      await tx.execute({
        sql: `UPDATE jobs SET state = 'expired', images = '[]', image_count = 0, updated_at = ?
              WHERE seq IN (${found.rows.map(() => "?").join(", ")})`,
        args: [options.now, ...found.rows.map((row) => Number(row.seq))],
      });
      return found.rows;
    });
    if (rows.length === 0) return result;
    finishedJobCache(database.client).clear();
    result.expired += rows.length;
    const files = rows.flatMap(
      (row): Array<{ key: string; bytes: number }> => [
        ...(JSON.parse(String(row.images ?? "[]")) as StoredImageRef[]),
        ...((JSON.parse(String(row.request ?? "{}")) as Partial<StoredImageRequest>).referenceImages ?? []),
      ],
    );
    for (const file of files) {
      if (await images.delete(file.key).catch(() => false)) {
        result.deletedFiles++;
        result.freedBytes += file.bytes;
      }
    }
    if (rows.length < batch) return result;
  }
}
