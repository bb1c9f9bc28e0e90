import { copyFile, mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Client, createClient } from "@libsql/client";

/**
 * Column names the predecessor may have used, best guess first. We do not have its DDL (only its README
 * and a write-up), so every column except the key hash and the prompt is optional.
 */
export const LEGACY_KEY_COLUMNS = {
  id: ["id", "key_id", "api_key_id"],
  name: ["name", "label", "description", "owner"],
  hash: ["key_hash", "token_hash", "hash", "hashed_key", "api_key_hash", "key_sha256", "sha256"],
  prefix: ["prefix", "key_prefix", "token_prefix", "display_prefix"],
  createdAt: ["created_at", "created", "createdat", "inserted_at"],
  lastUsedAt: ["last_used_at", "last_used", "used_at"],
  enabled: ["enabled", "is_active", "active", "is_enabled"],
  disabled: ["disabled", "is_disabled", "revoked", "is_revoked"],
  disabledAt: ["disabled_at", "revoked_at"],
  requestsCount: ["requests_count", "request_count", "usage_count"],
} as const;

export const LEGACY_REQUEST_COLUMNS = {
  id: ["id", "request_id", "job_id"],
  keyId: ["api_key_id", "key_id", "apikey_id"],
  keyName: ["api_key_name", "key_name"],
  prompt: ["prompt", "prompt_text"],
  size: ["size", "image_size"],
  quality: ["quality"],
  count: ["count", "n", "num_images", "image_count"],
  status: ["status", "state"],
  error: ["error", "error_message", "error_detail", "detail"],
  paths: [
    "output_paths",
    "output_path",
    "file_paths",
    "file_path",
    "image_paths",
    "image_path",
    "output_files",
    "output_file",
    "files",
    "images",
    "filename",
    "image_url",
    "url",
  ],
  createdAt: ["created_at", "created", "requested_at", "inserted_at"],
  startedAt: ["started_at"],
  completedAt: ["completed_at", "finished_at", "done_at"],
  updatedAt: ["updated_at"],
  expiresAt: ["expires_at", "expiry", "expire_at"],
  account: ["account", "account_label", "codex_home", "account_home"],
  stdout: ["stdout", "codex_stdout"],
  stderr: ["stderr", "codex_stderr"],
} as const;

export type ColumnMap<T extends Record<string, readonly string[]>> = { [K in keyof T]?: string };

export interface LegacyTable<T extends Record<string, readonly string[]>> {
  name: string;
  columns: ColumnMap<T>;
  /** Columns present in the file that no field maps: reported, not imported. */
  unmapped: string[];
}

export interface LegacySource {
  client: Client;
  keys?: LegacyTable<typeof LEGACY_KEY_COLUMNS>;
  requests?: LegacyTable<typeof LEGACY_REQUEST_COLUMNS>;
  close(): Promise<void>;
}

/**
 * Opens a private copy of the legacy file. @libsql/client 0.18 rejects `?mode=ro` ("Unsupported URL query
 * parameter"), and even a read can change a SQLite file (a WAL-mode database is checkpointed and its
 * `-wal` removed when the last connection closes), so the original is copied with its `-wal` and never
 * opened. `query_only` guards the copy against a bug of ours.
 */
export async function openLegacySource(legacyPath: string): Promise<LegacySource> {
  const info = await stat(legacyPath);
  if (!info.isFile()) throw new Error(`not a file: ${legacyPath}`);
  const dir = await mkdtemp(join(tmpdir(), "codex-img-legacy-"));
  const copy = join(dir, "legacy.sqlite");
  await copyFile(legacyPath, copy);
  for (const suffix of ["-wal", "-journal"]) {
    await copyFile(`${legacyPath}${suffix}`, `${copy}${suffix}`).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== "ENOENT") throw error;
    });
  }
  // One connection, so that `query_only` holds for every statement.
  const client = createClient({ url: `file:${copy}`, concurrency: 1 });
  const close = async (): Promise<void> => {
    client.close();
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await client.execute("PRAGMA query_only = ON");
    const tables = (await client.execute("SELECT name FROM sqlite_master WHERE type = 'table'")).rows.map(
      (r) => String(r.name),
    );
    const columnsOf = async (table: string): Promise<string[]> =>
      (await client.execute(`PRAGMA table_info(${quoteIdentifier(table)})`)).rows.map((r) => String(r.name));
    const keys = await findTable(
      tables,
      columnsOf,
      ["api_keys", "apikeys", "keys"],
      LEGACY_KEY_COLUMNS,
      "hash",
    );
    const requests = await findTable(
      tables,
      columnsOf,
      ["image_requests", "requests", "image_jobs", "jobs", "history"],
      LEGACY_REQUEST_COLUMNS,
      "prompt",
    );
    return { client, ...(keys ? { keys } : {}), ...(requests ? { requests } : {}), close };
  } catch (error) {
    await close();
    throw error;
  }
}

export function quoteIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

async function findTable<T extends Record<string, readonly string[]>>(
  tables: string[],
  columnsOf: (table: string) => Promise<string[]>,
  names: string[],
  fields: T,
  required: keyof T,
): Promise<LegacyTable<T> | undefined> {
  const lower = new Map(tables.map((t) => [t.toLowerCase(), t]));
  for (const candidate of names) {
    const name = lower.get(candidate);
    if (!name) continue;
    const present = await columnsOf(name);
    const byLower = new Map(present.map((c) => [c.toLowerCase(), c]));
    const columns: ColumnMap<T> = {};
    const used = new Set<string>();
    for (const field of Object.keys(fields) as (keyof T)[]) {
      for (const option of fields[field] ?? []) {
        const column = byLower.get(option);
        if (column && !used.has(column)) {
          columns[field] = column;
          used.add(column);
          break;
        }
      }
    }
    if (columns[required] === undefined) continue;
    return { name, columns, unmapped: present.filter((c) => !used.has(c)) };
  }
  return undefined;
}
