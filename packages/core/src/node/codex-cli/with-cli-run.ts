import { mkdir, mkdtemp } from "node:fs/promises";
import { join } from "node:path";
import type { Clock } from "../../clock.js";
import { CodexImgError } from "../../errors.js";
import type { Logger } from "../../logger.js";
import type { GenerateOptions } from "../../types.js";
import { cleanupCliRun } from "./cleanup-cli-run.js";
import type { CodexCliBackendOptions } from "./codex-cli-options.js";
import { execCodex } from "./exec-codex.js";
import { type CliEvents, findSessionIdInStderr, parseCliEvents } from "./parse-cli-events.js";
import type { CliProcessResult } from "./run-cli-process.js";

/** What every `codex exec` run of the backend needs, image or vision alike. */
export interface CliRun {
  options: CodexCliBackendOptions;
  ephemeral: boolean;
  /** The account's Codex home, held by the caller (`withCodexHome`). */
  home: string;
  generateOptions: GenerateOptions;
  workRoot: string;
  timeoutMs: number;
  killGraceMs: number;
  clock: Clock;
  logger: Logger;
}

/** A finished `codex exec`: its output, read events and thread id. */
export interface CliRunOutcome {
  result: CliProcessResult;
  events: CliEvents;
  threadId: string | undefined;
  startedAt: number;
  endedAt: number;
}

/**
 * One `codex exec` in a fresh work folder under `workRoot`: `prepare` writes its inputs there and returns
 * the arguments, `finish` reads the outcome. A canceled run is `canceled`. The run's rollout, images and
 * work folder are removed afterwards whatever happened (`cleanupCliRun`).
 */
export async function withCliRun<T>(
  run: CliRun,
  folderPrefix: string,
  prepare: (workDir: string) => Promise<string[]>,
  finish: (outcome: CliRunOutcome) => Promise<T>,
): Promise<T> {
  await mkdir(run.workRoot, { recursive: true, mode: 0o700 });
  const workDir = await mkdtemp(join(run.workRoot, folderPrefix));
  const startedAt = Date.now();
  let endedAt = startedAt;
  let threadId: string | undefined;
  try {
    const args = await prepare(workDir);
    run.generateOptions.onEvent?.({ type: "route", route: "cli" });
    const result = await execCodex(run.options, {
      args,
      home: run.home,
      workDir,
      timeoutMs: run.timeoutMs,
      killGraceMs: run.killGraceMs,
      clock: run.clock,
      logger: run.logger,
      generateOptions: run.generateOptions,
    });
    endedAt = Date.now();
    const events = parseCliEvents(result.stdout);
    threadId = events.threadId ?? findSessionIdInStderr(result.stderr);
    if (result.aborted) {
      throw new CodexImgError("canceled", "The request was canceled; codex exec was stopped.");
    }
    return await finish({ result, events, threadId, startedAt, endedAt });
  } finally {
    await cleanupCliRun({
      codexHome: run.home,
      ...(threadId ? { threadId } : {}),
      startedAt,
      endedAt,
      workDir,
      logger: run.logger,
    });
  }
}
