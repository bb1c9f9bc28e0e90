import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** A fresh folder for one test's database file; `remove` deletes it with the file, WAL and images. */
export async function createTempFolder(prefix = "codex-img-jobs-"): Promise<{
  dir: string;
  url: string;
  remove(): Promise<void>;
}> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  return {
    dir,
    url: `file:${join(dir, "codex-img.db")}`,
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}
