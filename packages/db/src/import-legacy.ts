import { readdir, readFile } from "node:fs/promises";
import { basename, join } from "node:path";
import {
  DEFAULT_IMAGE_MODEL,
  hashJobRequest,
  type ImageQuality,
  type ImageSize,
  type ImageStore,
  type JobError,
  type JobState,
  redactSecrets,
  type StoredImageRef,
  type StoredImageRequest,
  sniffImage,
} from "@codex-img/core";
import { eq, inArray } from "drizzle-orm";
import type { Database } from "./create-db.js";
import { type LegacySource, openLegacySource, quoteIdentifier } from "./legacy-source.js";
import {
  legacyErrorCode,
  mapLegacyStatus,
  parseLegacyBoolean,
  parseLegacyPaths,
  parseLegacyTimestamp,
} from "./legacy-values.js";
import { apiKeys, auditLog, jobAttempts, jobs } from "./schema/index.js";

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

/** Scopes a predecessor key had in effect: it could generate, edit, ask about images and poll its jobs. */
export const LEGACY_KEY_SCOPES: readonly string[] = ["generate", "edit", "vision", "jobs:read"];
export const LEGACY_ORIGIN = "legacy-import";
/** The predecessor's per-attempt limit and its one retry on another account. */
const LEGACY_ATTEMPT_TIMEOUT_MS = 360_000;
const LEGACY_MAX_ATTEMPTS = 2;
const OUTPUT_TAIL_CHARS = 4000;
const CHUNK = 100;

type JobRow = typeof jobs.$inferInsert;
type AttemptRow = typeof jobAttempts.$inferInsert;
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
    const keyMap = await importKeys(options.database, source, now, report);
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

interface KeyRef {
  id: string;
  name: string;
}

/** Legacy key id → the codex-img key now holding that hash. */
type KeyMap = Map<string, KeyRef>;

async function importKeys(
  database: Database,
  source: LegacySource,
  now: number,
  report: ImportLegacyReport,
): Promise<KeyMap> {
  const map: KeyMap = new Map();
  const table = source.keys;
  if (!table) {
    report.warnings.push("no API key table (api_keys with a hash column) found in the legacy file");
    return map;
  }
  const c = table.columns;
  if (c.requestsCount) {
    report.warnings.push(`${c.requestsCount} not imported: the predecessor counted every poll as a request`);
  }
  const rows = (await source.client.execute(`SELECT * FROM ${quoteIdentifier(table.name)}`)).rows as Row[];
  for (const [index, row] of rows.entries()) {
    const legacyId = c.id ? String(row[c.id] ?? "") : "";
    const label = legacyId || `#${index + 1}`;
    const hash = String(row[c.hash as string] ?? "")
      .trim()
      .toLowerCase();
    if (!/^[0-9a-f]{64}$/.test(hash)) {
      report.warnings.push(`key ${label}: ${c.hash} is not a SHA-256 hex digest; skipped`);
      report.keys.skipped++;
      continue;
    }
    // The key store refuses names over 100 characters on update.
    const name = (stringOrUndefined(c.name && row[c.name]) ?? `legacy key ${label}`).slice(0, 100);
    const existing = await database.db
      .select({ id: apiKeys.id, name: apiKeys.name })
      .from(apiKeys)
      .where(eq(apiKeys.hash, hash));
    if (existing[0]) {
      if (legacyId) map.set(legacyId, existing[0]);
      report.keys.skipped++;
      continue;
    }
    const id = `key_legacy_${sanitizeId(legacyId || hash.slice(0, 16))}`;
    const enabled = keyEnabled(row, c);
    const inserted = await database.db
      .insert(apiKeys)
      .values({
        id,
        name,
        hash,
        prefix: stringOrUndefined(c.prefix && row[c.prefix]) ?? "cimg_",
        scopes: [...LEGACY_KEY_SCOPES],
        enabled,
        createdAt: parseLegacyTimestamp(c.createdAt && row[c.createdAt]) ?? now,
        lastUsedAt: parseLegacyTimestamp(c.lastUsedAt && row[c.lastUsedAt]) ?? null,
        origin: LEGACY_ORIGIN,
      })
      .onConflictDoNothing()
      .returning({ id: apiKeys.id });
    if (inserted.length === 0) {
      report.warnings.push(`key ${label}: the id ${id} is taken by another key; skipped`);
      report.keys.skipped++;
      continue;
    }
    if (legacyId) map.set(legacyId, { id, name });
    report.keys.imported++;
  }
  return map;
}

function keyEnabled(row: Row, c: NonNullable<LegacySource["keys"]>["columns"]): boolean {
  if (c.enabled) return parseLegacyBoolean(row[c.enabled]) ?? true;
  if (c.disabled && parseLegacyBoolean(row[c.disabled])) return false;
  if (c.disabledAt && row[c.disabledAt] !== null && row[c.disabledAt] !== undefined) return false;
  return true;
}

