import { rm, unlink } from "node:fs/promises";
import type { Logger } from "../../logger.js";
import { findRollouts, generatedImagesDir } from "./find-cli-images.js";

export interface CleanupCliRunOptions {
  codexHome: string;
  /** Undefined when the CLI died before it named a thread: then only the work folder goes. */
  threadId?: string;
  startedAt: number;
  endedAt: number;
  workDir: string;
  logger: Logger;
}

/**
 * Deletes what one run left behind: its session rollout (it embeds the full base64 image; one
 * deployment grew to 23 GB), its generated_images folder and its work folder. Only this thread's
 * files: rollouts of the owner's own Codex sessions in the same home are none of our business.
 */
export async function cleanupCliRun(options: CleanupCliRunOptions): Promise<void> {
  const { logger } = options;
  if (options.threadId) {
    const rollouts = await findRollouts({
      codexHome: options.codexHome,
      threadId: options.threadId,
      startedAt: options.startedAt,
      endedAt: options.endedAt,
    });
    for (const rollout of rollouts) {
      await unlink(rollout).catch((error: unknown) =>
        logger.warn("codex-cli: could not delete a session rollout", { path: rollout, error }),
      );
    }
    await rm(generatedImagesDir(options.codexHome, options.threadId), { recursive: true, force: true }).catch(
      (error: unknown) => logger.warn("codex-cli: could not delete generated images", { error }),
    );
  }
  await rm(options.workDir, { recursive: true, force: true }).catch((error: unknown) =>
    logger.warn("codex-cli: could not delete the work folder", { path: options.workDir, error }),
  );
}
