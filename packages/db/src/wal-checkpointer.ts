import { Worker } from "node:worker_threads";

/** How often the background checkpointer copies the log into the database file. */
export const BACKGROUND_CHECKPOINT_INTERVAL_MS = 1_000;

/**
 * The log size (pages of 4 KiB) at which a connection still checkpoints on its own while the background
 * checkpointer runs: a safety net, reached only if it falls far behind (SQLite's default is 1,000).
 */
export const BACKSTOP_CHECKPOINT_PAGES = 10_000;

/** SQLite's own default: a committing connection checkpoints once the log passes this many pages. */
export const DEFAULT_CHECKPOINT_PAGES = 1_000;

export interface WalCheckpointer {
  /** Pages at which the database's connections should checkpoint on their own now. */
  autocheckpointPages(): number;
  stop(): Promise<void>;
}

/**
 * Checkpoints the database at `path` from a worker thread (`wal-checkpoint-worker.ts`), so its fsyncs
 * never hold the event loop; `onFallback` runs if the thread cannot start or fails, after which the
 * connections checkpoint on their own again (`autocheckpointPages` says how often). The thread does not
 * keep the process alive.
 */
export function startWalCheckpointer(
  path: string,
  onFallback: (reason: string) => void,
  intervalMs = BACKGROUND_CHECKPOINT_INTERVAL_MS,
): WalCheckpointer {
  let running = true;
  let worker: Worker | undefined;
  const fallBack = (reason: string): void => {
    if (!running) return;
    running = false;
    onFallback(reason);
  };
  try {
    worker = new Worker(workerEntry(), {
      workerData: { path, intervalMs },
    });
    worker.unref();
    worker.on("message", (message: { failed?: string }) => {
      if (message.failed) fallBack(message.failed);
    });
    worker.on("error", (error) => fallBack(error.message));
    worker.on("exit", () => fallBack("the checkpoint thread ended"));
  } catch (error) {
    fallBack(error instanceof Error ? error.message : String(error));
  }
  return {
    autocheckpointPages: () => (running ? BACKSTOP_CHECKPOINT_PAGES : DEFAULT_CHECKPOINT_PAGES),
    async stop() {
      const stopping = worker;
      worker = undefined;
      if (!stopping || !running) return;
      running = false;
      const exited = new Promise<void>((done) => stopping.once("exit", () => done()));
      stopping.postMessage("stop");
      // A checkpoint in progress finishes first; a thread that does not end soon is ended.
      const timer = setTimeout(() => void stopping.terminate(), 2_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/**
 * Where the worker's code is: the sibling of this module, TypeScript in the sources (Bun) and JavaScript
 * in the build (Node); in the single-file executable, the path its build embedded it under, which the
 * build writes into `CODEX_IMG_CHECKPOINT_WORKER` (scripts/release/compile-executables.ts).
 */
function workerEntry(): URL | string {
  const embedded = process.env.CODEX_IMG_CHECKPOINT_WORKER;
  if (embedded) return embedded;
  const extension = import.meta.url.endsWith(".ts") ? "ts" : "js";
  return new URL(`./wal-checkpoint-worker.${extension}`, import.meta.url);
}
