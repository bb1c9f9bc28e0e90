import { type Clock, systemClock } from "@codex-img/core";
import { and, eq, isNull, lte, or, sql } from "drizzle-orm";
import type { Database } from "./create-db.js";
import { createLibsqlSession } from "./libsql-session.js";
import { randomToken } from "./random-token.js";
import { adminSessions } from "./schema/keys.js";
import { sha256Hex } from "./sha256-hex.js";

/** An admin session as stored: `id` is the SHA-256 of the cookie token, never the token. */
export interface AdminSession {
  id: string;
  /** SHA-256 hex of the CSRF token; compare with `checkCsrf`. */
  csrfHash: string;
  createdAt: number;
  lastSeenAt: number;
  expiresAt: number;
  ip: string | null;
  userAgent: string | null;
}

export interface SessionStore {
  /** The tokens are returned once: `token` for the cookie, `csrfToken` for the page to send back on mutations. */
  create(input?: { ip?: string; userAgent?: string }): Promise<{
    session: AdminSession;
    token: string;
    csrfToken: string;
  }>;
  /** The live session for a cookie token, its idle expiry slid forward; undefined when unknown, revoked or expired. */
  verify(token: string): Promise<AdminSession | undefined>;
  /** Whether `csrfToken` is the one bound to `session` (constant-time over the hashes). */
  checkCsrf(session: AdminSession, csrfToken: string): Promise<boolean>;
  /** Logout. Returns false when there was no live session for the token. */
  revoke(token: string): Promise<boolean>;
  /** Ends every live session (password change, "log out everywhere"); returns how many. */
  revokeAll(): Promise<number>;
  /** Deletes expired and revoked sessions; returns how many. */
  sweep(now?: number): Promise<number>;
}

export interface SessionStoreOptions {
  clock?: Pick<Clock, "now">;
  /** A session ends after this long without a request. Default 12 h. */
  idleTimeoutMs?: number;
  /** A session ends this long after login whatever its use. Default 7 days. */
  absoluteTimeoutMs?: number;
}

/** `verify` writes the slid expiry at most this often, so page loads are not a write each. */
const SLIDE_WRITE_INTERVAL_MS = 60_000;

export function createSessionStore(database: Database, options: SessionStoreOptions = {}): SessionStore {
  const { db } = database;
  const writes = createLibsqlSession(database);
  const clock = options.clock ?? systemClock;
  const idleMs = options.idleTimeoutMs ?? 12 * 3_600_000;
  const absoluteMs = options.absoluteTimeoutMs ?? 7 * 24 * 3_600_000;

  return {
    async create(input = {}) {
      const token = randomToken(32);
      const csrfToken = randomToken(32);
      const now = clock.now();
      const row = {
        id: await sha256Hex(token),
        csrfHash: await sha256Hex(csrfToken),
        createdAt: now,
        lastSeenAt: now,
        expiresAt: now + Math.min(idleMs, absoluteMs),
        ip: input.ip ?? null,
        userAgent: input.userAgent ?? null,
      };
      await writes.exclusive(() => db.insert(adminSessions).values(row));
      return { session: row, token, csrfToken };
    },

    async verify(token) {
      if (typeof token !== "string" || token.length === 0) return undefined;
      const id = await sha256Hex(token);
      const row = await db.query.adminSessions.findFirst({ where: eq(adminSessions.id, id) });
      const now = clock.now();
      if (!row || row.revokedAt !== null || row.expiresAt <= now) return undefined;
      const session: AdminSession = {
        id: row.id,
        csrfHash: row.csrfHash,
        createdAt: row.createdAt,
        lastSeenAt: row.lastSeenAt,
        expiresAt: row.expiresAt,
        ip: row.ip,
        userAgent: row.userAgent,
      };
      if (now - row.lastSeenAt < SLIDE_WRITE_INTERVAL_MS) return session;
      const expiresAt = Math.min(row.createdAt + absoluteMs, now + idleMs);
      // Guarded on revoked_at so a logout that lands in between is not undone.
      await writes.exclusive(() =>
        db
          .update(adminSessions)
          .set({ lastSeenAt: now, expiresAt })
          .where(and(eq(adminSessions.id, id), isNull(adminSessions.revokedAt))),
      );
      return { ...session, lastSeenAt: now, expiresAt };
    },

    async checkCsrf(session, csrfToken) {
      if (typeof csrfToken !== "string" || csrfToken.length === 0) return false;
      return equalHex(await sha256Hex(csrfToken), session.csrfHash);
    },

    async revoke(token) {
      const id = await sha256Hex(token);
      const rows = await writes.exclusive(() =>
        db
          .update(adminSessions)
          .set({ revokedAt: clock.now() })
          .where(and(eq(adminSessions.id, id), isNull(adminSessions.revokedAt)))
          .returning({ id: adminSessions.id }),
      );
      return rows.length > 0;
    },

    async revokeAll() {
      const now = clock.now();
      const rows = await writes.exclusive(() =>
        db
          .update(adminSessions)
          .set({ revokedAt: now })
          .where(and(isNull(adminSessions.revokedAt), sql`${adminSessions.expiresAt} > ${now}`))
          .returning({ id: adminSessions.id }),
      );
      return rows.length;
    },

    async sweep(now = clock.now()) {
      const rows = await writes.exclusive(() =>
        db
          .delete(adminSessions)
          .where(or(lte(adminSessions.expiresAt, now), sql`${adminSessions.revokedAt} IS NOT NULL`))
          .returning({ id: adminSessions.id }),
      );
      return rows.length;
    },
  };
}

function equalHex(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}
