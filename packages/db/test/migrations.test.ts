import { execFile } from "node:child_process";
import { copyFile, cp, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { createDb, MIGRATIONS_FOLDER } from "@codex-img/db";
import { type Client, createClient } from "@libsql/client";
import { drizzle } from "drizzle-orm/libsql";
import { migrate } from "drizzle-orm/libsql/migrator";
import { afterEach, beforeEach, describe, expect, it } from "vitest";

const PACKAGE_DIR = fileURLToPath(new URL("..", import.meta.url));

interface Journal {
  entries: { idx: number; tag: string }[];
}

async function readJournal(folder: string): Promise<Journal> {
  return JSON.parse(await readFile(join(folder, "meta", "_journal.json"), "utf8")) as Journal;
}

/** The schema as SQLite keeps it, whitespace-normalised so that only real differences count. */
async function schemaOf(client: Client): Promise<string[][]> {
  const rows = await client.execute(
    "SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY type, name",
  );
  return rows.rows.map((r) => [
    String(r.type),
    String(r.name),
    String(r.tbl_name),
    r.sql === null ? "" : String(r.sql).replace(/\s+/g, " ").trim(),
  ]);
}

/** A migrations folder holding only the first `count` entries of the committed journal. */
async function partialMigrations(target: string, count: number): Promise<void> {
  const journal = await readJournal(MIGRATIONS_FOLDER);
  await mkdir(join(target, "meta"), { recursive: true });
  const entries = journal.entries.slice(0, count);
  for (const entry of entries) {
    await copyFile(join(MIGRATIONS_FOLDER, `${entry.tag}.sql`), join(target, `${entry.tag}.sql`));
  }
  await writeFile(join(target, "meta", "_journal.json"), JSON.stringify({ ...journal, entries }));
}

describe("migrations", () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "codex-img-migrations-"));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("a fresh database and one upgraded from each earlier migration end up with the same schema", async () => {
    const fresh = await createDb({ url: `file:${join(dir, "fresh.db")}` });
    const expected = await schemaOf(fresh.client);
    fresh.close();
    expect(expected.map(([, name]) => name)).toContain("jobs_fts");

    const journal = await readJournal(MIGRATIONS_FOLDER);
    expect(journal.entries.length).toBeGreaterThanOrEqual(2);
    for (let applied = 1; applied < journal.entries.length; applied++) {
      const url = `file:${join(dir, `upgraded-${applied}.db`)}`;
      const folder = join(dir, `migrations-${applied}`);
      await partialMigrations(folder, applied);
      const old = createClient({ url });
      await migrate(drizzle(old), { migrationsFolder: folder });
      // Data written under the old schema, with the columns the first migration already had.
      await old.execute(
        `INSERT INTO api_keys (id, name, hash, prefix, scopes, created_at)
         VALUES ('key_old', 'old key', '${"a".repeat(64)}', 'cimg_old', '["generate"]', 1000)`,
      );
      await old.execute(
        `INSERT INTO jobs (id, state, key_id, request_hash, request, prompt, max_attempts, attempt_timeout_ms,
           run_after, images, created_at, updated_at)
         VALUES ('img_old', 'succeeded', 'key_old', 'h', '{}', 'an old lighthouse', 1, 1000, 1000, '[]', 1000, 1000)`,
      );
      old.close();

      const upgraded = await createDb({ url });
      expect(await schemaOf(upgraded.client)).toEqual(expected);
      const applies = await upgraded.client.execute("SELECT count(*) AS n FROM __drizzle_migrations");
      expect(Number(applies.rows[0]?.n)).toBe(journal.entries.length);
      const kept = await upgraded.client.execute("SELECT prompt FROM jobs WHERE id = 'img_old'");
      expect(kept.rows[0]?.prompt).toBe("an old lighthouse");
      // Rows from before the search index existed are searchable after the upgrade.
      const found = await upgraded.client.execute(
        "SELECT rowid FROM jobs_fts WHERE jobs_fts MATCH 'lighthouse'",
      );
      expect(found.rows).toHaveLength(1);
      const key = await upgraded.client.execute("SELECT name FROM api_keys WHERE id = 'key_old'");
      expect(key.rows[0]?.name).toBe("old key");
      upgraded.close();
    }
  });

  it("the committed migrations match src/schema (drizzle-kit finds nothing to generate)", async () => {
    const out = join(dir, "migrations");
    await cp(MIGRATIONS_FOLDER, out, { recursive: true });
    const before = await listFiles(out);
    const config = join(dir, "drizzle.config.mjs");
    // drizzle-kit prefixes `out` with `./`, so it must be relative to the working directory.
    await writeFile(
      config,
      `export default ${JSON.stringify({
        dialect: "sqlite",
        schema: join(PACKAGE_DIR, "src", "schema", "index.ts"),
        out: relative(PACKAGE_DIR, out),
      })};\n`,
    );
    const bin = join(PACKAGE_DIR, "node_modules", ".bin", "drizzle-kit");
    // drizzle-kit exits 0 even when it fails, so its words and the folder are what is checked. No stdin:
    // a rename question would otherwise wait forever.
    const { stdout, stderr } = await promisify(execFile)(bin, ["generate", "--config", config], {
      cwd: PACKAGE_DIR,
      timeout: 60_000,
      env: { ...process.env, NO_COLOR: "1" },
    });
    const output = `${stdout}\n${stderr}`;
    expect(
      await listFiles(out),
      `drizzle-kit wrote a migration: src/schema changed without one\n${output}`,
    ).toEqual(before);
    expect(output).toMatch(/No schema changes/);
  }, 90_000);
});

async function listFiles(folder: string): Promise<string[]> {
  const entries = await readdir(folder, { recursive: true });
  return entries.map(String).sort();
}
