import { tmpdir } from "node:os";
import { join } from "node:path";
import { compareSemver } from "../../backends/codex-http/compare-semver.js";
import { systemClock } from "../../clock.js";
import { CodexImgError } from "../../errors.js";
import { silentLogger } from "../../logger.js";
import { normalizeVisionRequest } from "../../request.js";
import type {
  BackendResult,
  GenerateOptions,
  ImageBackend,
  ImageRequest,
  VisionRequest,
  VisionResult,
} from "../../types.js";
import { readInstalledCodexVersion } from "../codex-version.js";
import { basicChildEnv } from "./build-child-env.js";
import { type CodexCliBackendOptions, EPHEMERAL_CLI_VERSION } from "./codex-cli-options.js";
import { type CliOutputMemory, runCliImage } from "./run-cli-image.js";
import { runCliVision } from "./run-cli-vision.js";
import { withCodexHome } from "./with-codex-home.js";

const DEFAULT_TIMEOUT_MS = 360_000;
const DEFAULT_KILL_GRACE_MS = 10_000;
const MAX_PROMPT_CHARS = 32_000;
const MAX_REFERENCES = 16;
/** Hashes of earlier outputs kept to catch a stale image returned as new. */
const REMEMBERED_OUTPUTS = 2_048;

/**
 * An image backend that runs the official `codex exec` once per image (upstream.md §5), one run per
 * Codex home at a time (`withCodexHome`); images through `runCliImage`, questions about images through
 * `runCliVision`.
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
  const outputs: CliOutputMemory = {
    has: (hash) => seenOutputs.has(hash),
    remember(hash) {
      seenOutputs.add(hash);
      if (seenOutputs.size > REMEMBERED_OUTPUTS) {
        const oldest = seenOutputs.values().next().value;
        if (oldest !== undefined) seenOutputs.delete(oldest);
      }
    },
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

  const homeTurn = (generateOptions: GenerateOptions) => ({
    defaultCodexHome: options.defaultCodexHome,
    lockWaitTimeoutMs,
    generateOptions,
  });
  const runParts = { options, workRoot, timeoutMs, killGraceMs, clock, logger };

  return {
    kind: "codex-cli",
    generate(request: ImageRequest, generateOptions: GenerateOptions = {}): Promise<BackendResult> {
      validateRequest(request);
      return withCodexHome(homeTurn(generateOptions), async (home) =>
        runCliImage({
          ...runParts,
          ephemeral: await useEphemeral(),
          home,
          request,
          generateOptions,
          outputs,
        }),
      );
    },
    async describe(request: VisionRequest, generateOptions: GenerateOptions = {}): Promise<VisionResult> {
      const normalized = normalizeVisionRequest(request);
      const ephemeral = await useEphemeral();
      return withCodexHome(homeTurn(generateOptions), (home) =>
        runCliVision({ ...runParts, ephemeral, home, request: normalized, generateOptions }),
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
