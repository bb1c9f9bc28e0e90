import { spawn } from "node:child_process";
import type { Clock } from "../../clock.js";
import type { Logger } from "../../logger.js";

export interface CliProcessOptions {
  command: string;
  args: string[];
  env: Record<string, string>;
  cwd: string;
  /** Total time before SIGTERM. */
  timeoutMs: number;
  /** Time between SIGTERM and SIGKILL. */
  killGraceMs: number;
  clock: Clock;
  logger: Logger;
  signal?: AbortSignal;
  /** Each complete stdout line as it arrives (JSONL events). */
  onStdoutLine?: (line: string) => void;
  onSpawn?: (pid: number) => void;
}

export interface CliProcessResult {
  stdout: string;
  stderr: string;
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  pid?: number;
  timedOut: boolean;
  aborted: boolean;
  /** Set when the executable could not be started (ENOENT, EACCES). */
  spawnError?: NodeJS.ErrnoException;
  /** True when SIGKILL had to follow SIGTERM. */
  killed: boolean;
}

/** Output kept per stream; the CLI's JSONL has no images, so this only guards against a runaway agent. */
const MAX_OUTPUT_CHARS = 4 * 1024 * 1024;
/** How long to wait for stdio to close after the process exited (a stray grandchild may hold it). */
const CLOSE_WAIT_MS = 2_000;

/**
 * Runs one process in its own process group and always leaves nothing behind. On timeout or abort the
 * whole group gets SIGTERM, then SIGKILL after `killGraceMs`: the CLI may be writing a rotated
 * auth.json when asked to stop, and a half-written login costs the account.
 */
export function runCliProcess(options: CliProcessOptions): Promise<CliProcessResult> {
  return new Promise((resolve) => {
    const { clock, logger } = options;
    let stdout = "";
    let stderr = "";
    let pending = "";
    let timedOut = false;
    let aborted = false;
    let killed = false;
    let terminating = false;
    let settled = false;
    const cancels: Array<() => void> = [];

    const child = spawn(options.command, options.args, {
      cwd: options.cwd,
      env: options.env,
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
    });
    const pid = child.pid;

    const signalGroup = (sig: NodeJS.Signals): void => {
      if (pid === undefined) return;
      try {
        process.kill(-pid, sig);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "ESRCH") {
          logger.warn("codex-cli: could not signal the process group", { pid, signal: sig, error });
          child.kill(sig);
        }
      }
    };

    const terminate = (reason: "timeout" | "abort"): void => {
      if (terminating || child.exitCode !== null || child.signalCode !== null) return;
      terminating = true;
      if (reason === "timeout") timedOut = true;
      else aborted = true;
      logger.warn("codex-cli: stopping codex exec", { pid, reason, killGraceMs: options.killGraceMs });
      signalGroup("SIGTERM");
      cancels.push(
        clock.setTimeout(() => {
          if (child.exitCode !== null || child.signalCode !== null) return;
          killed = true;
          logger.warn("codex-cli: codex exec ignored SIGTERM, sending SIGKILL", { pid });
          signalGroup("SIGKILL");
        }, options.killGraceMs),
      );
    };

    const finish = (extra: Partial<CliProcessResult> = {}): void => {
      if (settled) return;
      settled = true;
      for (const cancel of cancels) cancel();
      options.signal?.removeEventListener("abort", onAbort);
      if (pending) options.onStdoutLine?.(pending);
      resolve({
        stdout,
        stderr,
        exitCode: child.exitCode,
        signal: child.signalCode,
        ...(pid === undefined ? {} : { pid }),
        timedOut,
        aborted,
        killed,
        ...extra,
      });
    };

    const onAbort = (): void => terminate("abort");

    child.stdout.setEncoding("utf8");
    child.stderr.setEncoding("utf8");
    child.stdout.on("data", (chunk: string) => {
      if (stdout.length < MAX_OUTPUT_CHARS) stdout += chunk;
      pending += chunk;
      const lines = pending.split("\n");
      pending = lines.pop() ?? "";
      for (const line of lines) options.onStdoutLine?.(line);
    });
    child.stderr.on("data", (chunk: string) => {
      stderr += chunk;
      if (stderr.length > MAX_OUTPUT_CHARS) stderr = stderr.slice(-MAX_OUTPUT_CHARS);
    });

    child.on("error", (error: NodeJS.ErrnoException) => {
      // Only a failed spawn leaves no pid; other errors (a failed kill) are logged and ignored.
      if (pid === undefined) finish({ spawnError: error });
      else logger.warn("codex-cli: child process error", { pid, error });
    });
    child.on("exit", () => {
      // The agent may have left processes in the group (a read-only sandbox still runs commands).
      signalGroup("SIGKILL");
      cancels.push(
        clock.setTimeout(() => {
          child.stdout.destroy();
          child.stderr.destroy();
          finish();
        }, CLOSE_WAIT_MS),
      );
    });
    child.on("close", () => finish());

    if (pid === undefined) return;
    options.onSpawn?.(pid);
    cancels.push(clock.setTimeout(() => terminate("timeout"), options.timeoutMs));
    if (options.signal?.aborted) terminate("abort");
    else options.signal?.addEventListener("abort", onAbort, { once: true });
  });
}
