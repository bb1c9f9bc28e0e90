import {
  type DispatchMode,
  JOB_KINDS,
  type JobState,
  REQUEST_LIMITS,
  TERMINAL_JOB_STATES,
} from "@codex-img/core";
import { HISTORY_MAX_LIMIT, KEY_SCOPES } from "@codex-img/db";
import { z } from "zod";

/** Job ids as the queue mints them; anything else is `not_found` without a lookup. */
export const jobId = z.string().regex(/^(img|vis)_[a-z2-7]{26}$/, "not a job id");

export const keyId = z.string().min(1).max(100);

const limit = z.number().int().positive().nullable();

export const keyLimitsInput = z
  .object({
    requestsPerMinute: limit,
    imagesPerDay: limit,
    imagesPerMonth: limit,
    visionPerDay: limit,
    visionPerMonth: limit,
    maxConcurrentJobs: limit,
  })
  .partial();

export const keyCreateInput = z.object({
  name: z.string().trim().min(1).max(100),
  scopes: z.array(z.enum(KEY_SCOPES)).min(1),
  /** Epoch ms; null or absent = never expires. */
  expiresAt: z.number().int().positive().nullish(),
  limits: keyLimitsInput.optional(),
});

export const keyUpdateInput = z.object({
  id: keyId,
  name: z.string().trim().min(1).max(100).optional(),
  scopes: z.array(z.enum(KEY_SCOPES)).min(1).optional(),
  expiresAt: z.number().int().positive().nullable().optional(),
  limits: keyLimitsInput.optional(),
});

/** The engine's `ImageRequest`; reference images come as `data:` URLs (the playground reads files so). */
export const imageRequestInput = z.object({
  prompt: z.string().min(1).max(REQUEST_LIMITS.promptMaxChars),
  size: z
    .string()
    .regex(/^(auto|\d{2,4}x\d{2,4})$/, 'size must be "auto" or WIDTHxHEIGHT')
    .optional(),
  quality: z.enum(["auto", "low", "medium", "high"]).optional(),
  background: z.enum(["auto", "opaque", "transparent"]).optional(),
  outputFormat: z.enum(["png", "jpeg", "webp"]).optional(),
  n: z.number().int().min(1).max(REQUEST_LIMITS.maxImages).optional(),
  model: z.string().min(1).max(100).optional(),
  idempotencyKey: z.string().min(1).max(200).optional(),
  /** Checked one by one at the door (format, size) like REST references; the body limit bounds the rest. */
  references: z
    .array(
      z.object({
        name: z.string().max(300).optional(),
        dataUrl: z.string().min(1),
      }),
    )
    .max(REQUEST_LIMITS.maxReferenceImages)
    .optional(),
  /** Admin sessions only: run as this key, through its limits and into its history. */
  asKeyId: keyId.optional(),
});

/** A question about 1 to 16 images (`images.ask`); the images come as `data:` URLs like references. */
export const visionRequestInput = z.object({
  prompt: z.string().min(1).max(REQUEST_LIMITS.promptMaxChars),
  references: z
    .array(z.object({ name: z.string().max(300).optional(), dataUrl: z.string().min(1) }))
    .min(1)
    .max(REQUEST_LIMITS.maxReferenceImages),
  /** Admin sessions only: ask as this key, through its limits and into its history. */
  asKeyId: z.string().min(1).max(100).optional(),
});

export const JOB_STATES = ["queued", "running", ...TERMINAL_JOB_STATES] as [JobState, ...JobState[]];

export const jobListInput = z
  .object({
    cursor: z.string().max(500).optional(),
    limit: z.number().int().min(1).max(HISTORY_MAX_LIMIT).optional(),
    state: z.enum(JOB_STATES).optional(),
    /** `image` or `vision` (questions about images). */
    kind: z.enum(JOB_KINDS).optional(),
    keyId: keyId.optional(),
    account: z.string().max(200).optional(),
    since: z.number().int().nonnegative().optional(),
    until: z.number().int().nonnegative().optional(),
    text: z.string().max(500).optional(),
  })
  .default({});

export const dispatchModeInput = z.enum([
  "quota-aware",
  "round-robin",
  "primary-first",
] as const satisfies readonly DispatchMode[]);

export const settingsUpdateInput = z
  .object({
    dispatchMode: dispatchModeInput,
    retentionDays: z.number().int().min(1).max(3650),
    cleanupIntervalHours: z
      .number()
      .int()
      .min(1)
      .max(24 * 7),
    usageWall: z.object({
      limit: z.number().int().min(1).max(1_000_000),
      windowHours: z
        .number()
        .int()
        .min(1)
        .max(24 * 31),
      warnPercent: z.number().int().min(1).max(100),
      dangerPercent: z.number().int().min(1).max(100),
    }),
  })
  .partial();
