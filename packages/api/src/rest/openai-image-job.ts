import { CodexImgError, type ImageRequest, type Job, type StagedReferences } from "@codex-img/core";
import type { Context } from "hono";
import type { AppEnv } from "../app-env.js";
import { bodyHandedOff } from "../http/request-door.js";
import { whileConnected } from "../http/while-connected.js";
import { jobPollUrl } from "../services/image-urls.js";
import { type SubmitOptions, submitImageJob } from "../services/submit-image-job.js";
import type { ApiServices } from "../services.js";
import { imagesReply, jobFailure } from "./openai-images.js";
import type { OpenAiImageOptions } from "./openai-schemas.js";
import { streamImageJob } from "./openai-stream.js";

/** Every reply about a job names it, so a caller whose wait ended can still find the job. */
const JOB_ID_HEADER = "x-codex-img-job-id";

/** An Images API call as a job: its events as SSE when `stream` is set, else the images once it ends. */
export async function runImageJob(
  c: Context<AppEnv>,
  services: ApiServices,
  request: ImageRequest,
  options: OpenAiImageOptions,
  eventPrefix: "image_generation" | "image_edit",
  staged?: StagedReferences,
): Promise<Response> {
  const references = staged ? { staged } : {};
  if (options.stream) {
    const signal = c.req.raw.signal;
    const { job } = await submitImageJob(services, c.get("caller"), request, {
      ...idempotency(c),
      // A stream lives as long as its connection: a caller that hangs up no longer wants the image.
      signal,
      ...references,
    });
    c.header(JOB_ID_HEADER, job.id);
    return streamImageJob(c, services, job, {
      eventPrefix,
      partialImages: options.partial_images ?? 0,
      signal,
    });
  }
  const job = await submitAndWait(c, services, (submitOptions) =>
    submitImageJob(services, c.get("caller"), request, { ...submitOptions, ...references }),
  );
  return imagesReply(c, services, job, options.response_format ?? "b64_json");
}

/**
 * Submits and waits up to the configured time. The job is tied to the connection only while we wait:
 * once we have told the caller to poll, a later disconnect must not cancel it.
 */
export async function submitAndWait(
  c: Context<AppEnv>,
  services: ApiServices,
  submit: (options: SubmitOptions) => Promise<{ job: Job }>,
): Promise<Job> {
  return whileConnected(c, async (signal) => {
    const { job } = await submit({ ...idempotency(c), signal });
    // Enqueued: whatever the request's body was is in the store and the queue now.
    bodyHandedOff(c);
    c.header(JOB_ID_HEADER, job.id);
    const done = await services.queue.waitForJob(job.id, {
      timeoutMs: services.options.requestWaitTimeoutMs,
      signal,
    });
    if (done.state === "succeeded") return done;
    if (done.state === "queued" || done.state === "running") {
      const poll = jobPollUrl(services, job.id);
      throw new CodexImgError(
        "upstream_timeout",
        `Job ${job.id} is still ${done.state} after ${Math.round(services.options.requestWaitTimeoutMs / 1000)} s; poll ${poll} for the result.`,
        { details: { jobId: job.id, pollUrl: poll, pending: true } },
      );
    }
    throw jobFailure(done);
  });
}

function idempotency(c: Context<AppEnv>): { idempotencyKey?: string } {
  const key = c.req.header("idempotency-key")?.trim();
  return key ? { idempotencyKey: key.slice(0, 200) } : {};
}
