import type { ErrorCode, ErrorDetails } from "../errors.js";
import type { NormalizedImageRequest } from "../request.js";
import type { BackendEvent, BackendKind, BackendRoute, ImageFormat, UpstreamUsage } from "../types.js";
import { copyJson } from "./copy-json.js";

/**
 * Lifecycle of a job: `queued -> running -> succeeded | failed | canceled`, and `running -> queued` again
 * when an attempt fails and another is allowed. `expired` is set later by retention once the image files
 * are gone; the history row stays.
 */
export type JobState = "queued" | "running" | "succeeded" | "failed" | "canceled" | "expired";

/**
 * What a job does: `image` makes images (the request's references are edit inputs); `vision` answers a
 * question about images with text (the request's references are the images asked about, and `prompt` the
 * question). Both go through the same queue, accounts, keys and history.
 */
export type JobKind = "image" | "vision";

export const JOB_KINDS: readonly JobKind[] = ["image", "vision"];

/** Id prefix per kind: callers of the predecessor's `/v1/vision` know answers as `vis_…`. */
const JOB_ID_PREFIX: Record<JobKind, string> = { image: "img", vision: "vis" };

export const TERMINAL_JOB_STATES: readonly JobState[] = ["succeeded", "failed", "canceled", "expired"];

export function isTerminalJobState(state: JobState): boolean {
  return TERMINAL_JOB_STATES.includes(state);
}

/** A reference image as the job keeps it: the bytes live in an ImageStore under `key`. */
export interface StoredReferenceImage {
  key: string;
  /** SHA-256 (hex) of the bytes: idempotency compares references by content, not by their random key. */
  sha256?: string;
  format: ImageFormat;
  width: number;
  height: number;
  /** Size in bytes. */
  bytes: number;
}

/**
 * The request as stored with the job: validated, defaults applied, JSON-serialisable, no image bytes and
 * no secrets, so the history row can be shown to the caller and the owner as it is.
 */
export type StoredImageRequest = Omit<NormalizedImageRequest, "referenceImages"> & {
  referenceImages: StoredReferenceImage[];
};

/** An image the job produced, stored in an ImageStore under `key`. */
export interface StoredImageRef {
  key: string;
  format: ImageFormat;
  width: number;
  height: number;
  /** Size in bytes. */
  bytes: number;
  revisedPrompt?: string;
  /** The stream ended without a final image and this is the last partial one. */
  partial?: boolean;
  /**
   * What upstream said about the call that made this image, where it said it: the delivered quality,
   * size, background and format (reply fields, which the subscription may change from the request),
   * and the call's token counts (on the first image of a call only, so a sum over images is the job's).
   */
  reported?: {
    quality?: string;
    size?: string;
    background?: string;
    outputFormat?: string;
    usage?: UpstreamUsage;
  };
}

/** A `CodexImgError` as data, for the history row and events. */
export interface JobError {
  code: ErrorCode;
  message: string;
  retryable?: boolean;
  retryAfterMs?: number;
  details?: ErrorDetails;
}

/** What a worker learns about an attempt while it runs (which account, which route, upstream ids). */
export interface JobAttemptInfo {
  /** Account label. */
  account?: string;
  backend?: BackendKind;
  route?: BackendRoute;
  upstreamIds?: Record<string, string>;
  /** What the backend reported besides images (the CLI's stdout and stderr tails, redacted). */
  diagnostics?: Record<string, string>;
}

export interface JobAttempt {
  /** 1-based. */
  number: number;
  workerId: string;
  account?: string;
  backend?: BackendKind;
  route?: BackendRoute;
  upstreamIds: Record<string, string>;
  /** Epoch ms. */
  startedAt: number;
  /** Epoch ms. */
  finishedAt?: number;
  durationMs?: number;
  error?: JobError;
  /** The backend's `BackendResult.diagnostics`, kept for the dashboard's job detail. */
  diagnostics?: Record<string, string>;
}

/** Who may write to a running job, and until when (epoch ms) unless renewed by a heartbeat. */
export interface JobLease {
  workerId: string;
  /** The attempt this lease belongs to, so a stale handle of an earlier attempt by the same worker id is refused. */
  attempt: number;
  expiresAt: number;
}

