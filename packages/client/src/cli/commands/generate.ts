import { readFile } from "node:fs/promises";
import { homedir } from "node:os";
import { join, resolve } from "node:path";
import {
  type BackendEvent,
  createLocalBackend,
  type ImageFormat,
  type ImageQuality,
  type ImageRequest,
  type ImageSize,
  sniffImage,
} from "@codex-img/core";
import { createClient } from "../../client.js";
import type { CodexImgClient, JobCallOptions } from "../../codex-img-client.js";
import type { JobEventView, JobView } from "../../types.js";
import type { CliContext } from "../context.js";
import { CliError, EXIT } from "../exit-codes.js";
import { formatOfName, precheckOutput, saveImages } from "../output.js";
import { createProgress, describeEvent, type Progress } from "../progress.js";
import { requireApiKey, settingsFor } from "./shared.js";

export interface GenerateFlags {
  output?: string;
  size?: string;
  quality?: string;
  format?: string;
  n?: string;
  json?: boolean;
  quiet?: boolean;
  force?: boolean;
  local?: boolean;
  /** Reference images (`edit -i`). */
  input?: string[];
}

interface Produced {
  images: Uint8Array[];
  jobId?: string;
  urls?: string[];
}

const QUALITIES = ["auto", "low", "medium", "high"] as const;
const FORMATS = ["png", "jpeg", "webp"] as const;

/** `generate` and `edit`: make the images, save them under the workspace, print only their paths. */
export async function runGenerate(
  ctx: CliContext,
  prompt: string,
  flags: GenerateFlags,
  global: { baseUrl?: string; apiKeyFile?: string },
): Promise<void> {
  const request = validate(prompt, flags);
  // The format the saved file will have: asked for, or PNG (edits always, and the server's default).
  const expectedFormat = request.outputFormat ?? "png";
  const mode = flags.quiet ? "quiet" : ctx.stderr.isTTY ? "tty" : "plain";
  const progress = createProgress(ctx.stderr, mode);
  const outputOptions = {
    ...(flags.output === undefined ? {} : { out: flags.output }),
    cwd: ctx.cwd,
    prompt,
    force: flags.force ?? false,
    warn: (message: string) => progress.note(message),
  };
  // Before anything is submitted: a name that is taken would otherwise be found after quota was spent.
  await precheckOutput({ ...outputOptions, format: expectedFormat });
  const references = await readReferences(ctx, flags.input ?? []);
  // Ctrl-C cancels the server's job too: an abandoned job would still spend subscription quota.
  const interrupt = new AbortController();
  const onSigint = (): void => interrupt.abort();
  process.once("SIGINT", onSigint);
  try {
    const produced = flags.local
      ? await produceLocally(ctx, request, references, progress, interrupt.signal)
      : await produceOnServer(ctx, request, references, progress, global, interrupt.signal);
    progress.update("saving");
    const paths = await saveImages(produced.images, outputOptions);
    progress.stop();
    if (flags.json) {
      const images = paths.map((path, i) => {
        const info = sniffImage(produced.images[i] ?? new Uint8Array());
        return {
          path,
          format: info?.format ?? null,
          width: info?.width ?? null,
          height: info?.height ?? null,
          bytes: produced.images[i]?.length ?? 0,
          ...(produced.urls?.[i] ? { url: produced.urls[i] } : {}),
        };
      });
      ctx.stdout.write(
        `${JSON.stringify({ paths, images, job_id: produced.jobId ?? null, local: flags.local ?? false })}\n`,
      );
    } else {
      ctx.stdout.write(paths.map((path) => `${path}\n`).join(""));
    }
  } finally {
    process.off("SIGINT", onSigint);
    progress.stop();
  }
}

function validate(prompt: string, flags: GenerateFlags): ImageRequest {
  if (!prompt.trim()) throw new CliError(EXIT.usage, "The prompt is empty.");
  if (flags.size !== undefined && !/^(auto|\d{2,4}x\d{2,4})$/.test(flags.size)) {
    throw new CliError(
      EXIT.usage,
      `--size must be "auto" or WIDTHxHEIGHT (e.g. 1024x1536), not ${flags.size}.`,
    );
  }
  if (flags.quality !== undefined && !(QUALITIES as readonly string[]).includes(flags.quality)) {
    throw new CliError(EXIT.usage, `--quality must be one of ${QUALITIES.join(", ")}.`);
  }
  if (flags.format !== undefined && !(FORMATS as readonly string[]).includes(flags.format)) {
    throw new CliError(EXIT.usage, `--format must be one of ${FORMATS.join(", ")}.`);
  }
  const n = flags.n === undefined ? 1 : Number(flags.n);
  if (!Number.isInteger(n) || n < 1 || n > 10)
    throw new CliError(EXIT.usage, "-n must be a whole number from 1 to 10.");
  if (flags.input && n > 1)
    throw new CliError(EXIT.usage, "An edit makes one image; -n cannot be used with -i.");
  const format = outputFormat(flags);
  return {
    prompt,
    ...(flags.size === undefined ? {} : { size: flags.size as ImageSize }),
    ...(flags.quality === undefined ? {} : { quality: flags.quality as ImageQuality }),
    ...(format === undefined ? {} : { outputFormat: format }),
    n,
  };
}

