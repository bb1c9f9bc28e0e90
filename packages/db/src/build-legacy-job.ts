import { readFile } from "node:fs/promises";
import { basename } from "node:path";
import {
  DEFAULT_IMAGE_MODEL,
  hashJobRequest,
  type JobError,
  type JobState,
  redactSecrets,
  type StoredImageRef,
  type StoredImageRequest,
  sniffImage,
} from "@codex-img/core";
import type { ImportLegacyOptions, ImportLegacyReport } from "./import-legacy.js";
import type { LegacyKeyMap, LegacyKeyRef } from "./import-legacy-keys.js";
import type { LegacySource } from "./legacy-source.js";
import {
  LEGACY_ORIGIN,
  legacyAccount,
  legacyErrorCode,
  legacyQuality,
  legacySize,
  mapLegacyStatus,
  parseLegacyPaths,
  parseLegacyTimestamp,
  stringOrUndefined,
} from "./legacy-values.js";
import type { jobAttempts, jobs } from "./schema/index.js";

type Row = Record<string, unknown>;

export type LegacyJobRow = typeof jobs.$inferInsert;
export type LegacyAttemptRow = typeof jobAttempts.$inferInsert;

/** The predecessor's per-attempt limit and its one retry on another account. */
const LEGACY_ATTEMPT_TIMEOUT_MS = 360_000;
const LEGACY_MAX_ATTEMPTS = 2;
const OUTPUT_TAIL_CHARS = 4000;

/** What the import counts across requests, for its warnings. */
export interface LegacyJobCounters {
  stuck: number;
  unknownStatus: Set<string>;
  danglingKeys: number;
  noImagesDir: number;
  badTime: number;
}

export interface LegacyJobInput {
  row: Row;
  legacyId: string;
  id: string;
  c: NonNullable<LegacySource["requests"]>["columns"];
  keyMap: LegacyKeyMap;
  files: Map<string, string> | undefined;
  options: ImportLegacyOptions;
  now: number;
  report: ImportLegacyReport;
  counters: LegacyJobCounters;
}

/**
 * One legacy request as a finished job row (and its one attempt when it ran): stuck ones failed as
 * interrupted, failures with a redacted message and the output's tail, images copied in when found.
 */
export async function buildLegacyJob(
  input: LegacyJobInput,
): Promise<{ job: LegacyJobRow; attempt?: LegacyAttemptRow }> {
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
  let key: LegacyKeyRef | undefined;
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
  const job: LegacyJobRow = {
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
  const attempt: LegacyAttemptRow = {
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

async function findImages(input: LegacyJobInput): Promise<StoredImageRef[]> {
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

function outputDetails(stdout: unknown, stderr: unknown): Pick<JobError, "details"> {
  const details: Record<string, string> = {};
  const out = stringOrUndefined(stdout);
  const err = stringOrUndefined(stderr);
  // The predecessor's lesson: the CLI could exit 0 with only stderr telling what went wrong.
  if (err) details.legacyStderrTail = redactSecrets(err.slice(-OUTPUT_TAIL_CHARS));
  if (out) details.legacyStdoutTail = redactSecrets(out.slice(-OUTPUT_TAIL_CHARS));
  return Object.keys(details).length > 0 ? { details } : {};
}