async function importRequests(
  options: ImportLegacyOptions,
  source: LegacySource,
  keyMap: KeyMap,
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
  const counters = {
    stuck: 0,
    unknownStatus: new Set<string>(),
    danglingKeys: 0,
    noImagesDir: 0,
    badTime: 0,
  };
  const jobRows: JobRow[] = [];
  const attemptRows: AttemptRow[] = [];
  const seen = new Set<string>();
  for (const { row, legacyId, id } of candidates) {
    if (existing.has(id) || seen.has(id)) {
      report.jobs.skipped++;
      continue;
    }
    seen.add(id);
    const built = await buildJob({ row, legacyId, id, c, keyMap, files, options, now, report, counters });
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

interface BuildInput {
  row: Row;
  legacyId: string;
  id: string;
  c: NonNullable<LegacySource["requests"]>["columns"];
  keyMap: KeyMap;
  files: Map<string, string> | undefined;
  options: ImportLegacyOptions;
  now: number;
  report: ImportLegacyReport;
  counters: {
    stuck: number;
    unknownStatus: Set<string>;
    danglingKeys: number;
    noImagesDir: number;
    badTime: number;
  };
}

async function buildJob(input: BuildInput): Promise<{ job: JobRow; attempt?: AttemptRow }> {
  const { row, c, now, counters } = input;
  const get = (column: string | undefined): unknown => (column ? row[column] : undefined);

  const prompt = String(get(c.prompt) ?? "");
  const count = Math.max(1, Math.min(16, Math.trunc(Number(get(c.count) ?? 1)) || 1));
  const request: StoredImageRequest = {
    prompt,
    size: legacySize(get(c.size)),
    quality: legacyQuality(get(c.quality)),
    background: "auto",
    outputFormat: "png",
    n: count,
    model: DEFAULT_IMAGE_MODEL,
    // The predecessor did not keep reference images.
    referenceImages: [],
  };

  let createdAt = parseLegacyTimestamp(get(c.createdAt));
  if (createdAt === undefined) {
    counters.badTime++;
    createdAt = now;
  }
  const startedAt = parseLegacyTimestamp(get(c.startedAt));
  const completedAt = parseLegacyTimestamp(get(c.completedAt)) ?? parseLegacyTimestamp(get(c.updatedAt));
  const expiresAt = parseLegacyTimestamp(get(c.expiresAt));

  const legacyKeyId = stringOrUndefined(get(c.keyId));
  let key: KeyRef | undefined;
  if (legacyKeyId !== undefined) {
    key = input.keyMap.get(legacyKeyId);
    if (!key) counters.danglingKeys++;
  }
  const keyName = key?.name ?? stringOrUndefined(get(c.keyName));

  const status = mapLegacyStatus(get(c.status));
  const errorText = stringOrUndefined(get(c.error));
  let state: JobState;
  let error: JobError | undefined;
  let images: StoredImageRef[] = [];
  let finishedAt: number | undefined = completedAt;
  if (status.kind === "stuck") {
    counters.stuck++;
    state = "failed";
    finishedAt = now;
    error = {
      code: "interrupted",
      message:
        "codex-image-service was stopped while this request was queued or running; its in-memory queue was lost",
    };
  } else if (status.kind === "unknown") {
    counters.unknownStatus.add(String(get(c.status) ?? "(none)"));
    state = "failed";
    error = { code: "internal", message: `unknown status in codex-image-service: ${String(get(c.status))}` };
  } else {
    state = status.state;
    if (state === "failed") {
      const message = errorText
        ? redactSecrets(errorText)
        : "failed in codex-image-service (no message recorded)";
      error = { code: legacyErrorCode(message), message, ...outputDetails(get(c.stdout), get(c.stderr)) };
    } else if (state === "canceled") {
      error = { code: "canceled", message: errorText ? redactSecrets(errorText) : "canceled" };
    }
  }

  if (state === "succeeded") {
    if (!input.files) {
      counters.noImagesDir++;
    } else {
      images = await findImages(input);
      if (images.length === 0 && expiresAt !== undefined && expiresAt <= now) state = "expired";
    }
  }

  const attempted = status.kind !== "stuck" || status.running || startedAt !== undefined;
  const account = legacyAccount(get(c.account));
  const requestHash = await hashJobRequest(request);
  const job: JobRow = {
    id: input.id,
    state,
    keyId: key?.id ?? null,
    keyName: keyName ?? null,
    priority: 0,
    idempotencyKey: null,
    requestHash,
    request,
    prompt,
    account: account ?? null,
    backend: "codex-cli",
    maxAttempts: LEGACY_MAX_ATTEMPTS,
    attemptCount: attempted ? 1 : 0,
    attemptTimeoutMs: LEGACY_ATTEMPT_TIMEOUT_MS,
    deadlineAt: null,
    runAfter: createdAt,
    cancelRequested: false,
    images,
    // Expired and file-less successes still count the images they made, for usage history.
    imageCount: images.length > 0 ? images.length : state === "succeeded" || state === "expired" ? count : 0,
    error: error ?? null,
    errorCode: error?.code ?? null,
    progress: null,
    lastSeq: 0,
    createdAt,
    updatedAt: finishedAt ?? createdAt,
    startedAt: startedAt ?? (attempted ? createdAt : null),
    finishedAt: finishedAt ?? null,
    expiresAt: expiresAt ?? null,
    origin: LEGACY_ORIGIN,
  };
  if (!attempted) return { job };
  const attemptStart = startedAt ?? createdAt;
  const attempt: AttemptRow = {
    jobId: input.id,
    number: 1,
    workerId: "codex-image-service",
    account: account ?? null,
    backend: "codex-cli",
    route: null,
    upstreamIds: {},
    startedAt: attemptStart,
    finishedAt: finishedAt ?? null,
    durationMs: finishedAt !== undefined ? Math.max(0, finishedAt - attemptStart) : null,
    error: error ?? null,
    errorCode: error?.code ?? null,
  };
  return { job, attempt };
}

async function findImages(input: BuildInput): Promise<StoredImageRef[]> {
  const { files, options, report, row, c, legacyId } = input;
  if (!files || !options.imagesDir) return [];
  const paths = parseLegacyPaths(c.paths ? row[c.paths] : undefined);
  let names = paths.map((p) => basename(p.split("?")[0] ?? p));
  if (names.length === 0 && legacyId) {
    // The predecessor served `/generated/<id>.png`: find the files by id when no path was stored.
    names = [...files.keys()]
      .filter((n) => n.startsWith(`${legacyId}.`) || n.startsWith(`${legacyId}_`))
      .sort();
  }
  const images: StoredImageRef[] = [];
  for (const name of names) {
    const file = files.get(name);
    if (!file) {
      report.images.missing++;
      continue;
    }
    const bytes = new Uint8Array(await readFile(file));
    const info = sniffImage(bytes);
    if (!info) {
      report.warnings.push(`${name}: not a PNG, JPEG or WebP image; not imported`);
      report.images.missing++;
      continue;
    }
    const key = options.imageStore
      ? (await options.imageStore.put(bytes, { format: info.format })).key
      : name;
    images.push({ key, format: info.format, width: info.width, height: info.height, bytes: bytes.length });
    report.images.referenced++;
  }
  return images;
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

function outputDetails(stdout: unknown, stderr: unknown): Pick<JobError, "details"> {
  const details: Record<string, string> = {};
  const out = stringOrUndefined(stdout);
  const err = stringOrUndefined(stderr);
  // The predecessor's lesson: the CLI could exit 0 with only stderr telling what went wrong.
  if (err) details.legacyStderrTail = redactSecrets(err.slice(-OUTPUT_TAIL_CHARS));
  if (out) details.legacyStdoutTail = redactSecrets(out.slice(-OUTPUT_TAIL_CHARS));
  return Object.keys(details).length > 0 ? { details } : {};
}

/** Predecessor ids that already look like ours (`img_3f81…`) are kept, so its callers' ids still resolve. */
export function legacyJobId(legacyId: string): string {
  return /^img_[A-Za-z0-9_-]{1,120}$/.test(legacyId) ? legacyId : `img_legacy_${sanitizeId(legacyId)}`;
}

function sanitizeId(value: string): string {
  return value.replace(/[^A-Za-z0-9_-]/g, "_").slice(0, 120) || "unknown";
}

function legacySize(value: unknown): ImageSize {
  const text = String(value ?? "")
    .trim()
    .toLowerCase();
  if (text === "auto") return "auto";
  return /^\d{2,5}x\d{2,5}$/.test(text) ? (text as ImageSize) : "1024x1024";
}

function legacyQuality(value: unknown): ImageQuality {
  const text = String(value ?? "")
    .trim()
    .toLowerCase();
  return text === "low" || text === "medium" || text === "high" || text === "auto" ? text : "medium";
}

/** The predecessor named accounts by their CODEX_HOME folder; codex-img labels them by the folder's name. */
function legacyAccount(value: unknown): string | undefined {
  const text = stringOrUndefined(value);
  if (!text) return undefined;
  return text.includes("/") ? basename(text.replace(/\/+$/, "")) || text : text;
}

function stringOrUndefined(value: unknown): string | undefined {
  if (value === null || value === undefined || value === false) return undefined;
  const text = String(value).trim();
  return text ? text : undefined;
}

function chunks<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
