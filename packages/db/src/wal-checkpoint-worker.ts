/**
 * The body of the background checkpointer (`startWalCheckpointer`), run in a worker thread: a connection
 * of its own that copies the write-ahead log into the database file every `intervalMs`. A PASSIVE
 * checkpoint never blocks the writers (they go on appending to the log) and never waits for a lock: a
 * checkpoint another connection is running makes this one return at once, to be tried again next time.
 *
 * Its fsyncs (the log before copying, the database file after) are why it runs here: on ext4 an fsync
 * also writes out the dirty pages of the image files written meanwhile, and one on the event loop held
 * every request for up to 130 ms (docs/performance.md).
 */
import { parentPort, workerData } from "node:worker_threads";
import Database from "libsql";

const { path, intervalMs } = workerData as { path: string; intervalMs: number };
const db = new Database(path, { timeout: 0 });
// As the server's connections: the log is synced before it is copied, the database file after.
db.exec("PRAGMA synchronous = NORMAL");
const checkpoint = db.prepare("PRAGMA wal_checkpoint(PASSIVE)");

const timer = setInterval(() => {
  try {
    checkpoint.run();
  } catch (error) {
    // Reported once and the thread ends: the client goes back to checkpointing on its own connections.
    clearInterval(timer);
    parentPort?.postMessage({ failed: error instanceof Error ? error.message : String(error) });
    db.close();
  }
}, intervalMs);

parentPort?.on("message", (message: unknown) => {
  if (message !== "stop") return;
  clearInterval(timer);
  db.close();
  parentPort?.close();
});
