import { createHash } from "node:crypto";
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CodexImgError, createMemoryImageStore, encodePng, isImageKey } from "@codex-img/core";
import {
  createDb,
  createKeyStore,
  type Database,
  importLegacyDatabase,
  jobAttempts,
  jobs,
  parseLegacyTimestamp,
} from "@codex-img/db";
import { asc, eq } from "drizzle-orm";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  buildLegacyDatabase,
  type LegacyKeyFixture,
  type LegacyRequestFixture,
  sha256,
} from "./legacy-fixture.js";

const NOW = Date.parse("2026-06-01T12:00:00Z");
const ALICE_RAW = "cimg_aliceAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
const BOB_RAW = "cimg_bobBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB";
const OLD_RAW = "cimg_oldOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOO";

const KEYS: LegacyKeyFixture[] = [
  { id: 1, name: "ci-bot", raw: ALICE_RAW, enabled: true, createdAt: "2026-05-01T08:00:00.123456" },
  { id: 2, name: "discord", raw: BOB_RAW, enabled: true, createdAt: "2026-05-02T08:00:00" },
  { id: 3, name: "retired", raw: OLD_RAW, enabled: false, createdAt: "2026-05-03 08:00:00" },
];

const SUCCEEDED_ID = "img_3f81aa00112233445566778899aabbcc";
const FULL_REQUESTS: LegacyRequestFixture[] = [
  {
    id: SUCCEEDED_ID,
    apiKeyId: 1,
    prompt: "a ceramic tea cup",
    status: "succeeded",
    size: "1024x1536",
    quality: "high",
    createdAt: "2026-05-30T10:00:00.500000",
    completedAt: "2026-05-30T10:01:30",
    expiresAt: "2026-06-06T10:00:00",
    paths: [`/app/static/generated/${SUCCEEDED_ID}.png`],
    account: "/host_codex_homes/personal",
  },
  {
    id: "img_gone0000000000000000000000000000",
    apiKeyId: 2,
    prompt: "file deleted by the sweep but row not marked",
    status: "succeeded",
    createdAt: "2026-05-01T10:00:00",
    completedAt: "2026-05-01T10:01:00",
    expiresAt: "2026-05-08T10:00:00",
    paths: ["/app/static/generated/img_gone0000000000000000000000000000.png"],
  },
  {
    id: "img_expired000000000000000000000000",
    apiKeyId: 2,
    prompt: "an old lighthouse",
    status: "expired",
    count: 2,
    createdAt: "2026-05-10T10:00:00",
    completedAt: "2026-05-10T10:02:00",
    expiresAt: "2026-05-17T10:00:00",
  },
  {
    id: "img_failed000000000000000000000000",
    apiKeyId: 1,
    prompt: "a fox",
    status: "failed",
    error: "codex exec timed out after 360s",
    stderr: "session id: 1234\nerror: You've hit your usage limit",
    createdAt: "2026-05-31T09:00:00",
    completedAt: "2026-05-31T09:06:00",
    account: "team",
  },
  {
    id: "img_queued000000000000000000000000",
    apiKeyId: 1,
    prompt: "queued when the container stopped",
    status: "queued",
    createdAt: "2026-05-31T11:00:00",
  },
  {
    id: "img_running00000000000000000000000",
    apiKeyId: null,
    prompt: "running when the container stopped",
    status: "running",
    createdAt: "2026-05-31T11:01:00",
  },
  {
    id: "3f81-not-our-shape",
    apiKeyId: 3,
    prompt: "from the retired key",
    status: "failed",
    createdAt: 1780000000,
  },
];

async function fileSha(path: string): Promise<string> {
  return createHash("sha256")
    .update(await readFile(path))
    .digest("hex");
}

