import type { JobEventView } from "../types.js";

export type ProgressMode = "tty" | "plain" | "quiet";

export interface Progress {
  /** A new state of the work: `queued`, `running`, `downloading`, …; `detail` says more. */
  update(state: string, detail?: string): void;
  /** A line that must stay visible (a warning), above the bar on a terminal; shown even when quiet. */
  note(message: string): void;
  /** Clears the bar. */
  stop(): void;
}

/** Rough completion per state: the server reports stages, not percentages. */
const STAGE_PERCENT: Record<string, number> = {
  connecting: 2,
  queued: 8,
  running: 20,
  sent: 30,
  generating: 55,
  receiving: 80,
  retrying: 20,
  downloading: 92,
  saving: 97,
};

const BAR_WIDTH = 20;

/**
 * Progress on stderr: a redrawn bar with state and elapsed time on a terminal, one plain line per change
 * otherwise (logs and agents' transcripts stay readable), nothing with `--quiet`.
 */
export function createProgress(
  stream: { write(text: string): unknown },
  mode: ProgressMode,
  now: () => number = Date.now,
): Progress {
  const started = now();
  let state = "connecting";
  let detail: string | undefined;
  let lastPlain = "";
  let timer: ReturnType<typeof setInterval> | undefined;
  const elapsed = (): string => `${Math.round((now() - started) / 1000)}s`;

  const draw = (): void => {
    const percent = STAGE_PERCENT[detail ?? ""] ?? STAGE_PERCENT[state] ?? 10;
    const filled = Math.round((percent / 100) * BAR_WIDTH);
    const bar = `${"█".repeat(filled)}${"░".repeat(BAR_WIDTH - filled)}`;
    stream.write(`\r\x1b[2K[${bar}] ${state}${detail ? ` · ${detail}` : ""} · ${elapsed()}`);
  };

  return {
    update(nextState, nextDetail) {
      state = nextState;
      detail = nextDetail;
      if (mode === "quiet") return;
      if (mode === "tty") {
        // Elapsed time keeps moving while a stage lasts long (a queue, a 40 s generation).
        timer ??= setInterval(draw, 500);
        timer.unref?.();
        draw();
        return;
      }
      const line = `${state}${detail ? ` (${detail})` : ""}`;
      if (line === lastPlain) return;
      lastPlain = line;
      stream.write(`codex-img: ${line} after ${elapsed()}\n`);
    },
    note(message) {
      // Warnings are not progress: --quiet keeps them.
      if (mode === "tty") stream.write("\r\x1b[2K");
      stream.write(`codex-img: ${message}\n`);
      if (mode === "tty" && timer) draw();
    },
    stop() {
      if (timer) clearInterval(timer);
      timer = undefined;
      if (mode === "tty") stream.write("\r\x1b[2K");
    },
  };
}

/** What a server job event means for the user. */
export function describeEvent(event: JobEventView): [state: string, detail?: string] {
  switch (event.type) {
    case "queued":
      return ["queued", "waiting for a free account"];
    case "started":
      return ["running", `attempt ${event.attempt}`];
    case "progress":
      return ["running", event.stage];
    case "partial_image":
      return ["running", `partial image ${event.index + 1}`];
    case "attempt_failed":
      return event.will_retry ? ["retrying", event.error.code] : ["failed", event.error.code];
    case "succeeded":
      return ["downloading"];
    case "failed":
      return ["failed", event.error.code];
    case "canceled":
      return ["canceled"];
  }
}
