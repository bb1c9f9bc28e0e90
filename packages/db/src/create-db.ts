import { existsSync } from "node:fs";
import { chmod, mkdir, open } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { type Client, createClient } from "@libsql/client";
import { drizzle, type LibSQLDatabase } from "drizzle-orm/libsql";
import { migrate } from "drizzle-orm/libsql/migrator";
import { createLocalClient } from "./local-client.js";
import * as schema from "./schema/index.js";

export type Schema = typeof schema;
export type Db = LibSQLDatabase<Schema>;

export interface CreateDbOptions {
  /**
   * `file:<path>` (default `file:./data/codex-img.db`; the folder is created), `libsql://…` or `https://…`
   * for Turso, or `:memory:` for unit tests of pure logic.
   */
  url?: string;
  /** Turso auth token (remote URLs and embedded replicas). */
  authToken?: string;
  /** With a `file:` url: keep that file as an embedded replica of this remote database. */
  syncUrl?: string;
  /** Embedded replica: seconds between background syncs. Default 60. */
  syncIntervalSeconds?: number;
  /** Apply pending migrations before returning. Default true. */
  migrate?: boolean;
  /**
   * A local file only: checkpoint from a worker thread, so the log's fsyncs never hold the event loop
   * (`createLocalClient`); for a long-running server. `onFallback` hears why it went back to checkpointing
   * in the commits, as without it.
   */
  backgroundCheckpoints?: { onFallback(reason: string): void };
}

export interface Database {
  readonly url: string;
  readonly client: Client;
  readonly db: Db;
  /** True for a local file (WAL, local locking); false for Turso and replicas. */
  readonly local: boolean;
  /** Embedded replica: pull the remote's newest state now. */
  sync(): Promise<void>;
  close(): void;
}

export const DEFAULT_DATABASE_URL = "file:./data/codex-img.db";

/**
 * Where the committed migrations live: next to `src/` and `dist/` alike, or, in the single-file server
 * that `bun run release` compiles (one bundle, so `import.meta.url` is its entry), embedded beside it.
 */
export const MIGRATIONS_FOLDER: string =
  [
    fileURLToPath(new URL("../migrations", import.meta.url)),
    fileURLToPath(new URL("./migrations", import.meta.url)),
  ].find((dir) => existsSync(join(dir, "meta", "_journal.json"))) ??
  fileURLToPath(new URL("../migrations", import.meta.url));

/**
 * Opens the database and brings its schema up to date. No module-level connection: each call returns its
 * own, and the caller closes it.
 */
export async function createDb(options: CreateDbOptions = {}): Promise<Database> {
  const url = options.url ?? DEFAULT_DATABASE_URL;
  const local = url.startsWith("file:") && !options.syncUrl;
  if (url.startsWith("file:")) await preparePrivateDatabaseFile(filePath(url));
  // A local file goes through the `libsql` package with its prepared statements kept (see local-client.ts);
  // Turso, embedded replicas and `:memory:` through `@libsql/client`.
  const client = local
    ? createLocalClient(
        filePath(url),
        options.backgroundCheckpoints ? { backgroundCheckpoints: options.backgroundCheckpoints } : {},
      )
    : createClient({
        url,
        ...(options.authToken ? { authToken: options.authToken } : {}),
        ...(options.syncUrl
          ? { syncUrl: options.syncUrl, syncInterval: options.syncIntervalSeconds ?? 60 }
          : {}),
      });
  if (options.syncUrl) await client.sync();
  if (local) {
    // WAL lets readers work while one writer commits; it is a property of the file and persists.
    await client.execute("PRAGMA journal_mode = WAL");
  }
  const db = drizzle(client, { schema });
  if (options.migrate ?? true) await migrate(db, { migrationsFolder: MIGRATIONS_FOLDER });
  return {
    url,
    client,
    db,
    local,
    async sync() {
      if (options.syncUrl) await client.sync();
    },
    close() {
      client.close();
    },
  };
}

/** The filesystem path of a `file:` URL (`file:./x.db`, `file:/abs/x.db`, `file:///abs/x.db`). */
export function filePath(url: string): string {
  const rest = url.slice("file:".length).split("?")[0] ?? "";
  return rest.startsWith("//") ? fileURLToPath(`file:${rest}`) : rest;
}

/**
 * The database holds key hashes, prompts and history: its folder is created 0700 and the file 0600
 * before SQLite opens it (SQLite gives its -wal and -shm files the database file's mode), and a file
 * an older version created world-readable is narrowed.
 */
async function preparePrivateDatabaseFile(path: string): Promise<void> {
  if (path === "" || path === ":memory:") return;
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const handle = await open(path, "a", 0o600);
  await handle.close();
  for (const file of [path, `${path}-wal`, `${path}-shm`]) {
    await chmod(file, 0o600).catch((error: { code?: string }) => {
      if (error.code !== "ENOENT") throw error;
    });
  }
}
