import { ERROR_CODES, JOB_KINDS, TERMINAL_JOB_STATES } from "@codex-img/core";
import { z } from "@hono/zod-openapi";

/**
 * Reply schemas of the job routes (ours and the predecessor's), for the document: the wire shapes of
 * `services/job-views.ts`, which the handlers answer.
 */

const JOB_STATES = ["queued", "running", ...TERMINAL_JOB_STATES] as const;
const isoTime = z.iso.datetime();

export const JobStateSchema = z.enum(JOB_STATES);

const ImageUrlSchema = z
  .object({
    url: z.string().openapi({ description: "Signed (`?expires=&sig=`) when signed URLs are on." }),
    expires_at: isoTime,
  })
  .openapi("ImageUrl");

const JobErrorSchema = z
  .object({
    code: z.enum(ERROR_CODES),
    message: z.string(),
    retry_after_ms: z.number().int().optional(),
  })
  .openapi("JobError");

export const JobSchema = z
  .object({
    id: z.string(),
    object: z.literal("job"),
    kind: z.enum(JOB_KINDS),
    status: JobStateSchema,
    text: z.string().optional().openapi({ description: "A vision job's answer, once it succeeded." }),
    request: z.object({
      prompt: z.string(),
      size: z.string(),
      quality: z.string(),
      background: z.string(),
      output_format: z.string(),
      n: z.number().int(),
      model: z.string(),
      reference_images: z.number().int(),
    }),
    priority: z.number().int(),
    images: z.array(
      ImageUrlSchema.extend({
        width: z.number().int(),
        height: z.number().int(),
        format: z.enum(["png", "jpeg", "webp"]),
        bytes: z.number().int(),
        revised_prompt: z.string().optional(),
        partial: z.literal(true).optional(),
      }),
    ),
    error: JobErrorSchema.nullable(),
    attempts: z.array(
      z.object({
        number: z.number().int(),
        backend: z.string().nullable(),
        route: z.string().nullable(),
        started_at: isoTime.nullable(),
        finished_at: isoTime.nullable(),
        duration_ms: z.number().int().nullable(),
        error: JobErrorSchema.nullable(),
      }),
    ),
    max_attempts: z.number().int(),
    events: z.number().int(),
    progress: z.object({ stage: z.string(), at: isoTime.nullable() }).nullable(),
    cancel_requested: z.boolean(),
    idempotency_key: z.string().nullable(),
    created_at: isoTime.nullable(),
    started_at: isoTime.nullable(),
    finished_at: isoTime.nullable(),
    expires_at: isoTime.nullable(),
  })
  .openapi("Job", { description: "A job as its key sees it: request, images, attempts, error, times." });

export const JobListSchema = z
  .object({
    object: z.literal("list"),
    data: z.array(
      z.object({
        id: z.string(),
        status: JobStateSchema,
        prompt: z.string(),
        image_count: z.number().int(),
        attempt_count: z.number().int(),
        error_code: z.string().nullable(),
        created_at: isoTime.nullable(),
        started_at: isoTime.nullable(),
        finished_at: isoTime.nullable(),
        expires_at: isoTime.nullable(),
      }),
    ),
    has_more: z.boolean(),
    next_cursor: z.string().nullable(),
  })
  .openapi("JobList");

/** The predecessor's job; `error_code` (and `text` for vision jobs) are additions. */
export const PredecessorJobSchema = z
  .object({
    id: z.string(),
    status: JobStateSchema,
    images: z.array(ImageUrlSchema),
    error: z.string().nullable(),
    text: z.string().nullable().optional(),
    error_code: z.string().nullable(),
    created_at: isoTime,
    expires_at: isoTime.optional(),
  })
  .openapi("PredecessorJob");

/** A job taken but not finished: poll `poll_url` (also in `Location`). */
export const AcceptedSchema = z
  .object({ id: z.string(), status: JobStateSchema, poll_url: z.string().optional() })
  .openapi("Accepted");
