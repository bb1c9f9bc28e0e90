import { readdir } from "node:fs/promises";
import { basename, join } from "node:path";
import type { ImageStore } from "@codex-img/core";
import { inArray } from "drizzle-orm";
import {
  buildLegacyJob,
  type LegacyAttemptRow,
  type LegacyJobCounters,
  type LegacyJobRow,
} from "./build-legacy-job.js";
import type { Database } from "./create-db.js";
import { importLegacyKeys, type LegacyKeyMap } from "./import-legacy-keys.js";
import { type LegacySource, openLegacySource, quoteIdentifier } from "./legacy-source.js";
import { legacyJobId } from "./legacy-values.js";
import { auditLog, jobAttempts, jobs } from "./schema/index.js";

export interface ImportLegacyOptions {
  /** The codex-img database (from `createDb`, so migrated). */
  database: Database;
  /** The predecessor's SQLite file. It is copied and the copy is read; the file itself is never opened. */
  legacyPath: string;
  /**
   * The predecessor's image folder (its `static/generated`). Images are looked up there by file name;
   * without it, imported jobs carry no images.
   */
  imagesDir?: string;
  /**
   * codex-img's image store. When given, each image found under `imagesDir` is copied into it under a new
   * key, so that `/generated/<key>` serves it; the predecessor's file names (`img_<hex>.png`) do not fit
   * codex-img's key shape, so without a store they are recorded by name but not served.
   */
  imageStore?: ImageStore;
  /** Epoch ms of the import: the time stuck jobs are failed at, and the reference for expiry. */
  now?: number;
}

export interface ImportLegacyReport {
  keys: { imported: number; skipped: number };
  jobs: { imported: number; skipped: number };
  images: { referenced: number; missing: number };
  warnings: string[];
}

const CHUNK = 100;

type Row = Record<string, unknown>;

/**
 * Imports a codex-image-service database: its API keys (same SHA-256, so the raw `cimg_` tokens keep
 * working) and its request history (as finished jobs). Idempotent: rows already imported are skipped.
 */
export async function importLegacyDatabase(options: ImportLegacyOptions): Promise<ImportLegacyReport> {
  const now = options.now ?? Date.now();
  const report: ImportLegacyReport = {
    keys: { imported: 0, skipped: 0 },
    jobs: { imported: 0, skipped: 0 },
    images: { referenced: 0, missing: 0 },
    warnings: [],
  };
  const source = await openLegacySource(options.legacyPath);
  try {
    const keyMap = await importLegacyKeys(options.database, source, now, report);
    await importRequests(options, source, keyMap, now, report);
  } finally {
    await source.close();
  }
  if (report.keys.imported > 0 || report.jobs.imported > 0) {
    await options.database.db.insert(auditLog).values({
      at: now,
      actor: "system",
      action: "legacy.import",
      targetType: "database",
      targetId: basename(options.legacyPath),
      details: { keys: report.keys, jobs: report.jobs, images: report.images },
    });
  }
  return report;
}

async function importRequests(
  options: ImportLegacyOptions,
  source: LegacySource,
  keyMap: LegacyKeyMap,
  now: number,
  report: ImportLegacyReport,
): Promise<void> {
  const table = source.requests;
  if (!table) {
    report.warnings.push("no history table (image_requests with a prompt column) found in the legacy file");
    return;
  }
  const c = table.columns;
  const order = c.createdAt ? ` ORDER BY ${quoteIdentifier(c.createdAt)}` : "";
  const rows = (await source.client.execute(`SELECT * FROM ${quoteIdentifier(table.name)}${order}`))
    .rows as Row[];
  const candidates = rows.map((row, index) => {
    const legacyId = c.id ? String(row[c.id] ?? "") : "";
    return { row, legacyId, id: legacyJobId(legacyId || `row${index + 1}`) };
  });

  const existing = new Set<string>();
  for (const ids of chunks(
    candidates.map((x) => x.id),
    CHUNK,
  )) {
    const found = await options.database.db.select({ id: jobs.id }).from(jobs).where(inArray(jobs.id, ids));
    for (const { id } of found) existing.add(id);
  }

  const files = await listImages(options.imagesDir, report);
  const counters: LegacyJobCounters = {
    stuck: 0,
    unknownStatus: new Set<string>(),
    danglingKeys: 0,
    noImagesDir: 0,
    badTime: 0,
  };
  const jobRows: LegacyJobRow[] = [];
  const attemptRows: LegacyAttemptRow[] = [];
  const seen = new Set<string>();
  for (const { row, legacyId, id } of candidates) {
    if (existing.has(id) || seen.has(id)) {
      report.jobs.skipped++;
      continue;
    }
    seen.add(id);
    const built = await buildLegacyJob({
      row,
      legacyId,
      id,
      c,
      keyMap,
      files,
      options,
      now,
      report,
      counters,
    });
    jobRows.push(built.job);
    if (built.attempt) attemptRows.push(built.attempt);
  }

  await options.database.db.transaction(async (tx) => {
    for (const part of chunks(jobRows, CHUNK)) {
      const inserted = await tx.insert(jobs).values(part).onConflictDoNothing().returning({ id: jobs.id });
      report.jobs.imported += inserted.length;
      report.jobs.skipped += part.length - inserted.length;
    }
    for (const part of chunks(attemptRows, CHUNK)) {
      await tx.insert(jobAttempts).values(part).onConflictDoNothing();
    }
  });

  if (counters.stuck > 0) {
    report.warnings.push(
      `${counters.stuck} request(s) were still queued or running: imported as failed (interrupted)`,
    );
  }
  if (counters.unknownStatus.size > 0) {
    report.warnings.push(
      `unknown status value(s) imported as failed: ${[...counters.unknownStatus].join(", ")}`,
    );
  }
  if (counters.danglingKeys > 0) {
    report.warnings.push(`${counters.danglingKeys} request(s) name a key missing from the legacy key table`);
  }
  if (counters.noImagesDir > 0) {
    report.warnings.push(
      `${counters.noImagesDir} succeeded request(s) imported without images: no images folder given`,
    );
  }
  if (counters.badTime > 0) {
    report.warnings.push(
      `${counters.badTime} request(s) had no readable created_at: the import time was used`,
    );
  }
  if (report.images.referenced > 0 && !options.imageStore) {
    report.warnings.push(
      "images were recorded under their legacy file names, which codex-img's file store does not serve; pass an image store to copy them in",
    );
  }
  if (c.stdout || c.stderr) {
    report.warnings.push("stdout/stderr kept only for failed requests (a tail, in the error details)");
  }
}

/** File name → full path of every file in the predecessor's image folder. */
async function listImages(
  dir: string | undefined,
  report: ImportLegacyReport,
): Promise<Map<string, string> | undefined> {
  if (!dir) return undefined;
  try {
    const entries = await readdir(dir, { withFileTypes: true });
    return new Map(entries.filter((e) => e.isFile()).map((e) => [e.name, join(dir, e.name)]));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
    report.warnings.push(`images folder ${dir} does not exist: no images imported`);
    return new Map();
  }
}

function chunks<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
