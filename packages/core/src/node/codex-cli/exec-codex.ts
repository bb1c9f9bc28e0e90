import type { Clock } from "../../clock.js";
import { CodexImgError } from "../../errors.js";
import type { Logger } from "../../logger.js";
import type { GenerateOptions } from "../../types.js";
import { buildChildEnv } from "./build-child-env.js";
import type { CodexCliBackendOptions } from "./codex-cli-options.js";
import { type CliProcessResult, runCliProcess } from "./run-cli-process.js";

export interface ExecCodexRun {
  args: string[];
  /** The account's Codex home: the child's only `CODEX_HOME`. */
  home: string;
  workDir: string;
  timeoutMs: number;
  killGraceMs: number;
  clock: Clock;
  logger: Logger;
  generateOptions: GenerateOptions;
}

/**
 * One `codex exec` in the clean environment of `buildChildEnv`, reporting `sent` when it spawns and
 * `generating` when the turn starts; shared by image and vision runs. A CLI that cannot be started is
 * `backend_unavailable`; every other outcome is the caller's to read from the result.
 */
export async function execCodex(
  options: CodexCliBackendOptions,
  run: ExecCodexRun,
): Promise<CliProcessResult> {
  const { signal, onEvent } = run.generateOptions;
  const account = run.generateOptions.account?.label;
  const command = options.codexPath ?? "codex";
  const result = await runCliProcess({
    command,
    args: run.args,
    env: buildChildEnv({
      parentEnv: options.parentEnv ?? process.env,
      codexHome: run.home,
      ...(options.envAllowList ? { allowList: options.envAllowList } : {}),
      ...(options.caCertificatePath ? { caCertificatePath: options.caCertificatePath } : {}),
      ...(options.refreshTokenUrl ? { refreshTokenUrl: options.refreshTokenUrl } : {}),
    }),
    cwd: run.workDir,
    timeoutMs: run.timeoutMs,
    killGraceMs: run.killGraceMs,
    clock: run.clock,
    logger: run.logger,
    ...(signal ? { signal } : {}),
    onSpawn: () => onEvent?.({ type: "progress", stage: "sent" }),
    onStdoutLine: (line) => {
      if (line.includes('"turn.started"')) onEvent?.({ type: "progress", stage: "generating" });
    },
  });
  if (result.spawnError) {
    throw new CodexImgError(
      "backend_unavailable",
      `Cannot run the Codex CLI (${command}): ${result.spawnError.code ?? result.spawnError.message}. Install @openai/codex or set codexPath.`,
      { cause: result.spawnError, details: { ...(account ? { account } : {}) } },
    );
  }
  return result;
}
