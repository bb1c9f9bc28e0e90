import { type Clock, systemClock } from "@codex-img/core";
import { and, desc, eq, gte, lt, type SQL } from "drizzle-orm";
import type { Database } from "./create-db.js";
import { createLibsqlSession } from "./libsql-session.js";
import { decodeCursor, encodeCursor } from "./page-cursor.js";
import { auditLog } from "./schema/keys.js";

export interface AuditEntryInput {
  /** `admin`, `key:<id>` or `system`. */
  actor: string;
  /** Dotted verb: `key.create`, `key.rotate`, `settings.update`, `auth.login_failed`, … */
  action: string;
  /** `key`, `account`, `setting`, `session`, `job`, … */
  targetType?: string;
  targetId?: string;
  /** Structured facts; never secrets (no raw keys, tokens or passwords). */
  details?: Record<string, unknown>;
  ip?: string;
  userAgent?: string;
  /** Epoch ms; default now. */
  at?: number;
}

export interface AuditEntry {
  id: number;
  at: number;
  actor: string;
  action: string;
  targetType: string | null;
  targetId: string | null;
  details: Record<string, unknown> | null;
  ip: string | null;
  userAgent: string | null;
}

export interface AuditQuery {
  cursor?: string;
  /** 1 to 200; default 50. */
  limit?: number;
  action?: string;
  targetType?: string;
  targetId?: string;
  /** Epoch ms, inclusive. */
  since?: number;
  /** Epoch ms, exclusive. */
  until?: number;
}

export interface AuditLog {
  record(entry: AuditEntryInput): Promise<AuditEntry>;
  /** Newest first, keyset-paged by id. */
  list(query?: AuditQuery): Promise<{ items: AuditEntry[]; nextCursor?: string }>;
}

export function createAuditLog(database: Database, options: { clock?: Pick<Clock, "now"> } = {}): AuditLog {
  const { db } = database;
  const session = createLibsqlSession(database);
  const clock = options.clock ?? systemClock;
  return {
    async record(entry) {
      const [row] = await session.exclusive(() =>
        db
          .insert(auditLog)
          .values({
            at: entry.at ?? clock.now(),
            actor: entry.actor,
            action: entry.action,
            targetType: entry.targetType ?? null,
            targetId: entry.targetId ?? null,
            details: entry.details ?? null,
            ip: entry.ip ?? null,
            userAgent: entry.userAgent ?? null,
          })
          .returning(),
      );
      return row as AuditEntry;
    },

    async list(query = {}) {
      const limit = Math.min(200, Math.max(1, Math.trunc(query.limit ?? 50)));
      const where: SQL[] = [];
      if (query.cursor !== undefined)
        where.push(lt(auditLog.id, decodeCursor(query.cursor, ["number"])[0] as number));
      if (query.action !== undefined) where.push(eq(auditLog.action, query.action));
      if (query.targetType !== undefined) where.push(eq(auditLog.targetType, query.targetType));
      if (query.targetId !== undefined) where.push(eq(auditLog.targetId, query.targetId));
      if (query.since !== undefined) where.push(gte(auditLog.at, query.since));
      if (query.until !== undefined) where.push(lt(auditLog.at, query.until));
      const rows = await db
        .select()
        .from(auditLog)
        .where(and(...where))
        .orderBy(desc(auditLog.id))
        .limit(limit + 1);
      const items = rows.slice(0, limit) as AuditEntry[];
      const last = items.at(-1);
      return rows.length > limit && last ? { items, nextCursor: encodeCursor([last.id]) } : { items };
    },
  };
}
