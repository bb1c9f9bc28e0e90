import { randomBytes } from "node:crypto";
import { basename, extname } from "node:path";
import { CodexImgError } from "../../errors.js";
import { bytesToBase64, sniffImage } from "../../image/index.js";
import { redactSecrets } from "../../redact.js";
import type { BackendResult, GeneratedImage, ImageFormat, ImageRequest } from "../../types.js";
import { buildCliPrompt } from "./build-cli-prompt.js";
import { buildExecArgs } from "./build-exec-args.js";
import { detectCliFailure, withRunDetails } from "./detect-cli-failure.js";
import { findCliImages } from "./find-cli-images.js";
import type { CliProcessResult } from "./run-cli-process.js";
import { type CliRun, withCliRun } from "./with-cli-run.js";
import { writeCliImages } from "./write-cli-images.js";

/** The hashes of earlier outputs, to catch a stale image returned as new. */
export interface CliOutputMemory {
  has(hash: string): boolean;
  remember(hash: string): void;
}

export interface CliImageRun extends CliRun {
  request: ImageRequest;
  outputs: CliOutputMemory;
}

const DIAGNOSTIC_CHARS = 16_000;

/**
 * One image through `codex exec` in a fresh work folder (upstream.md §5). Success is decided by the image
 * file the CLI writes, never by its exit code; failures are read from its output.
 */
export async function runCliImage(run: CliImageRun): Promise<BackendResult> {
  const { options, request, home, generateOptions, logger, clock, timeoutMs } = run;
  const { onEvent } = generateOptions;
  const account = generateOptions.account?.label;
  return withCliRun<BackendResult>(
    run,
    "run-",
    async (workDir) => {
      const referencePaths = await writeCliImages(workDir, "reference", referencesOf(request));
      const prompt = buildCliPrompt(request, referencePaths, randomBytes(8).toString("hex"));
      logger.info("codex-cli: starting codex exec", { account, workDir, references: referencePaths.length });
      return buildExecArgs(options, {
        sandbox: options.sandbox ?? "read-only",
        workDir,
        ephemeral: run.ephemeral,
        model: options.model,
        files: referencePaths,
        prompt: prompt.text,
      });
    },
    async ({ result, events, threadId, startedAt, endedAt }) => {
      const diagnostics = buildDiagnostics(result, threadId);
      logger.info("codex-cli: codex exec finished", {
        account,
        threadId,
        exitCode: result.exitCode,
        signal: result.signal,
        timedOut: result.timedOut,
        ms: endedAt - startedAt,
      });
      const candidates = threadId
        ? await findCliImages({ codexHome: home, threadId, startedAt, endedAt })
        : [];
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
    },
  );
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
