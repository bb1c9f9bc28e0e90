import {
  type Clock,
  createDemoBackend,
  createFileImageStore,
  createJobQueue,
  createRunner,
} from "@codex-img/core";
import { createLibsqlJobStore, type Database } from "@codex-img/db";

/**
 * The engine as the server builds it, on a test database: file image store in `imagesDir`, the libSQL
 * queue driven by `clock` (no timers: tests call `runner.runOnce()`), and the demo backend.
 */
export function createDemoEngine(database: Database, imagesDir: string, clock: Clock) {
  const images = createFileImageStore({ dir: imagesDir });
  const queue = createJobQueue({
    store: createLibsqlJobStore(database),
    clock,
    heartbeatIntervalMs: 0,
    pollIntervalMs: 0,
  });
  const runner = createRunner({ queue, backend: createDemoBackend(), images, clock });
  return { images, queue, runner };
}
