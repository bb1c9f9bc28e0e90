import { createHash } from "node:crypto";
import { copyFile, mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { createClient } from "@libsql/client";

/**
 * A plausible codex-image-service database. ASSUMPTION: we do not have its DDL, only its README and a
 * write-up (table names `api_keys` and `image_requests`, sha256 key hashes, `expired` rows, a foreign key
 * from history to keys, stdout/stderr kept). `full` is what a SQLAlchemy model of that description would
 * create (ISO timestamps without a zone, as `datetime.utcnow().isoformat()` writes); `minimal` drops every
 * optional column and uses other plausible names and epoch timestamps, to exercise the lenient mapping.
 */
export type LegacyVariant = "full" | "minimal";

export interface LegacyKeyFixture {
  id: number;
  name: string;
  raw: string;
  enabled: boolean;
  createdAt: string | number;
}

export interface LegacyRequestFixture {
  id: string | number;
  apiKeyId: number | null;
  prompt: string;
  status: string;
  createdAt: string | number;
  completedAt?: string | number | null;
  expiresAt?: string | number | null;
  size?: string;
  quality?: string;
  count?: number;
  error?: string | null;
  paths?: string[];
  account?: string | null;
  stdout?: string | null;
  stderr?: string | null;
}

export function sha256(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

const FULL_DDL = [
  `CREATE TABLE api_keys (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name VARCHAR(100) NOT NULL,
    key_hash VARCHAR(64) NOT NULL UNIQUE,
    prefix VARCHAR(16),
    is_active BOOLEAN NOT NULL DEFAULT 1,
    requests_count INTEGER NOT NULL DEFAULT 0,
    created_at DATETIME NOT NULL,
    last_used_at DATETIME
  )`,
  `CREATE TABLE image_requests (
    id VARCHAR(64) PRIMARY KEY,
    api_key_id INTEGER REFERENCES api_keys(id),
    prompt TEXT NOT NULL,
    size VARCHAR(16) NOT NULL DEFAULT '1024x1024',
    quality VARCHAR(16) NOT NULL DEFAULT 'medium',
    count INTEGER NOT NULL DEFAULT 1,
    status VARCHAR(16) NOT NULL,
    error TEXT,
    output_paths TEXT,
    account VARCHAR(255),
    stdout TEXT,
    stderr TEXT,
    created_at DATETIME NOT NULL,
    completed_at DATETIME,
    expires_at DATETIME
  )`,
];

const MINIMAL_DDL = [
  `CREATE TABLE api_keys (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    token_hash TEXT NOT NULL,
    disabled INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL
  )`,
  `CREATE TABLE image_requests (
    id INTEGER PRIMARY KEY,
    api_key_id INTEGER,
    prompt TEXT NOT NULL,
    status TEXT NOT NULL,
    file_path TEXT,
    created_at INTEGER NOT NULL
  )`,
];

export async function buildLegacyDatabase(
  path: string,
  variant: LegacyVariant,
  keys: LegacyKeyFixture[],
  requests: LegacyRequestFixture[],
): Promise<void> {
  // Built elsewhere and copied in: a libSQL connection is only really closed when collected, and its
  // closing checkpoint would change the file under the test. The copy is a predecessor that stopped
  // without a checkpoint (full: rows still in the -wal), which the importer must read too.
  const buildDir = await mkdtemp(join(tmpdir(), "codex-img-legacy-build-"));
  const building = join(buildDir, "legacy.sqlite");
  const client = createClient({ url: `file:${building}` });
  try {
    if (variant === "full") await client.execute("PRAGMA journal_mode = WAL");
    for (const ddl of variant === "full" ? FULL_DDL : MINIMAL_DDL) await client.execute(ddl);
    for (const key of keys) {
      if (variant === "full") {
        await client.execute({
          sql: "INSERT INTO api_keys (id, name, key_hash, prefix, is_active, requests_count, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
          args: [
            key.id,
            key.name,
            sha256(key.raw),
            key.raw.slice(0, 9),
            key.enabled ? 1 : 0,
            42,
            key.createdAt,
          ],
        });
      } else {
        await client.execute({
          sql: "INSERT INTO api_keys (id, name, token_hash, disabled, created_at) VALUES (?, ?, ?, ?, ?)",
          args: [key.id, key.name, sha256(key.raw), key.enabled ? 0 : 1, key.createdAt],
        });
      }
    }
    for (const r of requests) {
      if (variant === "full") {
        await client.execute({
          sql: `INSERT INTO image_requests (id, api_key_id, prompt, size, quality, count, status, error, output_paths,
                account, stdout, stderr, created_at, completed_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
          args: [
            r.id,
            r.apiKeyId,
            r.prompt,
            r.size ?? "1024x1024",
            r.quality ?? "medium",
            r.count ?? 1,
            r.status,
            r.error ?? null,
            r.paths ? JSON.stringify(r.paths) : null,
            r.account ?? null,
            r.stdout ?? null,
            r.stderr ?? null,
            r.createdAt,
            r.completedAt ?? null,
            r.expiresAt ?? null,
          ],
        });
      } else {
        await client.execute({
          sql: "INSERT INTO image_requests (id, api_key_id, prompt, status, file_path, created_at) VALUES (?, ?, ?, ?, ?, ?)",
          args: [r.id, r.apiKeyId, r.prompt, r.status, r.paths?.[0] ?? null, r.createdAt],
        });
      }
    }
    await mkdir(dirname(path), { recursive: true });
    await copyFile(building, path);
    if (variant === "full") await copyFile(`${building}-wal`, `${path}-wal`);
  } finally {
    client.close();
    await rm(buildDir, { recursive: true, force: true });
  }
}
