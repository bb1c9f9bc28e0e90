import { resolve } from "node:path";
import { CodexImgError, toCodexImgError } from "../../errors.js";
import type { GenerateOptions } from "../../types.js";
import { authLockPath, readCodexLogin } from "../codex-home.js";
import { acquireFileLock } from "../file-lock.js";
import { withHomeTurn } from "./home-run-queue.js";

export interface CodexHomeTurn {
  /** Codex home used when the call brings no `account.codexHome`. */
  defaultCodexHome: string | undefined;
  /** How long to wait for another process's run or refresh on the same home, ms. */
  lockWaitTimeoutMs: number;
  generateOptions: GenerateOptions;
}

/**
 * Runs `work` holding the home: one run per Codex home at a time, in this process and across processes
 * (the lock file next to auth.json), after refreshing the login through our own locked path.
 */
export async function withCodexHome<T>(turn: CodexHomeTurn, work: (home: string) => Promise<T>): Promise<T> {
  const { generateOptions } = turn;
  const home = generateOptions.account?.codexHome ?? turn.defaultCodexHome;
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
          waitTimeoutMs: turn.lockWaitTimeoutMs,
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
}
