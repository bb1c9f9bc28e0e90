import type { JobState } from "../../types.js";
import type { CliContext } from "../context.js";
import { CliError, EXIT } from "../exit-codes.js";
import { type GlobalFlags, keyClient, writeJson } from "./shared.js";

const STATES = ["queued", "running", "succeeded", "failed", "canceled", "expired"];

export async function runJobsList(
  ctx: CliContext,
  flags: { limit?: string; status?: string; json?: boolean },
  global: GlobalFlags,
): Promise<void> {
  const limit = flags.limit === undefined ? 20 : Number(flags.limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > 100) {
    throw new CliError(EXIT.usage, "--limit must be a whole number from 1 to 100.");
  }
  if (flags.status !== undefined && !STATES.includes(flags.status)) {
    throw new CliError(EXIT.usage, `--status must be one of ${STATES.join(", ")}.`);
  }
  const client = await keyClient(ctx, global);
  const list = await client.listJobs({
    limit,
    ...(flags.status ? { status: flags.status as JobState } : {}),
  });
  if (flags.json) return writeJson(ctx, list);
  for (const job of list.data) {
    const prompt = job.prompt.length > 60 ? `${job.prompt.slice(0, 57)}...` : job.prompt;
    ctx.stdout.write(`${job.id}  ${job.status.padEnd(9)}  ${job.created_at ?? "-"}  ${prompt}\n`);
  }
}

export async function runJobsGet(ctx: CliContext, id: string, global: GlobalFlags): Promise<void> {
  const client = await keyClient(ctx, global);
  writeJson(ctx, await client.getJob(id));
}

export async function runJobsCancel(ctx: CliContext, id: string, global: GlobalFlags): Promise<void> {
  const client = await keyClient(ctx, global);
  const job = await client.cancelJob(id);
  ctx.stdout.write(`${job.id} ${job.status}\n`);
}
