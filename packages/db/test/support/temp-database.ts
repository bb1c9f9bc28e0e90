import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createDb, type Database } from "@codex-img/db";
import { afterEach, beforeEach } from "vitest";

export type TempFolder = Awaited<ReturnType<typeof createTempFolder>>;

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

/**
 * Gives each test in the calling `describe` its own migrated database in a fresh temp folder, closed and
 * removed after the test, so that suites do not each repeat the same beforeEach/afterEach pair. Read
 * `database` and `folder` inside a test (they change per test); `reopen` opens the file again, e.g. after
 * a test closed the connection to read the file's bytes, and afterEach then closes the new connection.
 */
export function useTempDatabase(prefix: string): {
  readonly database: Database;
  readonly folder: TempFolder;
  reopen(): Promise<Database>;
} {
  let folder: TempFolder | undefined;
  let database: Database | undefined;
  const current = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error("useTempDatabase: read inside a test, not while collecting");
    return value;
  };

  beforeEach(async () => {
    folder = await createTempFolder(prefix);
    database = await createDb({ url: folder.url });
  });
  afterEach(async () => {
    database?.close();
    await folder?.remove();
    database = undefined;
    folder = undefined;
  });

  return {
    get database() {
      return current(database);
    },
    get folder() {
      return current(folder);
    },
    async reopen() {
      const previous = current(database);
      if (!previous.client.closed) previous.close();
      database = await createDb({ url: current(folder).url });
      return database;
    },
  };
}
