import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { adminSessions, createSessionStore, sha256Hex } from "@codex-img/db";
import { beforeEach, describe, expect, it } from "vitest";
import { useTempDatabase } from "./support/temp-database.js";

const HOUR = 3_600_000;

describe("createSessionStore", () => {
  let now: number;
  const clock = { now: () => now };

  const temp = useTempDatabase("codex-img-sessions-");
  beforeEach(() => {
    now = Date.UTC(2026, 10, 22, 12);
  });

  it("stores only hashes of the session and CSRF tokens", async () => {
    const sessions = createSessionStore(temp.database, { clock });
    const { session, token, csrfToken } = await sessions.create({ ip: "127.0.0.1", userAgent: "test" });
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(csrfToken).not.toBe(token);
    expect(session.id).toBe(await sha256Hex(token));
    expect(session.csrfHash).toBe(await sha256Hex(csrfToken));
    const rows = await temp.database.db.select().from(adminSessions);
    expect(JSON.stringify(rows)).not.toContain(token);
    temp.database.close();
    const files = (await readdir(temp.folder.dir)).filter((f) => f.startsWith("codex-img.db"));
    // SQLite may remove its -wal/-shm files between the listing and the read: a file gone holds nothing.
    const read = (f: string): Promise<Buffer> =>
      readFile(join(temp.folder.dir, f)).catch((error: NodeJS.ErrnoException) => {
        if (error.code === "ENOENT") return Buffer.alloc(0);
        throw error;
      });
    const bytes = Buffer.concat(await Promise.all(files.map(read)));
    expect(bytes.includes(Buffer.from(token))).toBe(false);
    expect(bytes.includes(Buffer.from(csrfToken))).toBe(false);
    await temp.reopen();
  });

  it("verifies a live session, slides its idle expiry, and checks the CSRF token", async () => {
    const sessions = createSessionStore(temp.database, {
      clock,
      idleTimeoutMs: 2 * HOUR,
      absoluteTimeoutMs: 5 * HOUR,
    });
    const { token, csrfToken } = await sessions.create();
    const first = await sessions.verify(token);
    if (!first) throw new Error("session not found");
    expect(first).toMatchObject({ expiresAt: now + 2 * HOUR, ip: null });
    expect(await sessions.checkCsrf(first, csrfToken)).toBe(true);
    expect(await sessions.checkCsrf(first, `${csrfToken}x`)).toBe(false);
    expect(await sessions.checkCsrf(first, "")).toBe(false);
    expect(await sessions.verify("not-a-token")).toBeUndefined();
    expect(await sessions.verify("")).toBeUndefined();

    // Used every 90 minutes it stays alive, until the absolute limit.
    const created = now;
    for (let i = 0; i < 3; i++) {
      now += 90 * 60_000;
      const live = await sessions.verify(token);
      expect(live?.lastSeenAt).toBe(now);
      expect(live?.expiresAt).toBe(Math.min(created + 5 * HOUR, now + 2 * HOUR));
    }
    now = created + 5 * HOUR;
    expect(await sessions.verify(token)).toBeUndefined();
  });

  it("ends a session left idle past the idle timeout", async () => {
    const sessions = createSessionStore(temp.database, { clock, idleTimeoutMs: HOUR });
    const { token } = await sessions.create();
    now += HOUR;
    expect(await sessions.verify(token)).toBeUndefined();
  });

  it("revokes one or all sessions, and sweeps expired and revoked ones", async () => {
    const sessions = createSessionStore(temp.database, { clock, idleTimeoutMs: HOUR });
    const a = await sessions.create();
    const b = await sessions.create();
    const c = await sessions.create();
    expect(await sessions.revoke(a.token)).toBe(true);
    expect(await sessions.revoke(a.token)).toBe(false);
    expect(await sessions.verify(a.token)).toBeUndefined();
    expect(await sessions.verify(b.token)).toBeDefined();
    expect(await sessions.revokeAll()).toBe(2);
    expect(await sessions.verify(b.token)).toBeUndefined();
    expect(await sessions.verify(c.token)).toBeUndefined();
    const d = await sessions.create();
    now += 30 * 60_000;
    const e = await sessions.create();
    now += 31 * 60_000;
    expect(await sessions.sweep()).toBe(4);
    expect((await temp.database.db.select().from(adminSessions)).map((r) => r.id)).toEqual([
      await sha256Hex(e.token),
    ]);
    expect(await sessions.verify(d.token)).toBeUndefined();
    expect(await sessions.verify(e.token)).toBeDefined();
  });
});
