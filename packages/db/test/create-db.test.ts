import { mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createDb } from "@codex-img/db";
import { afterEach, beforeEach, describe, expect, it } from "vitest";

describe("createDb", () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "codex-img-db-"));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("creates the folder and the file, applies every migration, and is idempotent", async () => {
    const url = `file:${join(dir, "nested", "codex-img.db")}`;
    const first = await createDb({ url });
    const tables = await first.client.execute(
      "SELECT name FROM sqlite_master WHERE type IN ('table') ORDER BY name",
    );
    const names = tables.rows.map((r) => String(r.name));
    for (const table of [
      "jobs",
      "job_attempts",
      "job_events",
      "api_keys",
      "admin_sessions",
      "audit_log",
      "settings",
      "usage_counters",
      "usage_daily",
      "account_quota",
      "jobs_fts",
      "image_keys",
    ]) {
      expect(names).toContain(table);
    }
    expect((await first.client.execute("PRAGMA journal_mode")).rows[0]?.journal_mode).toBe("wal");
    first.close();
    expect((await stat(join(dir, "nested", "codex-img.db"))).isFile()).toBe(true);
    const again = await createDb({ url });
    const migrations = await again.client.execute("SELECT count(*) AS n FROM __drizzle_migrations");
    expect(Number(migrations.rows[0]?.n)).toBe(6);
    again.close();
  });
});