describe("importLegacyDatabase", () => {
  let dir: string;
  let legacyPath: string;
  let imagesDir: string;
  let database: Database;
  let png: Uint8Array;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "codex-img-legacy-test-"));
    legacyPath = join(dir, "legacy", "codex_image.sqlite3");
    imagesDir = join(dir, "legacy", "generated");
    await mkdir(imagesDir, { recursive: true });
    png = await encodePng({ width: 4, height: 6, rgba: new Uint8Array(4 * 6 * 4).fill(200) });
    await writeFile(join(imagesDir, `${SUCCEEDED_ID}.png`), png);
    database = await createDb({ url: `file:${join(dir, "data", "codex-img.db")}` });
  });
  afterEach(async () => {
    database.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("imports keys that verify unchanged and history as jobs, leaving the legacy file untouched", async () => {
    await buildLegacyDatabase(legacyPath, "full", KEYS, FULL_REQUESTS);
    const before = await fileSha(legacyPath);
    const filesBefore = (await readdir(join(dir, "legacy"))).sort();
    // The predecessor stopped without a checkpoint: some rows exist only in the -wal.
    expect(filesBefore).toContain("codex_image.sqlite3-wal");

    const report = await importLegacyDatabase({ database, legacyPath, imagesDir, now: NOW });
    expect(report.keys).toEqual({ imported: 3, skipped: 0 });
    expect(report.jobs).toEqual({ imported: 7, skipped: 0 });
    expect(report.images).toEqual({ referenced: 1, missing: 1 });
    expect(report.warnings.join("\n")).toMatch(/requests_count not imported/);
    expect(report.warnings.join("\n")).toMatch(/2 request\(s\) were still queued or running/);

    // The predecessor's raw keys verify as they are: same SHA-256 hex of the same token.
    const keys = createKeyStore(database);
    const alice = await keys.verify(ALICE_RAW);
    expect(alice).toMatchObject({
      name: "ci-bot",
      origin: "legacy-import",
      enabled: true,
      scopes: ["generate", "edit", "vision", "jobs:read"],
      createdAt: Date.parse("2026-05-01T08:00:00.123Z"),
      prefix: "cimg_alic",
    });
    expect((await keys.verify(BOB_RAW)).name).toBe("discord");
    const refused = await keys.verify(OLD_RAW).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(CodexImgError);
    expect((refused as CodexImgError).details.reason).toBe("disabled");
    const byHash = await database.client.execute({
      sql: "SELECT id FROM api_keys WHERE hash = ?",
      args: [sha256(ALICE_RAW)],
    });
    expect(byHash.rows).toHaveLength(1);

    const rows = await database.db.select().from(jobs).orderBy(asc(jobs.createdAt));
    const byId = new Map(rows.map((r) => [r.id, r]));
    expect(rows.every((r) => r.origin === "legacy-import")).toBe(true);

    const ok = byId.get(SUCCEEDED_ID);
    expect(ok).toMatchObject({
      state: "succeeded",
      keyId: alice.id,
      keyName: "ci-bot",
      prompt: "a ceramic tea cup",
      account: "personal",
      backend: "codex-cli",
      createdAt: Date.parse("2026-05-30T10:00:00.500Z"),
      finishedAt: Date.parse("2026-05-30T10:01:30Z"),
      expiresAt: Date.parse("2026-06-06T10:00:00Z"),
      imageCount: 1,
      error: null,
    });
    expect(ok?.request).toMatchObject({
      prompt: "a ceramic tea cup",
      size: "1024x1536",
      quality: "high",
      n: 1,
    });
    expect(ok?.images).toEqual([
      { key: `${SUCCEEDED_ID}.png`, format: "png", width: 4, height: 6, bytes: png.length },
    ]);
    expect(ok?.requestHash).toMatch(/^[0-9a-f]{64}$/);

    // A success whose file is gone and whose expiry has passed is what retention would have made of it.
    expect(byId.get("img_gone0000000000000000000000000000")).toMatchObject({ state: "expired", images: [] });
    expect(byId.get("img_expired000000000000000000000000")).toMatchObject({
      state: "expired",
      keyName: "discord",
      images: [],
      imageCount: 2,
    });

    const failed = byId.get("img_failed000000000000000000000000");
    expect(failed).toMatchObject({ state: "failed", errorCode: "upstream_timeout", account: "team" });
    expect(failed?.error?.message).toBe("codex exec timed out after 360s");
    expect(failed?.error?.details?.legacyStderrTail).toMatch(/usage limit/);

    for (const id of ["img_queued000000000000000000000000", "img_running00000000000000000000000"]) {
      const stuck = byId.get(id);
      expect(stuck).toMatchObject({ state: "failed", errorCode: "interrupted", finishedAt: NOW });
      expect(stuck?.error?.message).toMatch(/codex-image-service was stopped/);
    }
    expect(byId.get("img_running00000000000000000000000")).toMatchObject({ keyId: null, keyName: null });

    // Ids that do not look like ours get a prefix; epoch seconds are read as such.
    expect(byId.get("img_legacy_3f81-not-our-shape")).toMatchObject({
      state: "failed",
      keyName: "retired",
      createdAt: 1780000000 * 1000,
    });

    const attempts = await database.db.select().from(jobAttempts).where(eq(jobAttempts.jobId, SUCCEEDED_ID));
    expect(attempts).toMatchObject([{ number: 1, account: "personal", durationMs: 89_500 }]);

    // The prompt search index picks imported rows up through its triggers.
    const found = await database.client.execute(
      "SELECT j.id FROM jobs_fts f JOIN jobs j ON j.rowid = f.rowid WHERE jobs_fts MATCH 'lighthouse'",
    );
    expect(found.rows.map((r) => r.id)).toEqual(["img_expired000000000000000000000000"]);

    const audit = await database.client.execute(
      "SELECT action FROM audit_log WHERE action = 'legacy.import'",
    );
    expect(audit.rows).toHaveLength(1);

    expect(await fileSha(legacyPath)).toBe(before);
    expect((await readdir(join(dir, "legacy"))).sort()).toEqual(filesBefore);
  });

  it("is idempotent: a second run imports nothing and changes nothing", async () => {
    await buildLegacyDatabase(legacyPath, "full", KEYS, FULL_REQUESTS);
    await importLegacyDatabase({ database, legacyPath, imagesDir, now: NOW });
    const snapshot = await database.client.execute("SELECT * FROM jobs ORDER BY id");

    const again = await importLegacyDatabase({ database, legacyPath, imagesDir, now: NOW + 60_000 });
    expect(again.keys).toEqual({ imported: 0, skipped: 3 });
    expect(again.jobs).toEqual({ imported: 0, skipped: 7 });
    expect((await database.client.execute("SELECT * FROM jobs ORDER BY id")).rows).toEqual(snapshot.rows);
    const counts = await database.client.execute(
      "SELECT (SELECT count(*) FROM api_keys) AS k, (SELECT count(*) FROM job_attempts) AS a, (SELECT count(*) FROM audit_log) AS l",
    );
    expect(counts.rows[0]).toMatchObject({ k: 3, a: 6, l: 1 });
  });

  it("maps a legacy file without the optional columns", async () => {
    await buildLegacyDatabase(legacyPath, "minimal", KEYS.slice(0, 2), [
      {
        id: 1,
        apiKeyId: 1,
        prompt: "minimal success",
        status: "completed",
        createdAt: 1780000000123,
        paths: [`static/generated/${SUCCEEDED_ID}.png`],
      },
      { id: 2, apiKeyId: 2, prompt: "minimal pending", status: "pending", createdAt: 1780000001000 },
      { id: 3, apiKeyId: 99, prompt: "dangling key", status: "weird", createdAt: 1780000002000 },
    ]);
    const before = await fileSha(legacyPath);

    const store = createMemoryImageStore();
    const report = await importLegacyDatabase({
      database,
      legacyPath,
      imagesDir,
      imageStore: store,
      now: NOW,
    });
    expect(report.keys).toEqual({ imported: 2, skipped: 0 });
    expect(report.jobs).toEqual({ imported: 3, skipped: 0 });
    expect(report.warnings.join("\n")).toMatch(/unknown status value\(s\) imported as failed: weird/);
    expect(report.warnings.join("\n")).toMatch(/1 request\(s\) name a key missing/);

    const keys = createKeyStore(database);
    expect(await keys.verify(ALICE_RAW)).toMatchObject({ name: "ci-bot", prefix: "cimg_", enabled: true });

    const rows = await database.db.select().from(jobs).orderBy(asc(jobs.createdAt));
    expect(rows.map((r) => [r.id, r.state, r.errorCode, r.keyName])).toEqual([
      ["img_legacy_1", "succeeded", null, "ci-bot"],
      ["img_legacy_2", "failed", "interrupted", "discord"],
      ["img_legacy_3", "failed", "internal", null],
    ]);
    const [ok] = rows;
    expect(ok?.createdAt).toBe(1780000000123);
    expect(ok?.request).toMatchObject({ size: "1024x1024", quality: "medium", n: 1, referenceImages: [] });
    // Copied into the store under a key of codex-img's own shape, so it can be served.
    const key = ok?.images[0]?.key ?? "";
    expect(isImageKey(key)).toBe(true);
    expect(await store.get(key)).toEqual(png);
    expect(rows[1]?.attemptCount).toBe(0);

    expect(await fileSha(legacyPath)).toBe(before);
    const again = await importLegacyDatabase({
      database,
      legacyPath,
      imagesDir,
      imageStore: store,
      now: NOW,
    });
    expect(again.jobs).toEqual({ imported: 0, skipped: 3 });
    let stored = 0;
    for await (const _ of store.list()) stored++;
    expect(stored).toBe(1);
  });

  it("keeps an existing key that already holds the same hash and reports missing tables", async () => {
    await buildLegacyDatabase(legacyPath, "minimal", KEYS.slice(0, 1), []);
    await database.client.execute({
      sql: "INSERT INTO api_keys (id, name, hash, prefix, scopes, created_at) VALUES ('key_mine', 'mine', ?, 'cimg_', '[]', 1)",
      args: [sha256(ALICE_RAW)],
    });
    const report = await importLegacyDatabase({ database, legacyPath, now: NOW });
    expect(report.keys).toEqual({ imported: 0, skipped: 1 });

    const empty = join(dir, "empty.sqlite");
    await buildLegacyDatabase(empty, "minimal", [], []);
    const client = (await import("@libsql/client")).createClient({ url: `file:${empty}` });
    await client.execute("DROP TABLE image_requests");
    client.close();
    const none = await importLegacyDatabase({ database, legacyPath: empty, now: NOW });
    expect(none.warnings.join("\n")).toMatch(/no history table/);
  });
});

describe("parseLegacyTimestamp", () => {
  it("reads ISO strings (naive = UTC) and epoch seconds, ms and µs", () => {
    const t = Date.parse("2026-05-20T10:00:00.123Z");
    expect(parseLegacyTimestamp("2026-05-20T10:00:00.123456")).toBe(t);
    expect(parseLegacyTimestamp("2026-05-20 10:00:00.123")).toBe(t);
    expect(parseLegacyTimestamp("2026-05-20T12:00:00.123+02:00")).toBe(t);
    expect(parseLegacyTimestamp("2026-05-20T10:00:00.123Z")).toBe(t);
    expect(parseLegacyTimestamp(t / 1000)).toBe(t);
    expect(parseLegacyTimestamp(t)).toBe(t);
    expect(parseLegacyTimestamp(t * 1000)).toBe(t);
    expect(parseLegacyTimestamp(String(Math.floor(t / 1000)))).toBe(Math.floor(t / 1000) * 1000);
    expect(parseLegacyTimestamp("2026-05-20")).toBe(Date.parse("2026-05-20T00:00:00Z"));
    expect(parseLegacyTimestamp("yesterday")).toBeUndefined();
    expect(parseLegacyTimestamp(null)).toBeUndefined();
  });
});
