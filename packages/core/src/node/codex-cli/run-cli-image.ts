import { randomBytes } from "node:crypto";
import { mkdir, mkdtemp } from "node:fs/promises";
import { basename, extname, join } from "node:path";
import type { Clock } from "../../clock.js";
import { CodexImgError } from "../../errors.js";
import { bytesToBase64, sniffImage } from "../../image/index.js";
import type { Logger } from "../../logger.js";
import { redactSecrets } from "../../redact.js";
import type {
  BackendResult,
  GeneratedImage,
  GenerateOptions,
  ImageFormat,
  ImageRequest,
} from "../../types.js";
import { buildCliPrompt } from "./build-cli-prompt.js";
import { buildExecArgs } from "./build-exec-args.js";
import { cleanupCliRun } from "./cleanup-cli-run.js";
import type { CodexCliBackendOptions } from "./codex-cli-options.js";
import { detectCliFailure, withRunDetails } from "./detect-cli-failure.js";
import { execCodex } from "./exec-codex.js";
import { findCliImages } from "./find-cli-images.js";
import { findSessionIdInStderr, parseCliEvents } from "./parse-cli-events.js";
import type { CliProcessResult } from "./run-cli-process.js";
import { writeCliImages } from "./write-cli-images.js";

/** The hashes of earlier outputs, to catch a stale image returned as new. */
export interface CliOutputMemory {
  has(hash: string): boolean;
  remember(hash: string): void;
}

export interface CliImageRun {
  options: CodexCliBackendOptions;
  ephemeral: boolean;
  home: string;
  request: ImageRequest;
  generateOptions: GenerateOptions;
  workRoot: string;
  timeoutMs: number;
  killGraceMs: number;
  clock: Clock;
  logger: Logger;
  outputs: CliOutputMemory;
}

const DIAGNOSTIC_CHARS = 16_000;

/**
 * One image through `codex exec` in a fresh work folder (upstream.md §5). Success is decided by the image
 * file the CLI writes, never by its exit code; failures are read from its output. The run's rollout,
 * images and work folder are removed whatever happens.
 */
export async function runCliImage(run: CliImageRun): Promise<BackendResult> {
  const { options, request, home, generateOptions, logger, clock, timeoutMs } = run;
  const { onEvent } = generateOptions;
  const account = generateOptions.account?.label;
  await mkdir(run.workRoot, { recursive: true, mode: 0o700 });
  const workDir = await mkdtemp(join(run.workRoot, "run-"));
  const startedAt = Date.now();
  let endedAt = startedAt;
  let threadId: string | undefined;
  try {
    const referencePaths = await writeCliImages(workDir, "reference", referencesOf(request));
    const prompt = buildCliPrompt(request, referencePaths, randomBytes(8).toString("hex"));
    const args = buildExecArgs(options, {
      sandbox: options.sandbox ?? "read-only",
      workDir,
      ephemeral: run.ephemeral,
      model: options.model,
      files: referencePaths,
      prompt: prompt.text,
    });
    onEvent?.({ type: "route", route: "cli" });
    logger.info("codex-cli: starting codex exec", { account, workDir, references: referencePaths.length });

    const result = await execCodex(options, {
      args,
      home,
      workDir,
      timeoutMs,
      killGraceMs: run.killGraceMs,
      clock,
      logger,
      generateOptions,
    });
    endedAt = Date.now();
    const events = parseCliEvents(result.stdout);
    threadId = events.threadId ?? findSessionIdInStderr(result.stderr);
    const diagnostics = buildDiagnostics(result, threadId);
    logger.info("codex-cli: codex exec finished", {
      account,
      threadId,
      exitCode: result.exitCode,
      signal: result.signal,
      timedOut: result.timedOut,
      aborted: result.aborted,
      ms: endedAt - startedAt,
    });

    if (result.aborted)
      throw new CodexImgError("canceled", "The request was canceled; codex exec was stopped.");

    const candidates = threadId ? await findCliImages({ codexHome: home, threadId, startedAt, endedAt }) : [];
    const images: GeneratedImage[] = [];
    const hashes: string[] = [];
    let duplicates = 0;
    let unreadable = 0;
    let callId: string | undefined;
    for (const candidate of candidates) {
      const info = sniffImage(candidate.bytes);
      if (!info) {
        unreadable++;
        continue;
      }
      const hash = await sha256(candidate.bytes);
      if (run.outputs.has(hash) || hashes.includes(hash)) {
        duplicates++;
        continue;
      }
      hashes.push(hash);
      callId ??= candidate.source.startsWith("rollout:")
        ? undefined
        : basename(candidate.source, extname(candidate.source));
      images.push({
        bytes: candidate.bytes,
        format: info.format,
        width: info.width,
        height: info.height,
        ...(candidate.revisedPrompt ? { revisedPrompt: candidate.revisedPrompt } : {}),
      });
    }

    if (images.length > 0) {
      for (const hash of hashes) run.outputs.remember(hash);
      onEvent?.({ type: "progress", stage: "receiving" });
      return {
        images,
        backend: "codex-cli",
        route: "cli",
        requested: { size: request.size ?? "auto", quality: request.quality ?? "auto", n: 1 },
        delivered: { outputFormat: images[0]?.format ?? "png" },
        upstreamIds: { ...(threadId ? { threadId } : {}), ...(callId ? { callId } : {}) },
        diagnostics,
      };
    }

    const failure =
      duplicates > 0
        ? new CodexImgError(
            "upstream_failed",
            "codex exec produced an image identical to an earlier output (a stale result); it was not used.",
            { retryable: true, details: { stale: true } },
          )
        : unreadable > 0
          ? new CodexImgError(
              "upstream_failed",
              "codex exec wrote a file that is not a PNG, JPEG or WebP image.",
            )
          : result.timedOut
            ? new CodexImgError(
                "upstream_timeout",
                `codex exec did not finish within ${Math.round(timeoutMs / 1000)} s and was stopped${result.killed ? " (SIGKILL after SIGTERM)" : ""}.`,
              )
            : detectCliFailure({ ...result, events, now: clock.now(), ...(account ? { account } : {}) });
    throw withRunDetails(failure, { account, threadId, exitCode: result.exitCode, stderr: result.stderr });
  } finally {
    await cleanupCliRun({
      codexHome: home,
      ...(threadId ? { threadId } : {}),
      startedAt,
      endedAt,
      workDir,
      logger,
    });
  }
}

/** The references with the format read from their bytes (that names their files). */
function referencesOf(request: ImageRequest): Array<{ bytes: Uint8Array; format: ImageFormat }> {
  return (request.referenceImages ?? []).map((reference, index) => {
    const info = sniffImage(reference.bytes);
    if (!info) {
      throw new CodexImgError(
        "invalid_request",
        `Reference image ${index + 1} is not a PNG, JPEG or WebP image.`,
        {
          details: { param: "referenceImages" },
        },
      );
    }
    return { bytes: reference.bytes, format: info.format };
  });
}

function buildDiagnostics(run: CliProcessResult, threadId: string | undefined): Record<string, string> {
  const tail = (text: string): string =>
    redactSecrets(text.length > DIAGNOSTIC_CHARS ? `…${text.slice(-DIAGNOSTIC_CHARS)}` : text);
  return {
    stdout: tail(run.stdout),
    stderr: tail(run.stderr),
    exitCode: String(run.exitCode),
    ...(run.signal ? { signal: run.signal } : {}),
    ...(threadId ? { threadId } : {}),
  };
}

async function sha256(bytes: Uint8Array): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>);
  return bytesToBase64(new Uint8Array(digest));
}