/**
 * `--format`, else the format `-o`'s extension names (`-o fox.jpg` asks for a JPEG), so the file saved is
 * the file named. A contradiction between the two, or a non-PNG edit through a server, is refused here.
 */
function outputFormat(flags: GenerateFlags): ImageFormat | undefined {
  const named = flags.output === undefined ? undefined : formatOfName(flags.output);
  const asked = flags.format as ImageFormat | undefined;
  if (asked && named && asked !== named) {
    throw new CliError(
      EXIT.usage,
      `-o ${flags.output} names a ${named} file but --format asks for ${asked}.`,
    );
  }
  const format = asked ?? named;
  if (flags.input && !flags.local && format !== undefined && format !== "png") {
    throw new CliError(
      EXIT.usage,
      "Edits through a server come back as PNG; use --format png or a .png name.",
    );
  }
  return flags.input && !asked ? undefined : format;
}

async function readReferences(ctx: CliContext, inputs: readonly string[]): Promise<Uint8Array[]> {
  return Promise.all(
    inputs.map(async (input) => {
      const path = resolve(ctx.cwd, input);
      let bytes: Uint8Array;
      try {
        bytes = new Uint8Array(await readFile(path));
      } catch {
        throw new CliError(EXIT.usage, `-i ${input}: cannot read ${path}.`);
      }
      if (!sniffImage(bytes)) throw new CliError(EXIT.usage, `-i ${input} is not a PNG, JPEG or WebP image.`);
      return bytes;
    }),
  );
}

async function produceOnServer(
  ctx: CliContext,
  request: ImageRequest,
  references: Uint8Array[],
  progress: Progress,
  global: { baseUrl?: string; apiKeyFile?: string },
  signal: AbortSignal,
): Promise<Produced> {
  const settings = await settingsFor(ctx, global, progress.note);
  const client = createClient({ baseUrl: settings.baseUrl, apiKey: requireApiKey(settings) });
  progress.update("connecting", settings.baseUrl);
  let jobId: string | undefined;
  const onEvent = (event: JobEventView): void => {
    jobId = event.job_id;
    progress.update(...describeEvent(event));
  };
  let job: JobView;
  try {
    job = await submit(client, request, references, { onEvent, signal });
  } catch (error) {
    if (!signal.aborted) throw error;
    if (jobId) await client.cancelJob(jobId).catch(() => undefined);
    throw new CliError(EXIT.interrupted, `Interrupted${jobId ? `; job ${jobId} canceled` : ""}.`);
  }
  progress.update("downloading");
  const finals = job.images.filter((image) => !image.partial);
  const images = await Promise.all(finals.map((image) => client.download(image)));
  return { images, jobId: job.id, urls: finals.map((image) => image.url) };
}

function submit(
  client: CodexImgClient,
  request: ImageRequest,
  references: Uint8Array[],
  options: JobCallOptions,
): Promise<JobView> {
  if (references.length > 0) {
    return client.edit(
      {
        prompt: request.prompt,
        references,
        ...(request.size ? { size: request.size } : {}),
        ...(request.quality ? { quality: request.quality } : {}),
      },
      options,
    );
  }
  const { referenceImages: _, ...body } = request;
  return client.generate(body, options);
}

/**
 * `--local`: this machine's Codex login through @codex-img/core, no server. The Codex endpoints can be
 * moved with CODEX_IMG_CODEX_BASE_URL / CODEX_IMG_CODEX_TOKEN_URL (read only here, for tests and proxies).
 */
async function produceLocally(
  ctx: CliContext,
  request: ImageRequest,
  references: Uint8Array[],
  progress: Progress,
  signal: AbortSignal,
): Promise<Produced> {
  const codexHome = ctx.env.CODEX_HOME?.trim() || join(ctx.env.HOME?.trim() || homedir(), ".codex");
  const baseUrl = ctx.env.CODEX_IMG_CODEX_BASE_URL?.trim();
  const tokenUrl = ctx.env.CODEX_IMG_CODEX_TOKEN_URL?.trim();
  progress.update("connecting", `Codex login in ${codexHome}`);
  // `codex-http` insists on a real login: a placeholder image saved into the workspace would mislead.
  const local = await createLocalBackend({
    codexHome,
    backend: "codex-http",
    ...(tokenUrl ? { tokenUrl } : {}),
    ...(baseUrl ? { codexHttp: { baseUrl } } : {}),
  });
  const onEvent = (event: BackendEvent): void => {
    if (event.type === "progress") progress.update("running", event.stage);
    else if (event.type === "partial_image") progress.update("running", `partial image ${event.index + 1}`);
  };
  const images: Uint8Array[] = [];
  const { n = 1, ...single } = request;
  // One image per call: the subscription's image route draws one at a time.
  for (let i = 0; i < n; i++) {
    let result: Awaited<ReturnType<typeof local.backend.generate>>;
    try {
      result = await local.backend.generate(
        {
          ...single,
          n: 1,
          ...(references.length > 0 ? { referenceImages: references.map((bytes) => ({ bytes })) } : {}),
        },
        { ...(local.account ? { account: local.account } : {}), onEvent, signal },
      );
    } catch (error) {
      if (signal.aborted) throw new CliError(EXIT.interrupted, "Interrupted.");
      throw error;
    }
    images.push(...result.images.filter((image) => !image.partial).map((image) => image.bytes));
  }
  return { images };
}
