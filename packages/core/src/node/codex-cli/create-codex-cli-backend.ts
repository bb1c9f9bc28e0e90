import { randomBytes } from "node:crypto";
import { mkdir, mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, extname, join, resolve } from "node:path";
import { compareSemver } from "../../backends/codex-http/compare-semver.js";
import { type Clock, systemClock } from "../../clock.js";
import { CodexImgError, toCodexImgError } from "../../errors.js";
import { bytesToBase64, sniffImage } from "../../image/index.js";
import { type Logger, silentLogger } from "../../logger.js";
import { redactSecrets } from "../../redact.js";
import { normalizeVisionRequest } from "../../request.js";
import type {
  BackendResult,
  GeneratedImage,
  GenerateOptions,
  ImageBackend,
  ImageFormat,
  ImageRequest,
  VisionRequest,
  VisionResult,
} from "../../types.js";
import { authLockPath, readCodexLogin } from "../codex-home.js";
import { readInstalledCodexVersion } from "../codex-version.js";
import { acquireFileLock } from "../file-lock.js";
import { basicChildEnv } from "./build-child-env.js";
import { buildCliPrompt } from "./build-cli-prompt.js";
import { cleanupCliRun } from "./cleanup-cli-run.js";
import { detectCliFailure, withRunDetails } from "./detect-cli-failure.js";
import { execCodex } from "./exec-codex.js";
import { findCliImages } from "./find-cli-images.js";
import { withHomeTurn } from "./home-run-queue.js";
import { findSessionIdInStderr, parseCliEvents } from "./parse-cli-events.js";
import type { CliProcessResult } from "./run-cli-process.js";
import { runCliVision } from "./run-cli-vision.js";

/**
 * `read-only`: `-s read-only`, the default. `bypass`: `--dangerously-bypass-approvals-and-sandbox`, only
 * for containers where the Linux sandbox cannot start and the container itself is the sandbox.
 */
export type CodexCliSandbox = "read-only" | "bypass";

export interface CodexCliBackendOptions {
  /** The `codex` executable. Default `codex`, looked up on PATH. */
  codexPath?: string;
  /** Default `read-only`. */
  sandbox?: CodexCliSandbox;
  /** Wall time per run before SIGTERM, ms. Default 360 000. */
  timeoutMs?: number;
  /** Time between SIGTERM and SIGKILL, ms. Default 10 000 (the CLI may be writing a rotated auth.json). */
  killGraceMs?: number;
  /** Parent of the fresh per-run work folders (`-C`). Default `<os tmp>/codex-img-cli`. */
  workRoot?: string;
  /** The agent's model (`-m`). Default: the CLI's own default. */
  model?: string;
  /**
   * Pass `--ephemeral`: the CLI writes no session rollout and (0.169.0) no thread history into its sqlite
   * state, which otherwise grows by every image's base64 in the Codex home, but still saves the image
   * under generated_images. Default `"auto"`: on when `codex --version` says `EPHEMERAL_CLI_VERSION` or
   * newer (checked once), off for older CLIs, which record the image only in the rollout.
   */
  ephemeral?: boolean | "auto";
  /** Extra `-c key=value` overrides, e.g. `chatgpt_base_url` / `openai_base_url` for tests. Strings become TOML strings. */
  config?: Record<string, string | number | boolean>;
  /** Extra environment variable names to pass from `parentEnv` to the child (proxies, for example). */
  envAllowList?: readonly string[];
  /** Where PATH, HOME, LANG… are copied from. Default `process.env`; nothing else of it reaches the child. */
  parentEnv?: Record<string, string | undefined>;
  /** PEM file given to the child as `CODEX_CA_CERTIFICATE` (the throwaway CA of the loopback fake). */
  caCertificatePath?: string;
  /** `CODEX_REFRESH_TOKEN_URL_OVERRIDE` for the child. */
  refreshTokenUrl?: string;
  /** Codex home used when a call brings no `account.codexHome`. */
  defaultCodexHome?: string;
  /** How long to wait for another process's run or refresh on the same home, ms. Default timeout + grace + 30 s. */
  lockWaitTimeoutMs?: number;
  /** Times the run's timeout and kill grace. Default the system clock. */
  clock?: Clock;
  logger?: Logger;
}

