import type { ImageStore, StoredObject } from "@codex-img/core";
import type { Database } from "./create-db.js";
import { createLibsqlSession, type LibsqlSession } from "./libsql-session.js";

/**
 * How old a file must be before the sweep may call it an orphan. A file is written before the row that
 * names it: a request stages its reference images as they arrive and enqueues its job only once the whole
 * body is in, and the runner stores images before it records them. The longest such gap is the slowest
 * body the server accepts: 64 MiB at the lowest allowed `minBodyRateKibPerSecond` (1 KiB/s) takes about
 * 18 hours. A day is past that for every configuration, and an orphan only costs disk until then.
 * Queued jobs that wait longer are safe whatever their age: their `ref_` keys are in their row.
 */
export const ORPHAN_GRACE_MS = 24 * 3_600_000;

export interface SweepOrphanFilesResult {
  /** Files deleted because no job refers to them. */
  files: number;
  /** Their size. */
  bytes: number;
}

/**
 * Deletes stored files older than `graceMs` that no job refers to: what a crash between storing and
 * recording left behind (staged references of a request that never became a job, images of an attempt
 * that died), files a delete failed on, a partial image of an expired job, files newer than a restored
 * database. A job refers to its generated and partial images (`image_keys`, kept by triggers) and to
 * its reference images (`request.referenceImages`) until it expires: expiry deletes both, so an expired
 * job's keys count as unreferenced and whatever expiry missed goes here.
 *
 * Walks the store once and checks candidates in batches, one query per batch and kind, so memory holds
 * at most two batches of keys whatever the size of the folder or the database.
 */
export async function sweepOrphanFiles(
  database: Database,
  images: ImageStore,
  options: { now: number; graceMs?: number; batch?: number },
): Promise<SweepOrphanFilesResult> {
  const session = createLibsqlSession(database);
  // A database without a single job next to a folder of images is a wrong or fresh `DATABASE_URL`, not
  // a folder of orphans: deleting would wipe the images of the real database.
  const anyJob = await session.read((client) => client.execute("SELECT 1 FROM jobs LIMIT 1"));
  if (anyJob.rows.length === 0) return { files: 0, bytes: 0 };
  const cutoff = options.now - (options.graceMs ?? ORPHAN_GRACE_MS);
  const batch = options.batch ?? 500;
  const result: SweepOrphanFilesResult = { files: 0, bytes: 0 };
  const pending: Record<"img" | "ref", StoredObject[]> = { img: [], ref: [] };
  const flush = async (prefix: "img" | "ref"): Promise<void> => {
    const candidates = pending[prefix];
    pending[prefix] = [];
    if (candidates.length === 0) return;
    const referenced = await referencedKeys(session, prefix, candidates);
    for (const object of candidates) {
      if (referenced.has(object.key)) continue;
      if (await images.delete(object.key).catch(() => false)) {
        result.files++;
        result.bytes += object.bytes;
      }
    }
  };
  for await (const object of images.list()) {
    if (object.storedAt >= cutoff) continue;
    const prefix = object.key.startsWith("ref_") ? "ref" : "img";
    pending[prefix].push(object);
    if (pending[prefix].length >= batch) await flush(prefix);
  }
  await flush("img");
  await flush("ref");
  return result;
}

// Generated and partial images: a primary-key lookup per candidate in `image_keys`.
const REFERENCED_IMAGES = `SELECT k.key FROM image_keys k JOIN jobs j ON j.id = k.job_id
  WHERE k.key IN (SELECT value FROM json_each(?)) AND j.state <> 'expired'`;

// Reference images live only in the job's request JSON; reading the jobs that still hold files (the
// index on state skips the expired history) once per batch of candidates, never once per file.
const REFERENCED_REFERENCES = `SELECT json_extract(r.value, '$.key') AS key
  FROM jobs j, json_each(j.request, '$.referenceImages') r
  WHERE j.state IN ('queued', 'running', 'succeeded', 'failed', 'canceled')
    AND json_extract(r.value, '$.key') IN (SELECT value FROM json_each(?))`;

async function referencedKeys(
  session: LibsqlSession,
  prefix: "img" | "ref",
  candidates: StoredObject[],
): Promise<Set<string>> {
  const keys = JSON.stringify(candidates.map((object) => object.key));
  const rows = await session.read((client) =>
    client.execute({ sql: prefix === "img" ? REFERENCED_IMAGES : REFERENCED_REFERENCES, args: [keys] }),
  );
  return new Set(rows.rows.map((row) => String(row.key)));
}
