import { CodexImgError } from "@codex-img/core";
import type { SettingKey } from "./settings.js";

/** One thing wrong with the configuration, named the way the owner wrote it. Never holds a value. */
export interface ConfigProblem {
  /** The setting, when the problem belongs to one. */
  setting?: SettingKey;
  /** The flag, variable or file key the owner used (`--port`, `CODEX_WORKER_CONCURRENCY`, …). */
  name: string;
  message: string;
}

/** All problems in one error, so that the owner fixes them in one round instead of one per start. */
export function configError(problems: readonly ConfigProblem[]): CodexImgError {
  const count = problems.length === 1 ? "1 problem" : `${problems.length} problems`;
  const lines = problems.map((problem) => `  - ${problem.name}: ${problem.message}`);
  return new CodexImgError("invalid_request", `Invalid configuration (${count}):\n${lines.join("\n")}`, {
    details: { param: problems[0]?.name, problems: problems.map((problem) => ({ ...problem })) },
  });
}