const DEFAULT_TIMEOUT_MS = 360_000;
const DEFAULT_KILL_GRACE_MS = 10_000;
const MAX_PROMPT_CHARS = 32_000;
const MAX_REFERENCES = 16;
/** Hashes of earlier outputs kept to catch a stale image returned as new. */
const REMEMBERED_OUTPUTS = 2_048;
const DIAGNOSTIC_CHARS = 16_000;

/**
 * An image backend that runs the official `codex exec` once per image (upstream.md §5). Success is
 * decided by the image file the CLI writes, never by its exit code; failures are read from its output.
 */
export function createCodexCliBackend(
  options: CodexCliBackendOptions = {},
): ImageBackend & Required<Pick<ImageBackend, "describe">> {
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? silentLogger;
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const killGraceMs = options.killGraceMs ?? DEFAULT_KILL_GRACE_MS;
  const lockWaitTimeoutMs = options.lockWaitTimeoutMs ?? timeoutMs + killGraceMs + 30_000;
  const workRoot = options.workRoot ?? join(tmpdir(), "codex-img-cli");
  const seenOutputs = new Set<string>();

  const remember = (hash: string): void => {
    seenOutputs.add(hash);
    if (seenOutputs.size > REMEMBERED_OUTPUTS) {
      const oldest = seenOutputs.values().next().value;
      if (oldest !== undefined) seenOutputs.delete(oldest);
    }
  };

  let ephemeralDecision: Promise<boolean> | undefined;
  const useEphemeral = (): Promise<boolean> => {
    ephemeralDecision ??= (async () => {
      const setting = options.ephemeral ?? "auto";
      if (setting !== "auto") return setting;
      const version = await readInstalledCodexVersion(
        options.codexPath ?? "codex",
        5_000,
        basicChildEnv(options.parentEnv ?? process.env, options.envAllowList),
      );
      const on = version !== undefined && compareSemver(version, EPHEMERAL_CLI_VERSION) >= 0;
      logger.info("codex-cli: --ephemeral", { on, cliVersion: version ?? "unknown" });
      return on;
    })();
    return ephemeralDecision;
  };

  const runOnce = async (
    request: ImageRequest,
    home: string,
    generateOptions: GenerateOptions,
  ): Promise<BackendResult> => {
    const { onEvent } = generateOptions;
    const account = generateOptions.account?.label;
    await mkdir(workRoot, { recursive: true, mode: 0o700 });
    const workDir = await mkdtemp(join(workRoot, "run-"));
    const startedAt = Date.now();
    let endedAt = startedAt;
    let threadId: string | undefined;
    try {
      const referencePaths = await writeReferences(request, workDir);
      const prompt = buildCliPrompt(request, referencePaths, randomBytes(8).toString("hex"));
      const args = buildArgs(options, await useEphemeral(), workDir, referencePaths, prompt.text);
      onEvent?.({ type: "route", route: "cli" });
      logger.info("codex-cli: starting codex exec", { account, workDir, references: referencePaths.length });

      const run = await execCodex(options, {
        args,
        home,
        workDir,
        timeoutMs,
        killGraceMs,
        clock,
        logger,
        generateOptions,
      });
      endedAt = Date.now();
      const events = parseCliEvents(run.stdout);
      threadId = events.threadId ?? findSessionIdInStderr(run.stderr);
      const diagnostics = buildDiagnostics(run, threadId);
      logger.info("codex-cli: codex exec finished", {
        account,
        threadId,
        exitCode: run.exitCode,
        signal: run.signal,
        timedOut: run.timedOut,
        aborted: run.aborted,
        ms: endedAt - startedAt,
      });

      if (run.aborted)
        throw new CodexImgError("canceled", "The request was canceled; codex exec was stopped.");

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
        if (seenOutputs.has(hash) || hashes.includes(hash)) {
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
        for (const hash of hashes) remember(hash);
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
            : run.timedOut
              ? new CodexImgError(
                  "upstream_timeout",
                  `codex exec did not finish within ${Math.round(timeoutMs / 1000)} s and was stopped${run.killed ? " (SIGKILL after SIGTERM)" : ""}.`,
                )
              : detectCliFailure({ ...run, events, now: clock.now(), ...(account ? { account } : {}) });
      throw withRunDetails(failure, { account, threadId, exitCode: run.exitCode, stderr: run.stderr });
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
  };

  /**
   * Runs `work` holding the home: one run per Codex home at a time, in this process and across processes
   * (the lock file next to auth.json), after refreshing the login through our own locked path.
   */
  const withHome = async <T>(
    generateOptions: GenerateOptions,
    work: (home: string) => Promise<T>,
  ): Promise<T> => {
    const home = generateOptions.account?.codexHome ?? options.defaultCodexHome;
    if (!home) {
      throw new CodexImgError(
        "backend_unavailable",
        "The codex-cli backend needs a Codex home: pass account.codexHome or set defaultCodexHome.",
      );
    }
    const { signal } = generateOptions;
    if (signal?.aborted) throw new CodexImgError("canceled", "The request was canceled.");
    try {
      return await withHomeTurn(
        home,
        async () => {
          // Refresh through our own locked path first, so the CLI finds a fresh token and does not rotate it itself.
          await generateOptions.account?.credentials?.get(signal);
          await readCodexLogin(home);
          const lock = await acquireFileLock(authLockPath(home), {
            waitTimeoutMs: lockWaitTimeoutMs,
            ...(signal ? { signal } : {}),
          });
          try {
            return await work(resolve(home));
          } finally {
            await lock.release();
          }
        },
        signal,
      );
    } catch (error) {
      if (signal?.aborted && !(error instanceof CodexImgError && error.code === "canceled")) {
        throw new CodexImgError("canceled", "The request was canceled.", { cause: error });
      }
      throw toCodexImgError(error);
    }
  };

  return {
    kind: "codex-cli",
    generate(request: ImageRequest, generateOptions: GenerateOptions = {}): Promise<BackendResult> {
      validateRequest(request);
      return withHome(generateOptions, (home) => runOnce(request, home, generateOptions));
    },
    async describe(request: VisionRequest, generateOptions: GenerateOptions = {}): Promise<VisionResult> {
      const normalized = normalizeVisionRequest(request);
      const ephemeral = await useEphemeral();
      return withHome(generateOptions, (home) =>
        runCliVision({
          options,
          ephemeral,
          home,
          request: normalized,
          generateOptions,
          workRoot,
          timeoutMs,
          killGraceMs,
          clock,
          logger,
        }),
      );
    },
  };
}

function validateRequest(request: ImageRequest): void {
  const prompt = request.prompt?.trim() ?? "";
  if (prompt.length === 0) {
    throw new CodexImgError("invalid_request", "The prompt is empty.", { details: { param: "prompt" } });
  }
  if (request.prompt.length > MAX_PROMPT_CHARS) {
    throw new CodexImgError("invalid_request", `The prompt is longer than ${MAX_PROMPT_CHARS} characters.`, {
      details: { param: "prompt" },
    });
  }
  if ((request.referenceImages?.length ?? 0) > MAX_REFERENCES) {
    throw new CodexImgError("invalid_request", `At most ${MAX_REFERENCES} reference images are allowed.`, {
      details: { param: "referenceImages" },
    });
  }
}

const EXTENSIONS: Record<ImageFormat, string> = { png: "png", jpeg: "jpg", webp: "webp" };

/** Writes the references into the work folder, named by the format read from their bytes. */
async function writeReferences(request: ImageRequest, workDir: string): Promise<string[]> {
  const paths: string[] = [];
  for (const [index, reference] of (request.referenceImages ?? []).entries()) {
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
    const path = join(workDir, `reference-${index + 1}.${EXTENSIONS[info.format]}`);
    await writeFile(path, reference.bytes, { mode: 0o600 });
    paths.push(path);
  }
  return paths;
}

/** The first CLI seen to keep the image under generated_images with `--ephemeral` (docs/testing.md). */
export const EPHEMERAL_CLI_VERSION = "0.169.0";

function buildArgs(
  options: CodexCliBackendOptions,
  ephemeral: boolean,
  workDir: string,
  references: string[],
  prompt: string,
): string[] {
  const args = ["exec", "--skip-git-repo-check"];
  if (options.sandbox === "bypass") args.push("--dangerously-bypass-approvals-and-sandbox");
  else args.push("-s", "read-only");
  args.push("-C", workDir, "--json");
  if (ephemeral) args.push("--ephemeral");
  if (options.model) args.push("-m", options.model);
  for (const [key, value] of Object.entries(options.config ?? {})) {
    args.push("-c", `${key}=${typeof value === "string" ? JSON.stringify(value) : String(value)}`);
  }
  for (const path of references) args.push("-i", path);
  // `-i` takes several values: `--` ends them so the prompt is never read as a file.
  args.push("--", prompt);
  return args;
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
