import { existsSync } from "node:fs";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * The fake `codex` executable (plain JS, see its header for the scenario knobs). tsc does not copy it to
 * dist, so from compiled code it is found in the package's shipped `src/`.
 */
export const FAKE_CODEX_PATH: string =
  [
    new URL("./fake-codex/codex.mjs", import.meta.url),
    new URL("../../src/testing/fake-codex/codex.mjs", import.meta.url),
  ]
    .map((url) => fileURLToPath(url))
    .find((path) => existsSync(path)) ?? fileURLToPath(new URL("./fake-codex/codex.mjs", import.meta.url));

/** What the fake CLI should do that the fake backend cannot script. Read from `$CODEX_HOME/fake-codex-scenario.json`. */
export interface FakeCodexScenario {
  /** Never finish after `thread.started`. */
  hang?: boolean;
  /** Survive SIGTERM (only SIGKILL stops it). */
  ignoreSigterm?: boolean;
  /** Start a long-lived child in the same process group; its pid is in the `started` record. */
  spawnGrandchild?: boolean;
  /** `rollout-only`: like older CLIs, no generated_images file, the base64 image only in the rollout. */
  layout?: "current" | "rollout-only";
  /** Exit 1 with "You've hit your usage limit … try again at …" (the `/responses` 429). Unix seconds. */
  usageLimitExit?: { resetsAt: number };
  /** Write this image into generated_images/<thread>/ with an mtime `ageMs` in the past (default 1 h) instead of fetching. */
  staleImage?: { base64: string; ageMs?: number };
  /** The model replies with text only. */
  noImage?: boolean;
  /** Wait this long before fetching the image. */
  delayMs?: number;
}

/** One line of `$CODEX_HOME/fake-codex-runs.jsonl`. */
export interface FakeCodexRunRecord {
  event: "started" | "finished" | "sigterm";
  pid: number;
  threadId: string;
  /** Epoch ms. */
  time: number;
  argv?: string[];
  cwd?: string;
  /** The complete environment the fake saw (`started` only). */
  env?: Record<string, string>;
  grandchildPid?: number;
  exitCode?: number;
  ignored?: boolean;
}

export const FAKE_CODEX_SCENARIO_FILE = "fake-codex-scenario.json";
export const FAKE_CODEX_RUNS_FILE = "fake-codex-runs.jsonl";

/** Sets the scenario for every following fake run on this Codex home. */
export async function writeFakeCodexScenario(codexHome: string, scenario: FakeCodexScenario): Promise<void> {
  await writeFile(join(codexHome, FAKE_CODEX_SCENARIO_FILE), JSON.stringify(scenario));
}

/** Everything the fake recorded on this home, oldest first. */
export async function readFakeCodexRuns(codexHome: string): Promise<FakeCodexRunRecord[]> {
  const text = await readFile(join(codexHome, FAKE_CODEX_RUNS_FILE), "utf8").catch(() => "");
  return text
    .split("\n")
    .filter((line) => line.trim().length > 0)
    .map((line) => JSON.parse(line) as FakeCodexRunRecord);
}
