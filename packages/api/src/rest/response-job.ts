import { CodexImgError, isCodexImgError, type Job } from "@codex-img/core";
import type { Context } from "hono";
import type { AppEnv } from "../app-env.js";
import { visibleJob } from "../services/job-views.js";
import type { ApiServices } from "../services.js";
import { isStoredResponse } from "./responses-object.js";
import { jobIdOfResponse } from "./responses-request.js";

/**
 * The job behind a stored response the caller may see; anything else (unknown, another key's, made
 * with `store: false`) is the same `not_found`, in OpenAI's words.
 */
export async function responseJob(services: ApiServices, c: Context<AppEnv>, id: string): Promise<Job> {
  const notFound = (): CodexImgError =>
    new CodexImgError("not_found", `Response with id '${id.slice(0, 100)}' not found.`, {
      details: { param: "id" },
    });
  const jobId = jobIdOfResponse(id);
  if (!jobId) throw notFound();
  let job: Job;
  try {
    job = await visibleJob(services, c.get("caller"), jobId);
  } catch (error) {
    if (isCodexImgError(error, "not_found")) throw notFound();
    throw error;
  }
  if (!isStoredResponse(job)) throw notFound();
  return job;
}

/** The images of the previous response, which the next turn edits. */
export async function previousResponseImages(
  services: ApiServices,
  c: Context<AppEnv>,
  id: string,
): Promise<Uint8Array[]> {
  let job: Job;
  try {
    job = await responseJob(services, c, id);
  } catch (error) {
    if (!isCodexImgError(error, "not_found")) throw error;
    throw new CodexImgError(
      "previous_response_not_found",
      `Previous response with id '${id.slice(0, 100)}' not found.`,
      { details: { param: "previous_response_id" } },
    );
  }
  if (job.state !== "succeeded") {
    throw new CodexImgError("invalid_request", `The previous response is ${job.state}, not completed.`, {
      details: { param: "previous_response_id" },
    });
  }
  return Promise.all(
    job.images.map(async (image) => {
      const bytes = await services.images.get(image.key);
      if (!bytes) {
        throw new CodexImgError(
          "invalid_request",
          "The images of the previous response are no longer stored.",
          {
            details: { param: "previous_response_id" },
          },
        );
      }
      return bytes;
    }),
  );
}
