import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { CodexImgError } from "@codex-img/core";
import { storedImageRequest } from "@codex-img/core/testing";
import { apiKeys, createKeyStore, jobs, KEY_CACHE_MS, KEY_TOUCH_INTERVAL_MS, sha256Hex } from "@codex-img/db";
import { eq } from "drizzle-orm";
import { beforeEach, describe, expect, it } from "vitest";
import { useTempDatabase } from "./support/temp-database.js";

describe("createKeyStore", () => {
  let now: number;
  const clock = { now: () => now };

  const temp = useTempDatabase("codex-img-keys-");
  beforeEach(() => {
    now = Date.UTC(2026, 10, 22, 12);
  });

  async function refusalOf(promise: Promise<unknown>): Promise<CodexImgError> {
    const error = await promise.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(CodexImgError);
    return error as CodexImgError;
  }

  it("creates a cimg_ key shown once, stores only its SHA-256, and verifies it", async () => {
    const keys = createKeyStore(temp.database, { clock });
    const { key, rawKey } = await keys.create({
      name: "  ci  ",
      scopes: ["jobs:read", "generate"],
      limits: { requestsPerMinute: 10, imagesPerDay: 100 },
    });
    expect(rawKey).toMatch(/^cimg_[A-Za-z0-9_-]{43}$/);
    expect(key).toMatchObject({
      name: "ci",
      prefix: rawKey.slice(0, 12),
      scopes: ["generate", "jobs:read"],
      enabled: true,
      expiresAt: null,
      limits: { requestsPerMinute: 10, imagesPerDay: 100, imagesPerMonth: null, maxConcurrentJobs: null },
      createdAt: now,
      lastUsedAt: null,
      origin: "created",
    });
    expect(key.id).toMatch(/^key_[a-z2-7]{26}$/);
    expect(JSON.stringify(key)).not.toContain(rawKey);
    const [row] = await temp.database.db.select().from(apiKeys).where(eq(apiKeys.id, key.id));
    expect(row?.hash).toBe(await sha256Hex(rawKey));
    expect(await keys.verify(rawKey)).toEqual(key);
    const other = await keys.create({ name: "other", scopes: ["generate"] });
    expect(other.rawKey).not.toBe(rawKey);
  });

  it("never writes the raw key to the database file", async () => {
    const keys = createKeyStore(temp.database, { clock });
    const created = [await keys.create({ name: "a", scopes: ["generate"] })];
    created.push(await keys.rotate(created[0]?.key.id ?? ""));
    temp.database.close();
    const files = (await readdir(temp.folder.dir)).filter((f) => f.startsWith("codex-img.db"));
    // The -wal and -shm files may vanish between listing and reading as the close checkpoints them.
    const bytes = Buffer.concat(
      await Promise.all(files.map((f) => readFile(join(temp.folder.dir, f)).catch(() => Buffer.alloc(0)))),
    );
    for (const { rawKey } of created) {
      expect(bytes.includes(Buffer.from(rawKey))).toBe(false);
      expect(bytes.includes(Buffer.from(rawKey.slice(12)))).toBe(false);
    }
    await temp.reopen();
  });

  it("verifies a predecessor key whose SHA-256 hex was inserted directly", async () => {
    const legacy = "cimg_predecessor-Style.key~with+odd/chars=";
    await temp.database.db.insert(apiKeys).values({
      id: "key_legacy",
      name: "from the predecessor",
      hash: await sha256Hex(legacy),
      prefix: legacy.slice(0, 12),
      scopes: ["generate", "edit", "jobs:read"],
      createdAt: 1,
      origin: "legacy-import",
    });
    const key = await createKeyStore(temp.database, { clock }).verify(legacy);
    expect(key).toMatchObject({ id: "key_legacy", origin: "legacy-import", enabled: true });
  });

  it("refuses malformed, unknown, disabled and expired keys as unauthorized with a reason", async () => {
    const keys = createKeyStore(temp.database, { clock });
    const { key, rawKey } = await keys.create({ name: "k", scopes: ["generate"], expiresAt: now + 1000 });
    for (const [raw, reason] of [
      ["", "malformed"],
      ["sk-not-ours", "malformed"],
      ["cimg_", "malformed"],
      [`${rawKey}x`, "unknown_key"],
    ] as const) {
      const error = await refusalOf(keys.verify(raw));
      expect(error.code).toBe("unauthorized");
      expect(error.details.reason).toBe(reason);
    }
    await keys.setEnabled(key.id, false);
    expect((await refusalOf(keys.verify(rawKey))).details).toMatchObject({
      reason: "disabled",
      keyId: key.id,
    });
    await keys.setEnabled(key.id, true);
    expect((await keys.verify(rawKey)).id).toBe(key.id);
    now += 1000;
    expect((await refusalOf(keys.verify(rawKey))).details.reason).toBe("expired");
    await keys.update(key.id, { expiresAt: null });
    expect((await keys.verify(rawKey)).expiresAt).toBeNull();
  });

  it("lists newest first, gets, updates with validation, and reports unknown ids as not_found", async () => {
    const keys = createKeyStore(temp.database, { clock });
    const a = await keys.create({ name: "a", scopes: ["generate"] });
    now += 1;
    const b = await keys.create({ name: "b", scopes: ["admin"], limits: { maxConcurrentJobs: 2 } });
    expect((await keys.list()).map((k) => k.name)).toEqual(["b", "a"]);
    expect(await keys.get(a.key.id)).toEqual(a.key);
    expect(await keys.get("key_nope")).toBeUndefined();

    const updated = await keys.update(b.key.id, {
      name: "b2",
      scopes: ["edit", "generate"],
      limits: { imagesPerMonth: 1000 },
    });
    expect(updated).toMatchObject({
      name: "b2",
      scopes: ["generate", "edit"],
      limits: { maxConcurrentJobs: 2, imagesPerMonth: 1000, requestsPerMinute: null },
    });
    expect(
      (await keys.update(b.key.id, { limits: { maxConcurrentJobs: null } })).limits.maxConcurrentJobs,
    ).toBeNull();

    for (const bad of [
      keys.create({ name: "", scopes: ["generate"] }),
      keys.create({ name: "x", scopes: [] }),
      keys.create({ name: "x", scopes: ["root" as "admin"] }),
      keys.create({ name: "x", scopes: ["generate"], limits: { imagesPerDay: 0 } }),
      keys.create({ name: "x", scopes: ["generate"], limits: { requestsPerMinute: 1.5 } }),
      keys.update(a.key.id, { limits: { imagesPerDay: -1 } }),
    ]) {
      expect((await refusalOf(bad)).code).toBe("invalid_request");
    }
    expect((await refusalOf(keys.update("key_nope", { name: "x" }))).code).toBe("not_found");
    expect((await refusalOf(keys.setEnabled("key_nope", true))).code).toBe("not_found");
    expect((await refusalOf(keys.rotate("key_nope"))).code).toBe("not_found");
  });

  it("rotates in place: same id and limits, new raw key works, old one stops at once", async () => {
    const keys = createKeyStore(temp.database, { clock });
    const first = await keys.create({ name: "r", scopes: ["generate"], limits: { imagesPerDay: 5 } });
    now += 10;
    const rotated = await keys.rotate(first.key.id);
    expect(rotated.rawKey).not.toBe(first.rawKey);
    expect(rotated.key).toMatchObject({ id: first.key.id, limits: { imagesPerDay: 5 }, rotatedAt: now });
    expect(rotated.key.prefix).toBe(rotated.rawKey.slice(0, 12));
    expect((await refusalOf(keys.verify(first.rawKey))).details.reason).toBe("unknown_key");
    expect((await keys.verify(rotated.rawKey)).id).toBe(first.key.id);
  });

  it("deletes a key and keeps its jobs with key id and name", async () => {
    const keys = createKeyStore(temp.database, { clock });
    const { key, rawKey } = await keys.create({ name: "doomed", scopes: ["generate"] });
    await temp.database.db.insert(jobs).values({
      id: "img_keep",
      state: "succeeded",
      keyId: key.id,
      keyName: key.name,
      requestHash: "h",
      request: storedImageRequest({ prompt: "p", size: "auto" }),
      prompt: "p",
      maxAttempts: 1,
      attemptTimeoutMs: 1000,
      runAfter: now,
      images: [],
      createdAt: now,
      updatedAt: now,
    });
    expect(await keys.delete(key.id)).toBe(true);
    expect(await keys.delete(key.id)).toBe(false);
    expect(await keys.get(key.id)).toBeUndefined();
    expect((await refusalOf(keys.verify(rawKey))).details.reason).toBe("unknown_key");
    const [job] = await temp.database.db.select().from(jobs).where(eq(jobs.id, "img_keep"));
    expect(job).toMatchObject({ keyId: key.id, keyName: "doomed" });
  });

  it("touch records last use at most once per interval", async () => {
    const keys = createKeyStore(temp.database, { clock });
    const { key } = await keys.create({ name: "t", scopes: ["generate"] });
    await keys.touch(key.id, now);
    expect((await keys.get(key.id))?.lastUsedAt).toBe(now);
    await keys.touch(key.id, now + KEY_TOUCH_INTERVAL_MS - 1);
    expect((await keys.get(key.id))?.lastUsedAt).toBe(now);
    await keys.touch(key.id, now + KEY_TOUCH_INTERVAL_MS);
    expect((await keys.get(key.id))?.lastUsedAt).toBe(now + KEY_TOUCH_INTERVAL_MS);
    await keys.touch("key_nope", now);
  });

  it("trusts a verified key from memory for KEY_CACHE_MS; its own changes apply at once, another instance's within it", async () => {
    const keys = createKeyStore(temp.database, { clock });
    const elsewhere = createKeyStore(temp.database, { clock });
    const { key, rawKey } = await keys.create({ name: "cached", scopes: ["generate"] });
    expect((await keys.verify(rawKey)).id).toBe(key.id);

    // Changed through this store: refused on the next call.
    await keys.setEnabled(key.id, false);
    expect((await refusalOf(keys.verify(rawKey))).details.reason).toBe("disabled");
    await keys.setEnabled(key.id, true);
    expect((await keys.verify(rawKey)).enabled).toBe(true);

    // Changed by another instance (here another store on the same file): seen once the cache runs out.
    await elsewhere.setEnabled(key.id, false);
    expect((await keys.verify(rawKey)).enabled).toBe(true);
    now += KEY_CACHE_MS;
    expect((await refusalOf(keys.verify(rawKey))).details.reason).toBe("disabled");

    // Expiry is checked on every call, cached or not.
    await elsewhere.setEnabled(key.id, true);
    await elsewhere.update(key.id, { expiresAt: now + KEY_CACHE_MS + 1_000 });
    now += KEY_CACHE_MS;
    expect((await keys.verify(rawKey)).id).toBe(key.id);
    now += 1_000;
    expect((await refusalOf(keys.verify(rawKey))).details.reason).toBe("expired");
  });

  it("does not write on every touch within the interval", async () => {
    const keys = createKeyStore(temp.database, { clock });
    const { key } = await keys.create({ name: "busy", scopes: ["generate"] });
    await keys.touch(key.id, now);
    // Another writer moves last use back; this store, having just touched, does not write again.
    await temp.database.client.execute({
      sql: "UPDATE api_keys SET last_used_at = 1 WHERE id = ?",
      args: [key.id],
    });
    await keys.touch(key.id, now + 1_000);
    expect((await keys.get(key.id))?.lastUsedAt).toBe(1);
    await keys.touch(key.id, now + KEY_TOUCH_INTERVAL_MS);
    expect((await keys.get(key.id))?.lastUsedAt).toBe(now + KEY_TOUCH_INTERVAL_MS);
  });
});
