import { index, integer, sqliteTable, text } from "drizzle-orm/sqlite-core";

/**
 * Which job each generated image key belongs to, so `GET /generated/{key}` can check the job's expiry
 * with one primary-key read instead of searching every job's `images` JSON. Filled by triggers on
 * `jobs` and `job_events` (hand-written migration `0002_image_keys`), so every writer of
 * jobs (queue, legacy import) keeps it in step without knowing about it. Rows outlive expiry (the job's
 * state says the image is gone) and go with the job when it is deleted.
 */
export const imageKeys = sqliteTable(
  "image_keys",
  {
    key: text("key").primaryKey(),
    jobId: text("job_id").notNull(),
    /** Copied from the job, so per-key image counts need no join. */
    keyName: text("key_name"),
    /** 1 for a partial (streamed preview) image, 0 for a final one. */
    partial: integer("partial", { mode: "boolean" }).notNull().default(false),
  },
  (t) => [index("image_keys_job").on(t.jobId)],
);