export type JobProgressStage = Extract<BackendEvent, { type: "progress" }>["stage"];

/**
 * What the API a job came through answers back about it beyond the image request: the Responses API's
 * `model`, `tools`, `previous_response_id`, `instructions`, `metadata`, `user` and `store`. Plain JSON,
 * opaque to the engine, written with the job's insert (no write of its own) and never changed after.
 */
export type JobEcho = Record<string, unknown>;

export interface JobProgress {
  stage: JobProgressStage;
  message?: string;
  /** Epoch ms. */
  at: number;
}

/** One request's whole history; also the durable queue entry. */
export interface Job {
  /** `img_` + 26 base32 characters (128 random bits): unguessable, safe to hand to callers. */
  id: string;
  kind: JobKind;
  state: JobState;
  request: StoredImageRequest;
  /** The caller's API key id, when the job came through a key. */
  keyId?: string;
  /** Higher runs first. Default 0. */
  priority: number;
  /** Scoped per `keyId`: the same key and body return the same job. */
  idempotencyKey?: string;
  /** SHA-256 (hex) of the canonical request, to tell a repeat from a different body under the same key. */
  requestHash: string;
  attempts: JobAttempt[];
  images: StoredImageRef[];
  /** A vision job's answer, once it succeeded. */
  text?: string;
  /** Why the job failed or was canceled. */
  error?: JobError;
  maxAttempts: number;
  /** Per-attempt deadline in ms. */
  attemptDeadlineMs: number;
  /** Total deadline, epoch ms: no attempt starts or continues past it. */
  deadlineAt?: number;
  lease?: JobLease;
  /** Set when a cancel arrives while the job runs; the worker (or lease recovery) records `canceled`. */
  cancelRequested?: boolean;
  /** Epoch ms before which the job is not claimed (retry backoff). */
  runAfter: number;
  /** Epoch ms. */
  createdAt: number;
  updatedAt: number;
  /** First attempt's start, epoch ms. */
  startedAt?: number;
  finishedAt?: number;
  progress?: JobProgress;
  /** See `JobEcho`; absent for jobs of the routes that echo nothing. */
  echo?: JobEcho;
}

const BASE32 = "abcdefghijklmnopqrstuvwxyz234567";

/**
 * A new job id from 128 bits of `crypto.getRandomValues`, base32 so it fits URLs and file names;
 * `img_…` for image jobs, `vis_…` for vision jobs.
 */
export function createJobId(kind: JobKind = "image"): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  let bits = 0;
  let value = 0;
  let out = "";
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += BASE32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += BASE32[(value << (5 - bits)) & 31];
  return `${JOB_ID_PREFIX[kind]}_${out}`;
}

export interface NewJobInput {
  /** Default `image`. */
  kind?: JobKind;
  request: StoredImageRequest;
  requestHash: string;
  /** Epoch ms: `createdAt`, `updatedAt` and `runAfter`. */
  now: number;
  maxAttempts: number;
  attemptDeadlineMs: number;
  priority?: number;
  deadlineAt?: number;
  keyId?: string;
  idempotencyKey?: string;
  /** Default a fresh `createJobId(kind)`. */
  id?: string;
  echo?: JobEcho;
}

/** A new `queued` job record with no attempts yet. */
export function createJob(input: NewJobInput): Job {
  return {
    id: input.id ?? createJobId(input.kind),
    kind: input.kind ?? "image",
    state: "queued",
    request: copyJson(input.request),
    ...(input.keyId === undefined ? {} : { keyId: input.keyId }),
    priority: input.priority ?? 0,
    ...(input.idempotencyKey === undefined ? {} : { idempotencyKey: input.idempotencyKey }),
    requestHash: input.requestHash,
    attempts: [],
    images: [],
    maxAttempts: input.maxAttempts,
    attemptDeadlineMs: input.attemptDeadlineMs,
    ...(input.deadlineAt === undefined ? {} : { deadlineAt: input.deadlineAt }),
    runAfter: input.now,
    createdAt: input.now,
    updatedAt: input.now,
    ...(input.echo === undefined ? {} : { echo: structuredClone(input.echo) }),
  };
}
